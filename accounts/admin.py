from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import ApiKey, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "email_verified",
        "is_staff",
        "is_superuser",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_superuser", "email_verified", "is_active"]
    search_fields = ["email", "display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Profile",
            {"fields": ("display_name", "email_verified", "notify_updates", "notify_ward_digest")},
        ),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "owner",
        "active",
        "created_at",
        "last_used_at",
        "request_count",
    ]
    list_filter = ["active"]
    search_fields = ["name", "prefix", "owner__email"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "request_count"]
