"""The city's own 311 systems in the workbench: the endpoints reports are sent on to, each type's
mapping to their codes, and the integration keys their systems push updates with
(docs/open311.md). Keys are written here, never shown. On the catalogue's admin base
(catalogue.py), like the asset layers."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from departments.models import IntegrationKey, ServiceTypeUpstream, UpstreamEndpoint
from departments.secrets import UnreadableSecret
from issues.admin.catalogue import CatalogueAdmin
from issues.models import UpstreamHealth


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
