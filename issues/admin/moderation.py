"""The moderation queue and the safety catalogue in the workbench (issue 20): abuse reports
waiting (never with who sent them), held reports, recent edits, with bulk release or hide; the
site-wide banner; the ban list; the staff-only view of a redacted photo's original."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from issues import pagecache, selectors, services
from issues.models import AbuseReport, Ban, Issue, ModerationAction, Photo, SiteBanner
from issues.photos import private_storage


class StaffOnly:
    """Admins and department staff moderate; aldermen and residents never reach these pages."""

    def has_module_permission(self, request):
        return roles.can_work_queue(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.can_work_queue(request.user)


class StaffEdits(StaffOnly):
    """Lists staff keep by hand (the banner, the ban list): who made each row is recorded."""

    def has_add_permission(self, request):
        return roles.can_work_queue(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.can_work_queue(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.can_work_queue(request.user)

    def save_model(self, request, obj, form, change):
        obj.created_by = obj.created_by or request.user
        super().save_model(request, obj, form, change)


@admin.register(SiteBanner)
class SiteBannerAdmin(OfferedFiltersOnly, StaffEdits, admin.ModelAdmin):
    list_display = ["message", "starts_at", "ends_at"]
    fields = ["message", "link", "starts_at", "ends_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.refresh_banners()
        pagecache.bump(pagecache.GLOBAL)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.refresh_banners()
        pagecache.bump(pagecache.GLOBAL)


@admin.register(Ban)
class BanAdmin(OfferedFiltersOnly, StaffEdits, admin.ModelAdmin):
    list_display = ["__str__", "reason", "created_at", "created_by"]
    search_fields = ["email", "user__email"]
    fields = ["user", "email", "reason"]
    raw_id_fields = ["user"]


@admin.register(AbuseReport)
class AbuseReportAdmin(OfferedFiltersOnly, StaffOnly, admin.ModelAdmin):
    """The moderation queue. Who reported is never shown: not a column, not a field."""

    change_list_template = "admin/issues/abusereport/change_list.html"
    list_display = ["created_at", "reason", "target", "issue_link", "details", "resolved_at"]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["issue"]
    actions = ["resolve", "hide_reported"]
    fields = ["issue", "reason", "details", "created_at", "resolved_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        workable = roles.workable_issues(request.user, Issue.objects.all())
        return super().get_queryset(request).filter(issue__in=workable.values("pk"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what"))
    def target(self, obj):
        return obj.target_label

    @admin.display(description=_("report"))
    def issue_link(self, obj):
        return format_html(
            '<a href="{}#cf-mending">{}</a>',
            reverse("admin:issues_issue_change", args=[obj.issue_id]),
            obj.issue.public_id,
        )

    @admin.action(description=_("Close: looked at, nothing more to do"))
    def resolve(self, request, queryset):
        done = services.resolve_abuse(reports=queryset, by=request.user)
        self.message_user(
            request, ngettext("%(n)d report closed.", "%(n)d reports closed.", done) % {"n": done}
        )

    @admin.action(description=_("Hide what was reported, and close"))
    def hide_reported(self, request, queryset):
        hidden = 0
        for report in queryset.select_related("issue", "comment", "photo"):
            target = report.photo or report.comment or report.issue
            if not target.is_hidden:
                services.set_hidden(
                    target=target,
                    hidden=True,
                    by=request.user,
                    reason=str(_("Reported: %(r)s")) % {"r": report.get_reason_display()},
                )
                hidden += 1
        services.resolve_abuse(reports=queryset, by=request.user)
        self.message_user(
            request, ngettext("%(n)d hidden.", "%(n)d hidden.", hidden) % {"n": hidden}
        )

    def changelist_view(self, request, extra_context=None):
        workable = roles.workable_issues(request.user, Issue.objects.all())
        held = selectors.held_issues().filter(pk__in=workable.values("pk"))[:100]
        context = {
            **(extra_context or {}),
            "counts": selectors.queue_counts(workable),
            "held": held,
            "recent_edits": selectors.recent_edits(issues=workable),
        }
        return super().changelist_view(request, extra_context=context)

    def get_urls(self):
        return [
            path(
                "held/",
                self.admin_site.admin_view(self.held_view),
                name="issues_abusereport_held",
            ),
            path(
                "photo/<int:pk>/original/",
                self.admin_site.admin_view(self.original_view),
                name="issues_photo_original",
            ),
            *super().get_urls(),
        ]

    def held_view(self, request):
        """Bulk release or hide of held reports, posted from the queue page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not roles.can_work_queue(request.user):
            raise PermissionDenied
        ids = [int(v) for v in request.POST.getlist("issue") if v.isdigit()]
        issues = roles.workable_issues(request.user, Issue.objects.filter(pk__in=ids))
        reason = request.POST.get("reason", "")
        try:
            if request.POST.get("do") == "hide":
                n = services.hide_issues(issues=issues, by=request.user, reason=reason)
                messages.success(request, ngettext("%(n)d hidden.", "%(n)d hidden.", n) % {"n": n})
            else:
                n = services.release_issues(issues=issues, by=request.user, reason=reason)
                messages.success(
                    request, ngettext("%(n)d released.", "%(n)d released.", n) % {"n": n}
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("admin:issues_abusereport_changelist"))

    def original_view(self, request, pk):
        """A redacted photo's original: staff of its department only, never under /media/."""
        photo = get_object_or_404(Photo.objects.select_related("issue"), pk=pk)
        if not roles.can_work_issue(request.user, photo.issue) or not photo.original_name:
            raise Http404
        storage = private_storage()
        if not storage.exists(photo.original_name):
            raise Http404
        response = FileResponse(storage.open(photo.original_name, "rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response


@admin.register(ModerationAction)
class ModerationActionAdmin(OfferedFiltersOnly, StaffOnly, admin.ModelAdmin):
    """The moderation log, read-only: every hide, release, edit, redaction and ban."""

    list_display = ["at", "kind", "issue", "by", "reason"]
    list_filter = ["kind"]
    list_select_related = ["issue", "by"]
    readonly_fields = ["issue", "comment", "photo", "kind", "reason", "before", "after", "by", "at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(issue__in=roles.workable_issues(request.user, Issue.objects.all()).values("pk"))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
