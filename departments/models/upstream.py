"""The city's own 311 system, as the catalogue knows it: its endpoints, how our types map onto
theirs, and the keys it pushes updates with (issue 14)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from departments import secrets
from departments.models.catalogue import Department, ServiceType


class UpstreamFormat(models.TextChoices):
    JSON = "json", "JSON"
    XML = "xml", "XML"


class UpstreamEndpoint(models.Model):
    """The city's own 311 system (its CRM or work-order system) as a GeoReport v2 server that
    reports are sent on to and updates are heard back from (issues/upstream/, docs/open311.md)."""

    name = models.CharField(max_length=120, unique=True, verbose_name=_("name"))
    base_url = models.URLField(
        _("GeoReport v2 base URL"),
        max_length=300,
        help_text=_("Where services.json lives, e.g. https://311.city.gov/open311/v2/"),
    )
    jurisdiction_id = models.CharField(
        max_length=120, blank=True, verbose_name=_("jurisdiction id")
    )
    # Encrypted with a key derived from SECRET_KEY (departments/secrets.py); the admin only ever
    # writes it, and shows whether one is set.
    api_key_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("api key encrypted")
    )
    format = models.CharField(
        max_length=4,
        choices=UpstreamFormat.choices,
        default=UpstreamFormat.JSON,
        verbose_name=_("format"),
    )
    share_contact_details = models.BooleanField(
        _("send the reporter's contact details"),
        default=False,
        help_text=_(
            "Name, email and phone go with each report: only where the city may have them."
        ),
    )
    send_updates = models.BooleanField(
        _("send comments and status changes"),
        default=False,
        help_text=_(
            "The city accepts POST servicerequestupdates (mySociety's extension). Otherwise "
            "comments and staff updates stay in CivicFix."
        ),
    )
    fetch_updates = models.BooleanField(
        _("read updates from servicerequestupdates"),
        default=False,
        help_text=_(
            "The city offers GET servicerequestupdates. Otherwise updates are read from GET "
            "requests, by the ids of the reports sent there."
        ),
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=20, verbose_name=_("timeout seconds")
    )
    active = models.BooleanField(
        default=True,
        help_text=_("Off: nothing is sent or fetched; reports wait in the outbox."),
        verbose_name=_("active"),
    )

    class Meta:
        verbose_name = _("city system")
        verbose_name_plural = _("city systems")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout_seconds__gte=1, timeout_seconds__lte=300),
                name="upstream_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)

    @property
    def api_key(self) -> str:
        """The key in clear; raises secrets.UnreadableSecret when SECRET_KEY no longer opens it."""
        return secrets.decrypt(self.api_key_encrypted)

    def set_api_key(self, raw: str) -> None:
        self.api_key_encrypted = secrets.encrypt((raw or "").strip())

    def resource_url(self, resource: str) -> str:
        """GeoReport's `{base}/{resource}.{format}`, whether the base ends in a slash or not."""
        return f"{self.base_url.rstrip('/')}/{resource}.{self.format}"


class ServiceTypeUpstream(models.Model):
    """How one of our service types goes to the city's system: which endpoint (when not the
    department's), as which of their service codes, with which of their question codes; and which
    local edits `sync_open311_services` must keep."""

    SYNC_FIELDS = ("name", "description", "group", "keywords", "questions")

    service_type = models.OneToOneField(
        ServiceType,
        on_delete=models.CASCADE,
        related_name="upstream",
        verbose_name=_("service type"),
    )
    endpoint = models.ForeignKey(
        UpstreamEndpoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_types",
        verbose_name=_("city system"),
        help_text=_("Empty: the department's."),
    )
    never_send = models.BooleanField(
        default=False,
        help_text=_("Keep reports of this type in CivicFix, whatever the department."),
        verbose_name=_("never send"),
    )
    service_code = models.CharField(
        _("their service code"),
        max_length=64,
        blank=True,
        help_text=_("Empty: the same code as ours."),
    )
    attribute_map = models.JSONField(
        _("their question codes"),
        default=dict,
        blank=True,
        help_text=_(
            'Our question code to theirs: {"SIZE": "POTHOLE_SIZE"}; with answers renamed: '
            '{"SIZE": {"code": "POTHOLE_SIZE", "values": {"s": "SMALL"}}}; null: not sent. '
            "Questions not named here are sent under our own code."
        ),
    )
    sync_keeps = models.JSONField(
        _("local edits to keep"),
        default=list,
        blank=True,
        help_text=_("What sync_open311_services leaves as edited here."),
    )

    class Meta:
        verbose_name_plural = _("city system mappings")
        verbose_name = _("city system mapping")

    def __str__(self) -> str:
        return f"{self.service_type} -> {self.service_code or self.service_type.service_code}"

    def clean(self):
        if not isinstance(self.attribute_map, dict):
            raise ValidationError({"attribute_map": _("Give an object: our code to theirs.")})
        for ours, theirs in self.attribute_map.items():
            if theirs is None or (isinstance(theirs, str) and theirs.strip()):
                continue
            if (
                isinstance(theirs, dict)
                and isinstance(theirs.get("code"), str)
                and isinstance(theirs.get("values", {}), dict)
            ):
                continue
            raise ValidationError(
                {
                    "attribute_map": _("“%(c)s”: give their code, an object with “code”, or null.")
                    % {"c": ours}
                }
            )
        unknown = set(self.sync_keeps or []) - set(self.SYNC_FIELDS)
        if not isinstance(self.sync_keeps, list) or unknown:
            raise ValidationError(
                {"sync_keeps": _("Choose from: %(f)s.") % {"f": ", ".join(self.SYNC_FIELDS)}}
            )


class IntegrationKey(models.Model):
    """An API key with the "integration" scope: the department's own system may push status
    changes and notes about that department's requests (POST servicerequestupdates). A key
    without this binding (a resident's or an app's) may only create requests."""

    api_key = models.OneToOneField(
        "accounts.ApiKey",
        on_delete=models.CASCADE,
        related_name="integration",
        verbose_name=_("api key"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="integration_keys",
        verbose_name=_("department"),
    )

    class Meta:
        verbose_name_plural = _("integration keys")
        verbose_name = _("integration key")

    def __str__(self) -> str:
        return f"{self.api_key} for {self.department}"
