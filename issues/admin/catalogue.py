"""The catalogue in the workbench: departments and their people, service types and their SLA
hours, response templates, wards and their aldermen. Admins edit it; staff may read their own
departments' response templates. Changes with consequences for issues (staff leaving, a new SLA,
a ward deleted) go through issues/services/catalogue.py, which keeps assignments and the
dashboards in step; aldermen are the catalogue's alone (departments/services.py).
The city's own systems (endpoints, each type's mapping to their codes, integration keys) are edited
here too; their keys are written, never shown. The catalogue belongs to departments; its pages live
here, with the rest of the workbench, because changing it moves issues."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from accounts.models import User
from departments import services as catalogue
from departments.models import (
    Department,
    IntegrationKey,
    ResponseTemplate,
    ServiceAttribute,
    ServiceType,
    ServiceTypeUpstream,
    UpstreamEndpoint,
    Ward,
)
from departments.secrets import UnreadableSecret
from issues import services
from issues.models import Status, UpstreamHealth


class CatalogueAdmin(OfferedFiltersOnly, admin.ModelAdmin):
    """Admins only: a change here moves every department's queue."""

    def has_module_permission(self, request):
        return roles.can_manage_catalogue(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.can_manage_catalogue(request.user)

    def has_add_permission(self, request, *args):
        return roles.can_manage_catalogue(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.can_manage_catalogue(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.can_manage_catalogue(request.user)


def _people_field(label: str, help_text: str) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("email"),
        required=False,
        label=label,
        help_text=help_text,
        widget=FilteredSelectMultiple(label, is_stacked=False),
    )


class DepartmentForm(forms.ModelForm):
    members = _people_field(
        _("staff"),
        _(
            "People who work this department's queue. They get workbench access; it is taken "
            "away again when they hold no other role."
        ),
    )

    class Meta:
        model = Department
        fields = ["name", "slug", "contact_email", "notify_new_issues", "upstream", "supervisors"]
        widgets = {"supervisors": FilteredSelectMultiple(_("supervisors"), is_stacked=False)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["members"].initial = list(self.instance.staff.values_list("pk", flat=True))


@admin.register(Department)
class DepartmentAdmin(CatalogueAdmin):
    form = DepartmentForm
    list_display = ["name", "slug", "contact_email", "notify_new_issues", "upstream", "staff_count"]
    search_fields = ["name", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    fields = [
        "name",
        "slug",
        "contact_email",
        "notify_new_issues",
        "upstream",
        "members",
        "supervisors",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("upstream")
            .annotate(n_staff=Count("staff", distinct=True))
        )

    @admin.display(description=_("staff"), ordering="n_staff")
    def staff_count(self, obj):
        return obj.n_staff

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.set_staff(department=form.instance, users=form.cleaned_data["members"])


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0


class ServiceTypeUpstreamForm(forms.ModelForm):
    sync_keeps = forms.MultipleChoiceField(
        label=_("local edits to keep"),
        choices=[(f, f) for f in ServiceTypeUpstream.SYNC_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What sync_open311_services leaves as edited here."),
    )

    class Meta:
        model = ServiceTypeUpstream
        fields = [
            "service_type",
            "endpoint",
            "never_send",
            "service_code",
            "attribute_map",
            "sync_keeps",
        ]


class ServiceTypeForm(forms.ModelForm):
    notice_link = forms.URLField(
        label=_("notice link"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = ServiceType
        fields = [
            "service_code",
            "name",
            "description",
            "group",
            "keywords",
            "department",
            "active",
            "sla_hours",
            "service_notice",
            "notice",
            "stops_reports",
            "notice_link",
            "publication",
            "hotspot_min_reports",
            "hotspot_radius_m",
            "asset_layer",
        ]

    def clean_sla_hours(self):
        # Checked here, before the row is saved: save_model's set_sla_hours would refuse it
        # only after the type was already written, as a 500.
        hours = self.cleaned_data.get("sla_hours")
        try:
            catalogue.check_sla_hours(hours)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["sla_hours"]) from None
        return hours


@admin.register(ServiceType)
class ServiceTypeAdmin(CatalogueAdmin):
    form = ServiceTypeForm
    list_display = [
        "name",
        "service_code",
        "group",
        "department",
        "sla_hours",
        "active",
        "stops_reports",
        "publication",
    ]
    list_filter = ["active", "stops_reports", "publication", "group", "department"]
    search_fields = ["name", "service_code", "keywords"]
    list_select_related = ["department"]
    inlines = [ServiceAttributeInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "sla_hours" in form.changed_data:
            moved = services.set_sla_hours(service_type=obj, hours=obj.sla_hours)
            messages.info(
                request,
                ngettext(
                    "%(n)d open issue of this type now has the new due time.",
                    "%(n)d open issues of this type now have the new due time.",
                    moved,
                )
                % {"n": moved},
            )


class ResponseTemplateForm(forms.ModelForm):
    status = forms.ChoiceField(
        label=_("for status"),
        choices=[("", _("Any status")), *Status.choices],
        required=False,
        help_text=_("Offered when moving an issue to this status (bulk close offers “closed”)."),
    )

    class Meta:
        model = ResponseTemplate
        fields = ["department", "service_type", "title", "status", "body", "active"]

    def clean(self):
        data = super().clean()
        department, service_type = data.get("department"), data.get("service_type")
        if (
            service_type is not None
            and department is not None
            and service_type.department_id != department.pk
        ):
            self.add_error(
                "service_type",
                _("%(t)s belongs to %(d)s, not to this template's department.")
                % {"t": service_type.name, "d": service_type.department},
            )
        return data


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(CatalogueAdmin):
    """Admins write templates; staff read their departments' (and the city-wide) ones."""

    form = ResponseTemplateForm
    list_display = ["title", "department", "service_type", "status", "active"]
    list_filter = ["active", "department", "status"]
    search_fields = ["title", "body"]
    list_select_related = ["department", "service_type"]

    def has_module_permission(self, request):
        return roles.can_work_queue(request.user)

    def has_view_permission(self, request, obj=None):
        if roles.is_admin(request.user):
            return True
        if obj is None:
            return roles.is_department_staff(request.user)
        return obj.department_id is None or obj.department_id in roles.department_ids(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if roles.is_admin(request.user):
            return queryset
        return queryset.filter(
            Q(department__isnull=True) | Q(department_id__in=roles.department_ids(request.user))
        )


class WardForm(forms.ModelForm):
    aldermen_picked = _people_field(
        _("aldermen"), _("They read their ward's issues in the workbench and get its digest.")
    )

    class Meta:
        model = Ward
        fields = ["number", "name", "slug"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["aldermen_picked"].initial = list(
                self.instance.aldermen.values_list("pk", flat=True)
            )


@admin.register(Ward)
class WardAdmin(CatalogueAdmin):
    form = WardForm
    list_display = ["number", "name", "slug"]
    search_fields = ["name", "slug"]
    fields = ["number", "name", "slug", "aldermen_picked"]

    def has_add_permission(self, request, *args):
        # A ward is a boundary; boundaries come from the city's file (load_demo / an import).
        return False

    def delete_model(self, request, obj):
        services.delete_wards([obj])

    def delete_queryset(self, request, queryset):
        services.delete_wards(list(queryset))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        catalogue.set_aldermen(ward=form.instance, users=form.cleaned_data["aldermen_picked"])


class UpstreamEndpointForm(forms.ModelForm):
    """The API key is written here and never shown: only whether one is set."""

    base_url = forms.URLField(
        label=_("GeoReport v2 base URL"),
        max_length=300,
        assume_scheme="https",
        help_text=UpstreamEndpoint._meta.get_field("base_url").help_text,
    )
    new_api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the key that is set. Stored encrypted."),
    )
    clear_api_key = forms.BooleanField(label=_("remove the API key"), required=False)

    class Meta:
        model = UpstreamEndpoint
        fields = [
            "name",
            "base_url",
            "jurisdiction_id",
            "format",
            "share_contact_details",
            "send_updates",
            "fetch_updates",
            "timeout_seconds",
            "active",
        ]

    def save(self, commit=True):
        endpoint = super().save(commit=False)
        if self.cleaned_data.get("clear_api_key"):
            endpoint.set_api_key("")
        elif self.cleaned_data.get("new_api_key"):
            endpoint.set_api_key(self.cleaned_data["new_api_key"])
        if commit:
            endpoint.save()
        return endpoint


@admin.register(ServiceTypeUpstream)
class ServiceTypeUpstreamAdmin(CatalogueAdmin):
    """How a type goes to the city's system: another endpoint than its department's, their
    service code, their question codes, or never."""

    form = ServiceTypeUpstreamForm
    list_display = ["service_type", "endpoint", "service_code", "never_send"]
    list_filter = ["endpoint", "never_send"]
    list_select_related = ["service_type", "endpoint"]
    search_fields = ["service_type__name", "service_type__service_code", "service_code"]
    autocomplete_fields = ["service_type"]


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(CatalogueAdmin):
    """API keys with the integration scope: the department's own system may push status changes
    and notes about that department's requests (POST servicerequestupdates). Make the key under
    Accounts -> API keys first (its secret is shown there once), then bind it here."""

    list_display = ["api_key", "department"]
    list_select_related = ["api_key", "department"]
    autocomplete_fields = ["api_key"]
    list_filter = ["department"]


@admin.register(UpstreamEndpoint)
class UpstreamEndpointAdmin(CatalogueAdmin):
    """The city's own Open311 systems that reports are sent on to (docs/open311.md)."""

    form = UpstreamEndpointForm
    list_display = ["name", "base_url", "format", "active", "key_set", "health"]
    list_filter = ["active"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["key_set", "health"]
    fieldsets = [
        (None, {"fields": ["name", "base_url", "jurisdiction_id", "format", "active"]}),
        (_("Key"), {"fields": ["key_set", "new_api_key", "clear_api_key"]}),
        (
            _("What goes there and comes back"),
            {
                "fields": [
                    "share_contact_details",
                    "send_updates",
                    "fetch_updates",
                    "timeout_seconds",
                ]
            },
        ),
        (_("Health"), {"fields": ["health"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("health")

    @admin.display(description=_("API key"))
    def key_set(self, obj):
        if not obj.has_api_key:
            return _("none")
        try:
            obj.api_key  # noqa: B018  (can SECRET_KEY still open it?)
        except UnreadableSecret:
            return _("set, but unreadable: SECRET_KEY changed; type it again")
        return _("set")

    @admin.display(description=_("health"))
    def health(self, obj):
        try:
            health = obj.health
        except UpstreamHealth.DoesNotExist:
            return _("not used yet")
        if health.consecutive_failures:
            return _("failing: %(n)d in a row since %(t)s. Last: %(e)s") % {
                "n": health.consecutive_failures,
                "t": health.failing_since,
                "e": health.last_error[:200],
            }
        return _("working; last success %(t)s") % {"t": health.last_success_at or "—"}
