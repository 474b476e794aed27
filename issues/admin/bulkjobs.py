"""The background bulk jobs' pages: a list of one's own jobs, and each job's progress, which
refreshes itself (a meta refresh, so it works with JavaScript off and under the strict CSP)
until the job is done, then shows what changed, what was left as it was and why.

A job is shown to the person who started it and to admins; anyone else gets a 404, whatever the
department, since its list of issues and reasons is about another queue.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from issues.models import BulkJob, BulkJobState, BulkOutcome, Issue

# How many skipped or failed issues the summary spells out.
REASONS_SHOWN = 500
REFRESH_SECONDS = 3


def jobs_visible_to(user, queryset):
    if roles.is_admin(user):
        return queryset
    if not roles.can_work_queue(user):
        return queryset.none()
    return queryset.filter(created_by=user)


@admin.register(BulkJob)
class BulkJobAdmin(OfferedFiltersOnly, admin.ModelAdmin):
    list_display = ["pk", "action", "state", "size", "done_count", "skipped_count", "created_at"]
    list_display_links = ["pk", "action"]
    list_filter = ["state", "action"]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return jobs_visible_to(request.user, super().get_queryset(request))

    @admin.display(description=_("issues"))
    def size(self, obj):
        return obj.total

    def has_module_permission(self, request):
        return roles.can_work_queue(request.user)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return roles.can_work_queue(request.user)
        return roles.is_admin(request.user) or obj.created_by_id == request.user.pk

    def has_add_permission(self, request):
        return False  # started from the queue's bulk actions

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = unquote(object_id)
        job = (
            self.get_queryset(request).filter(pk=pk).select_related("created_by").first()
            if pk.isdigit()
            else None
        )
        if job is None:
            raise Http404(_("No such job, or it is not yours."))
        return TemplateResponse(
            request, "admin/issues/bulkjob/progress.html", progress(request, self, job)
        )


def progress(request, model_admin, job: BulkJob) -> dict:
    """The progress page's context: counts, and the issues left as they were, with why."""
    unchanged = list(job.items.exclude(outcome=BulkOutcome.DONE).order_by("pk")[:REASONS_SHOWN])
    public_ids = dict(
        Issue.objects.filter(pk__in=[item.issue_id for item in unchanged]).values_list(
            "pk", "public_id"
        )
    )
    return {
        **model_admin.admin_site.each_context(request),
        "title": _("Bulk action: %(a)s") % {"a": job.get_action_display()},
        "opts": model_admin.model._meta,
        "job": job,
        "finished": job.state == BulkJobState.DONE,
        "refresh_seconds": REFRESH_SECONDS,
        "unchanged": [(item, public_ids.get(item.issue_id, "")) for item in unchanged],
        "more_unchanged": max(job.skipped_count + job.failed_count - REASONS_SHOWN, 0),
    }
