"""A department's routing rules and teams in the workbench (issue 16).

Who may do what is accounts/roles.py's: admins and a department's supervisors write its rules and
teams (`can_manage_routing`); its staff read them, so they can see why an issue came to them
(`routing_department_ids`); nobody sees another department's. Every list is scoped in
`get_queryset`, every choice in a form is limited to the departments the person manages, and the
lists filter only through what they offer (OfferedFiltersOnly). Applying the rules to issues is
issues/services/routing.py's work."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from accounts.models import User
from departments.models import Department, RoutingRule, ServiceType, Team, Ward


def _managed(user) -> QuerySet[Department]:
    """The departments whose rules `user` may write."""
    if roles.is_admin(user):
        return Department.objects.all()
    return Department.objects.filter(pk__in=roles.supervised_department_ids(user))


def _staff_of(departments) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, departments__in=departments)
        .distinct()
        .order_by("display_name", "email")
    )


class ScopedRoutingAdmin(OfferedFiltersOnly, admin.ModelAdmin):
    """Read: the department's staff, its supervisors, admins. Write: supervisors and admins."""

    list_filter = ["active"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        departments = roles.routing_department_ids(request.user)
        if departments is None:
            return queryset
        return queryset.filter(department_id__in=departments)

    def has_module_permission(self, request):
        departments = roles.routing_department_ids(request.user)
        return departments is None or bool(departments)

    def has_view_permission(self, request, obj=None):
        departments = roles.routing_department_ids(request.user)
        if obj is None:
            return departments is None or bool(departments)
        return departments is None or obj.department_id in departments

    def has_add_permission(self, request):
        return roles.can_manage_routing(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.can_manage_routing(request.user, obj.department_id if obj else None)

    def has_delete_permission(self, request, obj=None):
        return roles.can_manage_routing(request.user, obj.department_id if obj else None)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.managed = _managed(request.user)
        return form


class ManagedForm(forms.ModelForm):
    """Choices limited to the departments the person manages (set by the admin's get_form)."""

    managed = Department.objects.none()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit("department", self.managed)

    def limit(self, name: str, queryset: QuerySet) -> None:
        # A person who may only read gets no form fields (the admin shows them read-only).
        if name in self.fields:
            self.fields[name].queryset = queryset

    def _check_people(self, people, department, field: str) -> None:
        outsiders = [p for p in people if not roles.can_assign_to(p, _AtDepartment(department))]
        if outsiders:
            self.add_error(
                field,
                _("Not active staff of %(d)s: %(who)s.")
                % {"d": department, "who": ", ".join(p.get_full_name() for p in outsiders)},
            )


class _AtDepartment:
    """What roles.can_assign_to reads of an issue, for a rule's or team's department."""

    def __init__(self, department: Department):
        self.department_id, self.ward_id = department.pk, None


class TeamForm(ManagedForm):
    class Meta:
        model = Team
        fields = ["department", "name", "members"]
        widgets = {"members": FilteredSelectMultiple(_("members"), is_stacked=False)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit("members", _staff_of(self.managed))

    def clean(self):
        data = super().clean()
        if data.get("department") is not None:
            self._check_people(data.get("members") or [], data["department"], "members")
        return data


@admin.register(Team)
class TeamAdmin(ScopedRoutingAdmin):
    """A named group of a department's staff that takes issues in turn."""

    form = TeamForm
    list_display = ["name", "department", "member_names"]
    list_filter = [("department", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    readonly_fields = ["last_assigned"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("department").prefetch_related("members")
        )

    @admin.display(description=_("members"))
    def member_names(self, obj):
        return ", ".join(m.get_full_name() for m in obj.members.all()) or "—"


class RoutingRuleForm(ManagedForm):
    class Meta:
        model = RoutingRule
        fields = [
            "department",
            "name",
            "position",
            "active",
            "service_types",
            "wards",
            "area",
            "team",
            "assignee",
            "priority",
        ]
        widgets = {
            "service_types": FilteredSelectMultiple(_("types"), is_stacked=False),
            "wards": FilteredSelectMultiple(_("wards"), is_stacked=False),
            "area": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = ServiceType.objects.filter(department__in=self.managed).order_by("name")
        self.limit("service_types", types)
        self.limit("wards", Ward.objects.order_by("number"))
        self.limit("team", Team.objects.filter(department__in=self.managed))
        self.limit("assignee", _staff_of(self.managed))

    def clean(self):
        data = super().clean()
        department = data.get("department")
        if department is None:
            return data
        foreign = [t for t in data.get("service_types") or [] if t.department_id != department.pk]
        if foreign:
            self.add_error(
                "service_types",
                _("Not types of %(d)s: %(t)s.")
                % {"d": department, "t": ", ".join(t.name for t in foreign)},
            )
        if data.get("assignee") is not None:
            self._check_people([data["assignee"]], department, "assignee")
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(ScopedRoutingAdmin):
    """A department's rules, in the order they are tried: the first match wins."""

    form = RoutingRuleForm
    list_display = [
        "position",
        "name",
        "department",
        "types",
        "place",
        "target",
        "priority",
        "active",
    ]
    list_display_links = ["name"]
    list_filter = ["active", ("department", admin.RelatedOnlyFieldListFilter), "priority"]
    search_fields = ["name"]
    ordering = ["department__name", "position", "pk"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("department", "team", "assignee")
            .prefetch_related("service_types", "wards")
        )

    @admin.display(description=_("types"))
    def types(self, obj):
        return ", ".join(t.name for t in obj.service_types.all()) or _("any")

    @admin.display(description=_("where"))
    def place(self, obj):
        wards = ", ".join(str(w.number) for w in obj.wards.all())
        parts = [_("wards %(n)s") % {"n": wards}] if wards else []
        if obj.area:
            parts.append(_("drawn area"))
        return " + ".join(map(str, parts)) or _("anywhere")

    @admin.display(description=_("goes to"))
    def target(self, obj):
        if obj.team_id:
            return _("team %(t)s, in turn") % {"t": obj.team.name}
        if obj.assignee_id:
            return obj.assignee.get_full_name()
        return "—"
