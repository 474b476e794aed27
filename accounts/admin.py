from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from accounts.models import ApiKey, User
from accounts.services import set_new_secret

# Django's own Group page, registered by django.contrib.auth.admin (config/urls.py imports it
# first), again with the project's base, so no list in the workbench filters by what it hides.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(OfferedFiltersOnly, DjangoGroupAdmin):
    pass


@admin.register(User)
class UserAdmin(OfferedFiltersOnly, DjangoUserAdmin):
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
            _("Profile"),
            {
                "fields": (
                    "display_name",
                    "email_verified",
                    "notify_updates",
                    "notify_ward_digest",
                    "notify_escalations",
                )
            },
        ),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["roles_held"]

    # People and their access are the admins' business alone: a staff member who could edit
    # users could make themselves a superuser.
    def has_module_permission(self, request):
        return roles.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_add_permission(self, request):
        return roles.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, (_("Roles"), {"fields": ("roles_held",)}))

    @admin.display(description=_("departments and wards"))
    def roles_held(self, obj):
        departments = ", ".join(d.name for d in obj.departments.all()) or "—"
        wards = ", ".join(str(w.number) for w in obj.wards.all()) or "—"
        return _(
            "Staff of: %(d)s. Alderman of ward(s): %(w)s. Change these on the department or "
            "ward pages, which also grant or remove workbench access."
        ) % {"d": departments, "w": wards}


@admin.register(ApiKey)
class ApiKeyAdmin(OfferedFiltersOnly, admin.ModelAdmin):
    """Open311 API keys. The server makes the secret and shows it once, on the page after the key
    is saved; only its hash is stored, so a lost key is replaced (new key, old one deactivated)."""

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
    list_select_related = ["owner"]
    search_fields = ["name", "prefix", "owner__email"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "request_count"]
    actions = ["deactivate_keys"]

    # Who may see and manage keys is roles.py's answer, not Django's model permissions (which a
    # group could grant a department's staff member).
    def has_module_permission(self, request):
        return roles.can_manage_api_keys(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.can_manage_api_keys(request.user)

    def has_add_permission(self, request):
        return roles.can_manage_api_keys(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.can_manage_api_keys(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.can_manage_api_keys(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:  # the secret does not exist yet: it is made on save
            return ["owner", "name", "active"]
        return ["owner", "name", "active", "prefix", "created_at", "last_used_at", "request_count"]

    def save_model(self, request, obj, form, change):
        if not change:
            # Kept on the request only, for response_add: never in a message cookie or the log.
            request._new_api_key = set_new_secret(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_new_api_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "key": obj,
            "raw_key": raw,
            "title": _("API key created"),
        }
        response = TemplateResponse(request, "accounts/admin_key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Deactivate the selected keys"), permissions=["change"])
    def deactivate_keys(self, request, queryset):
        count = queryset.filter(active=True).update(active=False)
        self.message_user(
            request,
            ngettext("%(n)d key deactivated.", "%(n)d keys deactivated.", count) % {"n": count},
        )
