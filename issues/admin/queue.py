"""The staff workbench: the Django admin as each department's work queue.

Who sees what comes from accounts/roles.py alone: the queue is scoped in `get_queryset`, the
per-object checks are the `has_*_permission` methods, and the work itself (status, assignment,
transfer, notes, moderation, placing a point) goes through issues/services. No admin form ever
saves an Issue row directly: the issue page (issue_page.py) is read-only and its work forms post to
a small view that calls the services (actions.py), and the bulk actions (bulk.py) do the same, so
the admin and every other door obey the same rules.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, IntegerField, QuerySet, Subquery, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.adminbase import OfferedFiltersChangeList, OfferedFiltersOnly
from departments.models import PRIORITY_RANK, Asset, Priority
from issues.admin.bulk import BulkActionsMixin
from issues.admin.filters import (
    AssignmentFilter,
    CitySystemFilter,
    DepartmentFilter,
    OpenedFilter,
    OverdueFilter,
    PriorityFilter,
    ServiceTypeFilter,
    StatusFilter,
    TriageFilter,
    WardFilter,
)
from issues.admin.issue_page import IssuePageMixin
from issues.models import OPEN_STATUSES, Issue, Status, normalize_public_id

# Characters of the description the queue shows: enough to tell two potholes apart.
SHORT_DESCRIPTION = 60
QUEUE_ORDER = ["-queue_overdue", "queue_priority", "-requested_at", "-pk"]


class QueueChangeList(OfferedFiltersChangeList):
    """The queue's list: in the queue's order unless a column header was clicked."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return self.model_admin.queue_ordering(request)


class QueuePaginator(Paginator):
    """A page of the queue in two reads: the page's ids in the queue's order, then those rows.

    The sort needs only a few columns, which the queue's covering index holds
    (issue_open_queue_cov), so the first read never touches the table; asked for whole rows at
    once, PostgreSQL read every open issue of the department (one table block each) to sort them
    and keep fifty."""

    def page(self, number):
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


@admin.register(Issue)
class IssueAdmin(OfferedFiltersOnly, IssuePageMixin, BulkActionsMixin, admin.ModelAdmin):
    # The columns a department works from, narrow enough for a 1366-px laptop with the filter
    # sidebar (tests/admin/test_browser.py): the address, department and votes are on the issue
    # page, and the queue is already one department's.
    list_display = [
        "public_id",
        "service_type",
        "short_description",
        "ward_number",
        "age_due",
        "status_badge",
        "priority_badge",
        "assignee_name",
    ]
    list_display_links = ["public_id"]
    # Empty, not False: False makes the changelist add select_related() for the FK columns,
    # undoing the prefetch in get_queryset.
    list_select_related = ()
    paginator = QueuePaginator
    list_filter = [
        StatusFilter,
        DepartmentFilter,
        ServiceTypeFilter,
        WardFilter,
        OverdueFilter,
        PriorityFilter,
        AssignmentFilter,
        TriageFilter,
        ("requested_at", OpenedFilter),
        "is_hidden",
        "source",
        CitySystemFilter,
    ]
    search_fields = ["public_id", "external_id", "address", "description"]
    search_help_text = _(
        "Search by request id (like K7M2-9QXR), the city's reference, address, description, or "
        "an asset's id."
    )
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
                    "asset",
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
        (_("Moderation"), {"fields": ["is_hidden", "hidden_reason", "withheld"]}),
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
                queue_priority=Case(
                    *(When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()),
                    default=Value(PRIORITY_RANK[Priority.NORMAL]),
                    output_field=IntegerField(),
                ),
            )
        )
        queryset = queryset.order_by(*self.queue_ordering(request))
        return roles.visible_issues_for_staff(request.user, queryset)

    def queue_ordering(self, request) -> list[str]:
        # Overdue first, then the most urgent, then newest first: what just slipped past its due
        # time is still saveable, an urgent report is urgent whatever its age, and a new report
        # is where a crew learns about the street. The queue opens on open issues
        # (StatusFilter), where the rank is constant.
        if request.GET.get("status", "open") in ("open", *Status.values):
            return QUEUE_ORDER
        return ["queue_rank", *QUEUE_ORDER]

    def next_in_queue(self, request, issue: Issue) -> Issue | None:
        """The issue to work after this one: the head of the person's own open queue."""
        if not roles.can_work_queue(request.user):
            return None
        queryset = roles.workable_issues(
            request.user, self.get_queryset(request).filter(status__in=OPEN_STATUSES)
        )
        # Its id from the queue's covering index (as QueuePaginator), then that one row.
        head = queryset.exclude(pk=issue.pk).order_by(*QUEUE_ORDER).values("pk")[:1]
        return Issue.objects.only("pk", "public_id").filter(pk__in=Subquery(head)).first()

    def changelist_view(self, request, extra_context=None):
        # The views a department switches between, one click away above the list.
        views = [
            (_("Open"), "?status=open"),
            (_("Overdue"), "?status=open&overdue=yes"),
            (_("Assigned to me"), "?status=open&assigned=me"),
            (_("Unassigned"), "?status=open&assigned=none"),
            (_("Closed"), "?status=closed"),
            (_("Everything"), "?status=all"),
        ]
        current = "?" + request.GET.urlencode() if request.GET else "?status=open"
        context = {
            **(extra_context or {}),
            "queue_views": [(label, url, url == current) for label, url in views],
        }
        return super().changelist_view(request, extra_context=context)

    def get_ordering(self, request):
        # Plain columns only: other admins order their choices of issues by this on the bare
        # model (ModelAdmin.get_field_queryset), where the queue's annotations do not exist; a
        # comment's or photo's page was a 500 while it named queue_rank. The queue's own order
        # is QueueChangeList's.
        return ["requested_at", "pk"]

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

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
            # People read ids over the phone: "k7m2 9qxr" and "K7M29QXR" find K7M2-9QXR. A
            # pole's or stop's id finds the reports against it (the asset id's index).
            results = (
                results
                | queryset.filter(public_id=normalize_public_id(term))
                | queryset.filter(asset__in=Asset.objects.filter(source_id=term).values("id"))
            )
        return results, may_have_duplicates

    # -- columns --

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="cf-status cf-status-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=_("priority"), ordering="queue_priority")
    def priority_badge(self, obj):
        if obj.priority == Priority.NORMAL:
            return ""  # the usual case says nothing, so the exceptions stand out
        return format_html(
            '<span class="cf-priority cf-priority-{}">{}</span>',
            obj.priority,
            obj.get_priority_display(),
        )

    @admin.display(description=_("description"))
    def short_description(self, obj):
        text = " ".join((obj.description or "").split())
        if len(text) > SHORT_DESCRIPTION:
            text = text[: SHORT_DESCRIPTION - 1].rstrip() + "…"
        return text or "—"

    @admin.display(description=_("age / due"), ordering="requested_at")
    def age_due(self, obj):
        end = obj.closed_at if obj.closed_at and not obj.is_open else timezone.now()
        age = timesince(obj.requested_at, end, depth=1)
        if not obj.expected_at or not obj.is_open:
            return age
        when = date_format(timezone.localtime(obj.expected_at), "SHORT_DATETIME_FORMAT")
        if getattr(obj, "queue_overdue", obj.is_overdue):
            return format_html(
                '{}<br><span class="cf-overdue" title="{}">⚠ <span class="cf-overdue-label">{}</span> {}</span>',
                age,
                _("Past the expected response time"),
                _("overdue"),
                when,
            )
        return format_html("{}<br>{} {}", age, _("due"), when)

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
