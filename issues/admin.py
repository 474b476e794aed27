from django.contrib import admin

from issues.models import (
    Comment,
    EmailOptOut,
    HotspotAlert,
    Issue,
    Notification,
    Photo,
    StatusChange,
    Subscription,
    Vote,
)


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["public_id", "service_type", "status", "ward", "address", "requested_at"]
    list_filter = ["status", "department"]
    search_fields = ["public_id", "address", "description"]
    list_select_related = ["service_type", "ward"]


for model in (
    Comment,
    Photo,
    StatusChange,
    Vote,
    Subscription,
    EmailOptOut,
    Notification,
    HotspotAlert,
):
    admin.site.register(model)
