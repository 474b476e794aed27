"""The staff workbench: the Django admin as each department's work queue.

Who sees what comes from accounts/roles.py alone: the queue is scoped in `get_queryset`, the
per-object checks are the `has_*_permission` methods, and the work itself (status, assignment,
transfer, notes, moderation, placing a point) goes through issues/services.py. No admin form ever
saves an Issue row directly: the issue change page is read-only and its work forms post to small
views here that call the services, so the admin and every other door obey the same rules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from departments import rollups
from departments.models import Department, ResponseTemplate, ServiceType, Ward
from issues import outbox, services
from issues.models import (
    DESCRIPTION_MAX,
    OPEN_STATUSES,
    Comment,
    EmailOptOut,
    HotspotAlert,
    Issue,
    Notification,
    Photo,
    Status,
    StatusChange,
    Subscription,
    Vote,
    normalize_public_id,
)

# Statuses in workflow order, so menus read like the process.
STATUS_ORDER = [s.value for s in Status]
# How many refusals a bulk action spells out before summarising the rest.
REFUSALS_SHOWN = 10


# --- shared reads of the workbench ----------------------------------------------------------


def response_templates_for(department_ids, *, status: str | None = None):
    """Active templates a department may use: its own and the city-wide ones."""
    templates = ResponseTemplate.objects.filter(active=True).filter(
        Q(department__isnull=True) | Q(department_id__in=list(department_ids))
    )
    if status:
        templates = templates.filter(Q(status="") | Q(status=status))
    return templates.select_related("department").order_by("title")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "change" | "transfer" | "comment" | "note"
    item: StatusChange | Comment


def staff_timeline(issue: Issue, *, include_internal: bool) -> list[TimelineEntry]:
    """Status changes, transfers, comments and (for the department) internal notes, oldest
    first, hidden ones included: staff must see what the public no longer does."""
    changes = issue.status_changes.select_related("changed_by", "from_department", "to_department")
    comments = issue.comments.select_related("author")
    if not include_internal:
        comments = comments.filter(is_internal=False)
    entries = [
        TimelineEntry(c.created_at, "transfer" if c.is_transfer and c.from_status else "change", c)
        for c in changes
    ]
    entries += [
        TimelineEntry(c.created_at, "note" if c.is_internal else "comment", c) for c in comments
    ]
    entries.sort(key=lambda e: (e.at, 0 if e.kind in ("change", "transfer") else 1, e.item.pk))
    return entries


# --- the work forms on the issue page ------------------------------------------------------


class ResponseMessageForm(forms.Form):
    """A public message to residents, written or taken from one of the department's response
    templates: the status form and the bulk close share it."""

    template = forms.ModelChoiceField(
        label=_("Response template"),
        queryset=ResponseTemplate.objects.none(),
        required=False,
        empty_label=_("— write my own —"),
    )
    message = forms.CharField(
        label=_("Public message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=DESCRIPTION_MAX,
    )

    def message_or_template(self, data: dict) -> str:
        """The written message, or the chosen template's text when none was written."""
        message = (data.get("message") or "").strip()
        if not message and data.get("template"):
            message = data["template"].body
        return message


class StatusForm(ResponseMessageForm):
    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    field_order = ["to", "template", "message"]

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = services.ALLOWED_TRANSITIONS[issue.status]
        # Validation accepts every status so a stale page gets the workflow's own reason
        # ("a closed issue cannot become acknowledged"), not "select a valid choice".
        self.fields["to"].widget.choices = [
            (s, Status(s).label) for s in STATUS_ORDER if s in allowed
        ]
        self.fields["template"].queryset = response_templates_for([issue.department_id])
        self.fields["message"].help_text = _(
            "Shown on the public page and emailed to the reporter and followers."
        )

    def clean(self):
        data = super().clean()
        data["message"] = self.message_or_template(data)
        return data


class CommentForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Who sees it"),
        choices=[
            ("internal", _("Internal note: staff only")),
            ("public", _("Public comment: everyone, and emailed to followers")),
        ],
        initial="internal",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=DESCRIPTION_MAX
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=None,
        required=False,
        empty_label=_("Nobody (back to the unassigned queue)"),
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import User

        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, departments=issue.department_id
        ).order_by("display_name", "email")
        self.fields["assignee"].initial = issue.assignee_id


class TransferForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Send to"), queryset=None)
    message = forms.CharField(
        label=_("Note for the new department"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=DESCRIPTION_MAX,
    )

    def __init__(self, *args, issue: Issue | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.order_by("name")
        if issue is not None:
            departments = departments.exclude(pk=issue.department_id)
        self.fields["department"].queryset = departments


class ModerateForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("issue", _("issue")), ("comment", _("comment")), ("photo", _("photo"))],
        widget=forms.HiddenInput,
    )
    target_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    hidden = forms.TypedChoiceField(
        choices=[("1", _("Hide")), ("0", _("Show again"))],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=255)

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.issue = issue

    def clean(self):
        data = super().clean()
        kind, target_id = data.get("kind"), data.get("target_id")
        if not kind or not target_id:
            return data
        if kind == "issue":
            target = self.issue if target_id == self.issue.pk else None
        else:
            model = Comment if kind == "comment" else Photo
            target = model.objects.filter(issue=self.issue, pk=target_id).first()
        if target is None:
            raise ValidationError(_("That item is not part of this issue."))
        data["target"] = target
        return data


class PlaceForm(forms.Form):
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    address = forms.CharField(label=_("Address"), required=False, max_length=255)

    def __init__(self, *args, issue: Issue, **kwargs):
        kwargs.setdefault(
            "initial",
            {"latitude": issue.latitude, "longitude": issue.longitude, "address": issue.address},
        )
        super().__init__(*args, **kwargs)


WORK_FORMS = {
    "status": StatusForm,
    "comment": CommentForm,
    "assign": AssignForm,
    "transfer": TransferForm,
    "moderate": ModerateForm,
    "place": PlaceForm,
}


# --- the bulk actions' intermediate forms ---------------------------------------------------


class BulkCloseForm(ResponseMessageForm):
    def __init__(self, *args, department_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = response_templates_for(
            department_ids, status=Status.CLOSED
        )
        self.fields["message"].help_text = _("Leave empty to send the template's text.")

    def clean(self):
        data = super().clean()
        message = self.message_or_template(data)
        if not message:
            raise ValidationError(
                _("Pick a response template or write a message: residents are told why.")
            )
        data["message"] = message
        return data


# --- the queue's filters ------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Any open status")), *Status.choices]

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


class TriageFilter(_YesNoFilter):
    title = _("triage")
    parameter_name = "triage"
    field, yes_label, no_label = "needs_triage", _("Needs a place (no ward)"), _("Placed")


class OpenedFilter(admin.DateFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("opened")


# --- the queue ------------------------------------------------------------------------------


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "service_type",
        "status_badge",
        "age",
        "due",
        "ward_number",
        "address",
        "department",
        "assignee_name",
        "vote_count",
    ]
    list_display_links = ["public_id"]
    # Empty, not False: False makes the changelist add select_related() for the FK columns,
    # undoing the prefetch in get_queryset.
    list_select_related = ()
    list_filter = [
        StatusFilter,
        DepartmentFilter,
        ServiceTypeFilter,
        WardFilter,
        OverdueFilter,
        AssignmentFilter,
        TriageFilter,
        ("requested_at", OpenedFilter),
        "is_hidden",
        "source",
    ]
    search_fields = ["public_id", "address", "description"]
    search_help_text = _("Search by request id (like K7M2-9QXR), address or description.")
    list_per_page = 50
    # A full count on every page load is a second COUNT over the whole queue; the filtered count
    # is what staff read.
    show_full_result_count = False
    actions = ["acknowledge", "assign_to_me", "start_work", "close_with_template", "transfer"]
    fieldsets = [
        (
            _("Request"),
            {
                "fields": [
                    "public_id",
                    "service_type",
                    "department",
                    "status",
                    "status_notes",
                    "ward",
                    "needs_triage",
                    "assignee",
                    "vote_count",
                ]
            },
        ),
        (
            _("Time"),
            {"fields": ["requested_at", "expected_at", "updated_at", "closed_at", "source"]},
        ),
        (
            _("The resident's report"),
            {
                "fields": [
                    "description",
                    "address",
                    "zipcode",
                    "latitude",
                    "longitude",
                    "answers",
                    "media_url",
                ]
            },
        ),
        (
            _("Reporter (private: never shown publicly)"),
            {
                "fields": [
                    "reporter",
                    "reporter_name",
                    "reporter_email",
                    "reporter_phone",
                    "hide_reporter_name",
                ]
            },
        ),
        (_("Moderation"), {"fields": ["is_hidden", "hidden_reason"]}),
    ]
    readonly_fields = ["answers"]

    class Media:
        css = {"all": ["css/admin.css"]}

    # -- who sees what (all from accounts/roles.py) --

    def get_queryset(self, request):
        now = timezone.now()
        # Not super(): its ordering names the annotations below before they exist.
        # prefetch, not select_related: with joins PostgreSQL joins every open issue before it
        # sorts and keeps 50 (2.7 s at 100k issues); without, it sorts the issue table alone and
        # four small queries fetch the names for the page.
        queryset = (
            self.model._default_manager.get_queryset()
            .prefetch_related("service_type", "department", "ward", "assignee")
            .annotate(
                queue_rank=Case(
                    When(status__in=OPEN_STATUSES, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                ),
                queue_overdue=Case(
                    When(status__in=OPEN_STATUSES, expected_at__lt=now, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
            )
        )
        queryset = queryset.order_by(*self.get_ordering(request))
        return roles.visible_issues_for_staff(request.user, queryset)

    def get_ordering(self, request):
        # Oldest open first: the head of the queue is what has waited longest. When the status
        # filter already keeps one side only, the rank is constant; leaving it out lets
        # PostgreSQL walk the requested_at index instead of sorting every row.
        if request.GET.get("status", "") in ("open", *Status.values):
            return ["requested_at", "pk"]
        return ["queue_rank", "requested_at", "pk"]

    def has_module_permission(self, request):
        return roles.needs_admin_access(request.user)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return roles.needs_admin_access(request.user)
        return roles.can_view_issue_in_admin(request.user, obj)

    def has_change_permission(self, request, obj=None):
        # Never a raw row edit: every change is a service call from a work form or an action.
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_work_permission(self, request, obj=None):
        if obj is None:
            return roles.can_work_queue(request.user)
        return roles.can_work_issue(request.user, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not roles.can_work_issue(request.user, obj):
            # Aldermen read the issue, not the reporter's private contact details.
            fieldsets = [fs for fs in fieldsets if "reporter_email" not in fs[1]["fields"]]
        return fieldsets

    def view_on_site(self, obj):
        # A hidden issue has no public page: no link that would only lead to a 404.
        return None if obj.is_hidden else obj.get_absolute_url()

    def _visible_or_404(self, request, object_id) -> Issue:
        """The issue if this person may see it; otherwise 404, the same answer as for an id that
        does not exist, so typing another department's URL reveals nothing."""
        obj = self.get_object(request, unquote(str(object_id)))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(_("No such issue in your queues."))
        return obj

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # People read ids over the phone: "k7m2 9qxr" and "K7M29QXR" find K7M2-9QXR.
            results = results | queryset.filter(public_id=normalize_public_id(term))
        return results, may_have_duplicates

    # -- columns --

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="cf-status cf-status-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=_("age"), ordering="requested_at")
    def age(self, obj):
        end = obj.closed_at if obj.closed_at and not obj.is_open else timezone.now()
        return timesince(obj.requested_at, end, depth=1)

    @admin.display(description=_("due"), ordering="expected_at")
    def due(self, obj):
        if not obj.expected_at:
            return "—"
        when = date_format(timezone.localtime(obj.expected_at), "SHORT_DATETIME_FORMAT")
        if getattr(obj, "queue_overdue", obj.is_overdue):
            return format_html(
                '<span class="cf-overdue" title="{}">⚠ {} <span class="cf-overdue-label">{}</span></span>',
                _("Past the expected response time"),
                when,
                _("overdue"),
            )
        return when

    @admin.display(description=_("ward"), ordering="ward__number")
    def ward_number(self, obj):
        if obj.ward_id is None:
            return format_html('<span class="cf-triage">{}</span>', _("none – triage"))
        return obj.ward.number

    @admin.display(description=_("assignee"), ordering="assignee__display_name")
    def assignee_name(self, obj):
        return obj.assignee.get_full_name() if obj.assignee_id else "—"

    @admin.display(description=_("answers"))
    def answers(self, obj):
        if not obj.attributes:
            return "—"
        labels = dict(obj.service_type.attributes.values_list("code", "description"))
        return format_html_join(
            "\n",
            "<div><strong>{}</strong>: {}</div>",
            (
                (
                    labels.get(code, code),
                    ", ".join(map(str, v)) if isinstance(v, list) else v,
                )
                for code, v in obj.attributes.items()
            ),
        )

    # -- the issue page: read-only record plus work forms --

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self._visible_or_404(request, object_id)
        can_work = roles.can_work_issue(request.user, issue)
        bound = (extra_context or {}).pop("bound_forms", {})
        work_forms = {}
        if can_work:
            for key, form_class in WORK_FORMS.items():
                work_forms[key] = bound.get(key) or form_class(issue=issue)
        templates = list(response_templates_for([issue.department_id]))
        context = {
            **(extra_context or {}),
            "issue": issue,
            "can_work": can_work,
            "work_forms": work_forms,
            "timeline": staff_timeline(issue, include_internal=can_work),
            "photos": list(issue.photos.all()),
            "template_bodies": {str(t.pk): t.body for t in templates},
            "map_tiles": {
                "url": settings.MAP_TILE_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
            },
            "show_delete": roles.is_admin(request.user),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    # An admin's delete is the one write here that is not a service call: the dashboards'
    # rollup (departments/rollups.py) must uncount the rows in the same transaction.
    def delete_model(self, request, obj):
        with transaction.atomic():
            rollups.subtract_issues([obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            rollups.subtract_issues(list(queryset.values_list("pk", flat=True)))
            super().delete_queryset(request, queryset)

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/work/<str:what>/",
                self.admin_site.admin_view(self.work_view),
                name="issues_issue_work",
            )
        ]
        return urls + super().get_urls()

    def work_view(self, request, object_id, what):
        """One work form posted from the issue page: validate, call the service, come back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form_class = WORK_FORMS.get(what)
        if form_class is None:
            raise Http404(_("No such form."))
        issue = self._visible_or_404(request, object_id)
        if not roles.can_work_issue(request.user, issue):
            raise PermissionDenied(_("You can read this issue but not work on it."))
        form = form_class(request.POST, issue=issue)
        if form.is_valid():
            try:
                done = getattr(self, f"_do_{what}")(request, issue, form.cleaned_data)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, done)
                if self.has_view_permission(request, Issue.objects.get(pk=issue.pk)):
                    target = reverse("admin:issues_issue_change", args=[issue.pk])
                else:  # transferred out of this person's queues
                    target = reverse("admin:issues_issue_changelist")
                return HttpResponseRedirect(target)
        # Show the page again with the form's errors and what was typed, as a 400.
        as_get = copy.copy(request)
        as_get.method = "GET"
        response = self.change_view(as_get, object_id, extra_context={"bound_forms": {what: form}})
        response.status_code = 400
        messages.error(request, _("Nothing was changed: see the message by the form."))
        return response

    def _do_status(self, request, issue, data):
        services.change_status(issue=issue, to=data["to"], by=request.user, message=data["message"])
        return _("Status is now %(s)s.") % {"s": Status(data["to"]).label.lower()}

    def _do_comment(self, request, issue, data):
        internal = data["visibility"] == "internal"
        services.add_comment(issue=issue, author=request.user, body=data["body"], internal=internal)
        return _("Internal note added.") if internal else _("Public comment added.")

    def _do_assign(self, request, issue, data):
        services.assign_issue(issue=issue, assignee=data["assignee"], by=request.user)
        if data["assignee"] is None:
            return _("The issue is unassigned.")
        return _("Assigned to %(who)s.") % {"who": data["assignee"].get_full_name()}

    def _do_transfer(self, request, issue, data):
        services.transfer_issue(
            issue=issue, to_department=data["department"], by=request.user, message=data["message"]
        )
        return _("Transferred to %(d)s; they have been told.") % {"d": data["department"]}

    def _do_moderate(self, request, issue, data):
        services.set_hidden(
            target=data["target"], hidden=data["hidden"], by=request.user, reason=data["reason"]
        )
        if data["hidden"]:
            return _("Hidden from the public. Staff still see it.")
        return _("Shown to the public again.")

    def _do_place(self, request, issue, data):
        placed = services.place_issue(
            issue=issue,
            latitude=data["latitude"],
            longitude=data["longitude"],
            address=data["address"],
            by=request.user,
        )
        return _("Placed in %(w)s.") % {"w": placed.ward}

    # -- bulk actions: each issue through the service, each on its own --

    def _report(self, request, changed, refused, done_message, **extra):
        if changed:
            messages.success(request, done_message % {"n": len(changed), **extra})
        if refused:
            lines = [f"{issue.public_id}: {reason}" for issue, reason in refused[:REFUSALS_SHOWN]]
            more = len(refused) - REFUSALS_SHOWN
            if more > 0:
                lines.append(ngettext("…and %(n)d more.", "…and %(n)d more.", more) % {"n": more})
            messages.warning(
                request,
                ngettext(
                    "%(n)d issue was left as it was: %(why)s",
                    "%(n)d issues were left as they were: %(why)s",
                    len(refused),
                )
                % {"n": len(refused), "why": " · ".join(lines)},
            )

    def _bulk_status(self, request, queryset, to: str, message: str = ""):
        changed, refused = services.bulk_change_status(
            issues=list(queryset), to=to, by=request.user, message=message
        )
        self._report(
            request,
            changed,
            refused,
            ngettext("%(n)d issue is now %(s)s.", "%(n)d issues are now %(s)s.", len(changed)),
            s=Status(to).label.lower(),
        )

    @admin.action(description=_("Acknowledge"), permissions=["work"])
    def acknowledge(self, request, queryset):
        self._bulk_status(request, queryset, Status.ACKNOWLEDGED)

    @admin.action(description=_("Start work (in progress)"), permissions=["work"])
    def start_work(self, request, queryset):
        self._bulk_status(request, queryset, Status.IN_PROGRESS)

    @admin.action(description=_("Assign to me"), permissions=["work"])
    def assign_to_me(self, request, queryset):
        changed, refused = services.bulk_assign(
            issues=list(queryset), assignee=request.user, by=request.user
        )
        self._report(
            request,
            changed,
            refused,
            ngettext("%(n)d issue assigned to you.", "%(n)d issues assigned to you.", len(changed)),
        )

    @admin.action(description=_("Close with a response…"), permissions=["work"])
    def close_with_template(self, request, queryset):
        issues = list(queryset)
        department_ids = {i.department_id for i in issues}
        applying = "apply" in request.POST
        form = BulkCloseForm(request.POST if applying else None, department_ids=department_ids)
        if applying and form.is_valid():
            self._bulk_status(request, issues, Status.CLOSED, form.cleaned_data["message"])
            return None
        return self._intermediate(
            request,
            issues,
            form,
            action="close_with_template",
            title=_("Close issues with a response"),
            template="admin/issues/issue/bulk_close.html",
            status=400 if applying else 200,
            extra={
                "template_bodies": {str(t.pk): t.body for t in form.fields["template"].queryset}
            },
        )

    @admin.action(description=_("Transfer to a department…"), permissions=["work"])
    def transfer(self, request, queryset):
        issues = list(queryset)
        applying = "apply" in request.POST
        form = TransferForm(request.POST if applying else None)
        if applying and form.is_valid():
            changed, refused = services.bulk_transfer(
                issues=issues,
                to_department=form.cleaned_data["department"],
                by=request.user,
                message=form.cleaned_data["message"],
            )
            self._report(
                request,
                changed,
                refused,
                ngettext(
                    "%(n)d issue transferred to %(d)s.",
                    "%(n)d issues transferred to %(d)s.",
                    len(changed),
                ),
                d=form.cleaned_data["department"],
            )
            return None
        return self._intermediate(
            request,
            issues,
            form,
            action="transfer",
            title=_("Transfer issues to another department"),
            template="admin/issues/issue/bulk_transfer.html",
            status=400 if applying else 200,
        )

    def _intermediate(self, request, issues, form, *, action, title, template, status, extra=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "issues": issues,
            "form": form,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
            **(extra or {}),
        }
        return TemplateResponse(request, template, context, status=status)


# --- the rest of the issues app: admins' read-only views -------------------------------------


class AdminOnly(admin.ModelAdmin):
    """Rows that only services write (history, outbox): admins may look, nobody edits by hand."""

    def has_module_permission(self, request):
        return roles.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StatusChange)
class StatusChangeAdmin(AdminOnly):
    list_display = [
        "issue",
        "from_status",
        "to_status",
        "to_department",
        "changed_by",
        "created_at",
    ]
    list_filter = ["to_status"]
    list_select_related = ["issue__service_type", "to_department", "changed_by"]
    search_fields = ["issue__public_id"]


@admin.register(Comment)
class CommentAdmin(AdminOnly):
    list_display = ["issue", "author", "is_internal", "is_hidden", "created_at"]
    list_filter = ["is_internal", "is_hidden"]
    list_select_related = ["issue__service_type", "author"]
    search_fields = ["issue__public_id", "body"]


@admin.register(Photo)
class PhotoAdmin(AdminOnly):
    list_display = ["pk", "issue", "width", "height", "size", "is_hidden", "created_at"]
    list_filter = ["is_hidden"]
    list_select_related = ["issue__service_type"]


@admin.register(Vote)
class VoteAdmin(AdminOnly):
    list_display = ["issue", "user", "created_at"]
    list_select_related = ["issue__service_type", "user"]


@admin.register(Subscription)
class SubscriptionAdmin(AdminOnly):
    list_display = ["pk", "user", "email", "issue", "ward", "created_at"]
    list_select_related = ["user", "issue__service_type", "ward"]
    search_fields = ["email", "user__email", "issue__public_id"]

    def has_delete_permission(self, request, obj=None):
        return roles.is_admin(request.user)  # a person asking to be forgotten


@admin.register(EmailOptOut)
class EmailOptOutAdmin(AdminOnly):
    list_display = ["email", "created_at"]
    search_fields = ["email"]

    def has_add_permission(self, request):
        return roles.is_admin(request.user)  # an opt-out received by phone or letter


@admin.register(Notification)
class NotificationAdmin(AdminOnly):
    list_display = [
        "event",
        "recipient_email",
        "issue",
        "state",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["state", "event"]
    list_select_related = ["issue__service_type"]
    search_fields = ["recipient_email", "issue__public_id", "subject"]
    actions = ["resend"]

    def has_resend_permission(self, request):
        return roles.is_admin(request.user)

    @admin.action(description=_("Send failed emails again"), permissions=["resend"])
    def resend(self, request, queryset):
        count = outbox.resend(queryset)
        messages.success(
            request,
            ngettext("%(n)d email queued again.", "%(n)d emails queued again.", count)
            % {"n": count},
        )


@admin.register(HotspotAlert)
class HotspotAlertAdmin(AdminOnly):
    list_display = ["service_type", "ward", "report_count", "radius_m", "created_at"]
    list_select_related = ["service_type", "ward"]
