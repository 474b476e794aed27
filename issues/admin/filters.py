"""The queue's filters. Each filter offers only what the person may see: a staff member's choices
name their own departments' types, never another department's work."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts import roles
from departments.models import Department, Priority, ServiceType, Ward
from issues.models import OPEN_STATUSES, Status, UpstreamKind, UpstreamSend, UpstreamState


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Any open status")), *Status.choices]

    def value(self):
        # The queue opens on open issues: the work still to do (issue 16); "all" shows every
        # status.
        return super().value() or "open"

    def choices(self, changelist):
        value = self.value()
        yield {
            "selected": value == "all",
            "query_string": changelist.get_query_string({self.parameter_name: "all"}),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset


def _int_or_refuse(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise admin.options.IncorrectLookupParameters(value) from None


class _ScopedChoiceFilter(admin.SimpleListFilter):
    """A filter whose choices a staff member sees only for their own departments (admins and
    aldermen see all), so the sidebar never names another department's work."""

    field: str  # the Issue column filtered on
    scope: str  # the choice model's path to its department's id

    def choices_queryset(self):
        raise NotImplementedError

    def lookups(self, request, model_admin):
        choices = self.choices_queryset().order_by("name")
        if not roles.is_admin(request.user) and not roles.is_alderman(request.user):
            choices = choices.filter(**{f"{self.scope}__in": roles.department_ids(request.user)})
        return [(c.pk, c.name) for c in choices]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field: _int_or_refuse(self.value())})
        return queryset


class DepartmentFilter(_ScopedChoiceFilter):
    title = _("department")
    parameter_name = "department"
    field, scope = "department_id", "pk"

    def choices_queryset(self):
        return Department.objects.all()


class ServiceTypeFilter(_ScopedChoiceFilter):
    title = _("type")
    parameter_name = "type"
    field, scope = "service_type_id", "department_id"

    def choices_queryset(self):
        return ServiceType.objects.all()


class WardFilter(admin.SimpleListFilter):
    title = _("ward")
    parameter_name = "ward"

    def lookups(self, request, model_admin):
        return [("none", _("No ward"))] + [
            (number, _("Ward %(n)s") % {"n": number})
            for number in Ward.objects.order_by("number").values_list("number", flat=True)
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(ward__isnull=True)
        if value:
            return queryset.filter(ward__number=_int_or_refuse(value))
        return queryset


class _YesNoFilter(admin.SimpleListFilter):
    """A filter on one boolean column: "yes" keeps the true rows, "no" the false ones."""

    field: str
    yes_label: str
    no_label: str

    def lookups(self, request, model_admin):
        return [("yes", self.yes_label), ("no", self.no_label)]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{self.field: self.value() == "yes"})
        return queryset


class OverdueFilter(_YesNoFilter):
    title = _("overdue")
    parameter_name = "overdue"
    field, yes_label, no_label = "queue_overdue", _("Overdue"), _("Not overdue")


class AssignmentFilter(admin.SimpleListFilter):
    title = _("assignment")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [
            ("me", _("Assigned to me")),
            ("none", _("Unassigned")),
            ("other", _("Assigned to someone")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "other":
            return queryset.filter(assignee__isnull=False)
        return queryset


class PriorityFilter(admin.SimpleListFilter):
    title = _("priority")
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        return [("high_up", _("High or urgent")), *reversed(Priority.choices)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "high_up":
            return queryset.filter(priority__in=[Priority.URGENT, Priority.HIGH])
        if value in Priority.values:
            return queryset.filter(priority=value)
        return queryset


class TriageFilter(_YesNoFilter):
    title = _("triage")
    parameter_name = "triage"
    field, yes_label, no_label = "needs_triage", _("Needs a place (no ward)"), _("Placed")


class OpenedFilter(admin.DateFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("opened")


class CitySystemFilter(admin.SimpleListFilter):
    """Reports and the city's own system: sent (with its reference), waiting, or failed (with
    the city's reason on the issue page, and "Send again")."""

    title = _("city's system")
    parameter_name = "city"

    def lookups(self, request, model_admin):
        return [
            (UpstreamState.SENT, _("Sent")),
            (UpstreamState.PENDING, _("Waiting to be sent")),
            (UpstreamState.FAILED, _("Failed: needs staff")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in UpstreamState.values:
            return queryset
        sends = UpstreamSend.objects.filter(
            issue=OuterRef("pk"), kind=UpstreamKind.REPORT, state=self.value()
        )
        return queryset.filter(Exists(sends))
