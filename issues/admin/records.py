"""Rows that only services write (history, comments, photos, votes, subscriptions, the outboxes,
hotspot alerts, updates heard from the city): admins may look, nobody edits them by hand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from issues.models import (
    CityUpdate,
    Comment,
    EmailOptOut,
    HotspotAlert,
    Notification,
    NotificationState,
    Photo,
    StatusChange,
    Subscription,
    UpstreamSend,
    Vote,
)
from issues.notify import delivery
from issues.notify.withdrawal import WITHDRAWN
from issues.upstream import delivery as city_outbox


class AdminOnly(OfferedFiltersOnly, admin.ModelAdmin):
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
        "source",
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
        "why_not_sent",
    ]
    list_filter = ["state", "event"]
    # Counts beside each state and event: withdrawn rows (hidden issue, unsubscribed recipient)
    # are counted apart from failures, which are the ones that need someone.
    show_facets = admin.ShowFacets.ALWAYS
    # The facets already count the outbox (a table never pruned) twice a page: Django's second
    # COUNT(*) of the whole table, for "(n total)" beside a filtered count, is one too many.
    show_full_result_count = False
    list_select_related = ["issue__service_type"]
    search_fields = ["recipient_email", "issue__public_id", "subject"]
    actions = ["resend"]

    def has_resend_permission(self, request):
        return roles.is_admin(request.user)

    @admin.display(description=_("why not sent"))
    def why_not_sent(self, obj):
        if obj.state in (NotificationState.FAILED, NotificationState.WITHDRAWN):
            return obj.last_error.removeprefix(WITHDRAWN)[:120]
        return ""

    @admin.action(description=_("Send failed emails again"), permissions=["resend"])
    def resend(self, request, queryset):
        count = delivery.resend(queryset)
        messages.success(
            request,
            ngettext("%(n)d email queued again.", "%(n)d emails queued again.", count)
            % {"n": count},
        )


@admin.register(HotspotAlert)
class HotspotAlertAdmin(AdminOnly):
    list_display = ["service_type", "ward", "report_count", "radius_m", "created_at"]
    list_select_related = ["service_type", "ward"]


@admin.register(UpstreamSend)
class UpstreamSendAdmin(AdminOnly):
    """The city's outbox: what waits, what went (with the city's id) and what failed, and why."""

    list_display = [
        "issue",
        "kind",
        "endpoint",
        "state",
        "attempts",
        "remote_id",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["state", "kind", "endpoint"]
    list_select_related = ["issue__service_type", "endpoint"]
    search_fields = ["issue__public_id", "remote_id", "token"]
    actions = ["send_again", "send_again_confirmed_absent"]

    def has_resend_permission(self, request):
        return roles.is_admin(request.user)

    def _queued(self, request, count: int) -> None:
        messages.success(
            request,
            ngettext("%(n)d send queued again.", "%(n)d sends queued again.", count) % {"n": count},
        )

    @admin.action(description=_("Send failed ones again"), permissions=["resend"])
    def send_again(self, request, queryset):
        self._queued(request, city_outbox.send_again(queryset))

    @admin.action(
        description=_("Send failed ones again without looking: the city confirmed it lacks them"),
        permissions=["resend"],
    )
    def send_again_confirmed_absent(self, request, queryset):
        self._queued(request, city_outbox.send_again(queryset, confirmed_absent=True))


@admin.register(CityUpdate)
class CityUpdateAdmin(AdminOnly):
    list_display = ["issue", "update_key", "channel", "status_change", "received_at"]
    list_filter = ["channel"]
    list_select_related = ["issue__service_type", "status_change"]
    search_fields = ["issue__public_id", "update_key"]
