from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from departments import secrets
from departments.places.models import Place, PlaceKind  # noqa: F401  (the gazetteer)
from departments.wards import WardIndex, shape_from_geojson


class SlugFromName(models.Model):
    """A `slug` made from the `name` when none is given."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:120]
        super().save(*args, **kwargs)


class Department(SlugFromName):
    """A city department that works a queue of issues (Streets and Sanitation, Water, ...)."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    contact_email = models.EmailField(blank=True)
    notify_new_issues = models.BooleanField(
        default=True, help_text=_("Email the contact address about new and transferred issues.")
    )
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="departments", blank=True)
    upstream = models.ForeignKey(
        "UpstreamEndpoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="departments",
        verbose_name=_("city system"),
        help_text=_(
            "The city's own Open311 server that this department's reports are sent on to. "
            "Empty: reports stay in CivicFix. A service type may name another."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def with_metadata_flag(self):
        """Annotate `has_attributes` so listing services needs no query per row."""
        return self.annotate(
            has_attributes=models.Exists(
                ServiceAttribute.objects.filter(service_type=models.OuterRef("pk"))
            )
        )


class ServiceType(models.Model):
    """An Open311 service: the kind of problem a resident reports."""

    service_code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    group = models.CharField(max_length=80, blank=True)
    keywords = models.CharField(max_length=255, blank=True, help_text=_("Comma-separated."))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="service_types"
    )
    active = models.BooleanField(default=True)
    sla_hours = models.PositiveIntegerField(
        _("expected response time (hours)"),
        null=True,
        blank=True,
        help_text=_("An issue of this type is overdue this many hours after it was reported."),
    )
    service_notice = models.CharField(
        max_length=255, blank=True, help_text=_("Shown to the reporter after submitting (Open311).")
    )
    # Safety (issue 20): what a resident reads as soon as they choose the type, before typing.
    notice = models.TextField(
        _("notice before reporting"),
        blank=True,
        help_text=_("Shown as soon as a resident chooses this type, before they type anything."),
    )
    stops_reports = models.BooleanField(
        _("refuse reports (emergency)"),
        default=False,
        help_text=_(
            "Reports of this type are refused on every door (form, API, imports) with the "
            "notice as the instruction: a gas leak or a downed wire, call 911."
        ),
    )
    notice_link = models.URLField(_("notice link"), blank=True)
    publication = models.CharField(
        _("publication"),
        max_length=10,
        choices=[
            ("public", _("Public at once")),
            ("held", _("Held for a moderator before it is public")),
            ("private", _("Private: never public")),
        ],
        default="public",
    )
    # Hotspot alerts: at least N reports of this type within R metres over the last 7 days.
    hotspot_min_reports = models.PositiveSmallIntegerField(default=5)
    hotspot_radius_m = models.PositiveIntegerField(default=150)
    asset_layer = models.ForeignKey(
        "AssetLayer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_types",
        help_text=_("Reports of this type name one of the layer's assets (a light, a stop)."),
    )
    confirm_anonymous = models.BooleanField(
        _("anonymous reports need an emailed confirmation"),
        default=False,
        help_text=_(
            "Reports without an account are published only once the address they give follows "
            "the link we email; unconfirmed ones expire. For sensitive types."
        ),
    )

    objects = ServiceTypeQuerySet.as_manager()

    class Meta:
        ordering = ["group", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hotspot_min_reports__gte=2), name="servicetype_hotspot_min_2"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def metadata(self) -> bool:
        """Open311 `metadata`: true when the type has attributes a client must ask about."""
        if self.asset_layer_id is not None:
            return True  # the asset it is about is one (issues.models.ASSET_ATTRIBUTE)
        annotated = getattr(self, "has_attributes", None)
        if annotated is not None:
            return bool(annotated)
        return self.attributes.exists()


class AttributeDatatype(models.TextChoices):
    STRING = "string", _("Single line of text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Text")
    SINGLEVALUELIST = "singlevaluelist", _("Pick one")
    MULTIVALUELIST = "multivaluelist", _("Pick any")


class ServiceAttribute(models.Model):
    """An Open311 attribute of a service type: one question asked when reporting."""

    service_type = models.ForeignKey(
        ServiceType, on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.CharField(max_length=64)
    order = models.PositiveIntegerField(default=1)
    description = models.CharField(max_length=255, help_text=_("The question shown to the person."))
    datatype = models.CharField(max_length=20, choices=AttributeDatatype.choices)
    datatype_description = models.CharField(max_length=255, blank=True)
    required = models.BooleanField(default=False)
    variable = models.BooleanField(
        default=True, help_text=_("False: informational only, no answer is asked for.")
    )
    values = models.JSONField(
        default=list, blank=True, help_text=_('For lists: [{"key": "...", "name": "..."}, ...]')
    )

    class Meta:
        ordering = ["service_type", "order"]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "code"], name="attribute_code_unique"),
            models.UniqueConstraint(
                fields=["service_type", "order"], name="attribute_order_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(datatype__in=[c.value for c in AttributeDatatype]),
                name="attribute_datatype_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type.service_code}:{self.code}"

    @property
    def is_list(self) -> bool:
        return self.datatype in (
            AttributeDatatype.SINGLEVALUELIST,
            AttributeDatatype.MULTIVALUELIST,
        )

    def value_keys(self) -> list[str]:
        return [str(v["key"]) for v in self.values or []]

    def clean(self):
        if self.is_list:
            if not isinstance(self.values, list) or not self.values:
                raise ValidationError({"values": _("A list attribute needs at least one value.")})
            for v in self.values:
                if not isinstance(v, dict) or "key" not in v or "name" not in v:
                    raise ValidationError({"values": _('Each value needs a "key" and a "name".')})
        elif self.values:
            raise ValidationError({"values": _("Only list attributes have values.")})


class UpstreamFormat(models.TextChoices):
    JSON = "json", "JSON"
    XML = "xml", "XML"


class UpstreamEndpoint(models.Model):
    """The city's own 311 system (its CRM or work-order system) as a GeoReport v2 server that
    reports are sent on to and updates are heard back from (issues/upstream/, docs/open311.md)."""

    name = models.CharField(max_length=120, unique=True)
    base_url = models.URLField(
        _("GeoReport v2 base URL"),
        max_length=300,
        help_text=_("Where services.json lives, e.g. https://311.city.gov/open311/v2/"),
    )
    jurisdiction_id = models.CharField(max_length=120, blank=True)
    # Encrypted with a key derived from SECRET_KEY (departments/secrets.py); the admin only ever
    # writes it, and shows whether one is set.
    api_key_encrypted = models.TextField(blank=True, editable=False)
    format = models.CharField(
        max_length=4, choices=UpstreamFormat.choices, default=UpstreamFormat.JSON
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
    timeout_seconds = models.PositiveSmallIntegerField(default=20)
    active = models.BooleanField(
        default=True, help_text=_("Off: nothing is sent or fetched; reports wait in the outbox.")
    )

    class Meta:
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
        ServiceType, on_delete=models.CASCADE, related_name="upstream"
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
        "accounts.ApiKey", on_delete=models.CASCADE, related_name="integration"
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="integration_keys"
    )

    class Meta:
        verbose_name = _("integration key")

    def __str__(self) -> str:
        return f"{self.api_key} for {self.department}"


class ResponseTemplate(models.Model):
    """A canned public message staff pick when changing status or closing issues."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="response_templates",
        null=True,
        blank=True,
        help_text=_("Leave empty to offer this template to every department."),
    )
    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text=_(
            "Placeholders: {request_id}, {service_type}, {address}, {department}, filled in "
            "for each issue."
        )
    )
    status = models.CharField(
        max_length=20, blank=True, help_text=_("The status this template is meant for, if any.")
    )
    # Scoped by type: "A crew filled this pothole" is offered for potholes only, never for a
    # graffiti report (issue 16).
    service_type = models.ForeignKey(
        "ServiceType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        help_text=_("Leave empty to offer this template for every type of the department."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class WardQuerySet(models.QuerySet):
    def version(self) -> tuple:
        """(count, newest change, largest id): changes whenever a ward is added, edited or
        removed, also by another process, so caches of ward geometry know when to rebuild."""
        agg = self.aggregate(
            n=models.Count("id"), changed=models.Max("updated_at"), top=models.Max("id")
        )
        return (agg["n"], agg["changed"], agg["top"])

    def index(self) -> WardIndex:
        """The point-in-ward index of every ward, rebuilt only when the wards changed."""
        return WardIndex.current(
            Ward.objects.version(),
            lambda: list(Ward.objects.order_by("number").values_list("id", "boundary")),
        )

    def containing(self, lat: float | None, lon: float | None) -> "Ward | None":
        """The ward whose boundary contains the point, or None (outside the city, or no point)."""
        ward_id = self.index().ward_id_at(lat, lon)
        if ward_id is None:
            return None
        return self.filter(pk=ward_id).first()

    def ids_for_points(self, points) -> list[int | None]:
        """Ward ids for many (lat, lon) points at once, through a spatial index (imports)."""
        return self.index().ward_ids_for(points)


class Ward(models.Model):
    """A council ward: a polygon held by one or more aldermen."""

    number = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    boundary = models.JSONField(help_text=_("GeoJSON MultiPolygon in WGS84 lon/lat."))
    min_lat = models.FloatField()
    max_lat = models.FloatField()
    min_lon = models.FloatField()
    max_lon = models.FloatField()
    aldermen = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="wards", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WardQuerySet.as_manager()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        shape = shape_from_geojson(self.boundary)
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = shape.bounds
        if not self.slug:
            self.slug = f"ward-{self.number}"
        super().save(*args, **kwargs)
        WardIndex.invalidate()

    def delete(self, *args, **kwargs):
        # Its issues keep no ward (SET_NULL); issues.services.delete_wards also moves them in the
        # dashboards' counters, and is the way to delete a ward.
        result = super().delete(*args, **kwargs)
        WardIndex.invalidate()
        return result

    def clean(self):
        try:
            shape = shape_from_geojson(self.boundary)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValidationError({"boundary": _("Not a GeoJSON polygon: %s") % exc}) from exc
        if not shape.is_valid:
            raise ValidationError({"boundary": _("The polygon is not valid (it crosses itself).")})

    @property
    def center(self) -> tuple[float, float]:
        return ((self.min_lat + self.max_lat) / 2, (self.min_lon + self.max_lon) / 2)


class AssetLayer(SlugFromName):
    """A kind of city asset people can point at and adopt: bus stops, street lights, hydrants.

    Its service types (ServiceType.asset_layer) are the problems reported against its assets;
    the adoption terms (how many adopters an asset may have, the care task and its rhythm) are
    the layer's, agreed to by each adopter when they adopt."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    asset_label = models.CharField(
        _("one asset is called"), max_length=60, help_text=_("Singular, e.g. “street light”.")
    )
    asset_label_plural = models.CharField(
        _("several are called"), max_length=60, help_text=_("e.g. “street lights”.")
    )
    description = models.TextField(blank=True)
    adoptable = models.BooleanField(
        default=False, help_text=_("Residents may adopt its assets and look after them.")
    )
    max_adopters = models.PositiveSmallIntegerField(
        _("adopters per asset"), default=1, help_text=_("How many people may adopt one asset.")
    )
    care_task = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("What an adopter agrees to do, e.g. “Clean the shelter and pick up litter”."),
    )
    care_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        default=30,
        help_text=_("An adopter is reminded when a visit is due."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_adopters__gte=1), name="assetlayer_max_adopters_1"
            ),
            models.CheckConstraint(
                condition=models.Q(care_every_days__gte=1), name="assetlayer_every_days_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AssetQuerySet(models.QuerySet):
    def in_bbox(self, south: float, west: float, north: float, east: float):
        return self.filter(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )


class Asset(models.Model):
    """One asset of a layer: a stop, a pole, a hydrant, where it is and what the source says."""

    layer = models.ForeignKey(AssetLayer, on_delete=models.CASCADE, related_name="assets")
    source_id = models.CharField(
        _("id"), max_length=64, help_text=_("The asset's id in the city's inventory.")
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=64, blank=True)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    ward = models.ForeignKey(
        Ward, on_delete=models.SET_NULL, null=True, blank=True, related_name="assets"
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text=_("Everything else the source file says about it.")
    )
    # Kept by the adoption services (issues/services/adoption.py) under the asset's row lock:
    # maps and ward figures read it without a join, and it is what the per-asset limit checks.
    adopter_count = models.PositiveSmallIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["layer", "source_id"]
        indexes = [
            # The nearest assets to a pin and a layer's map read a box of one layer from here;
            # with the adopter count included, the map's clusters never touch the table
            # (PostgreSQL's INCLUDE).
            models.Index(
                fields=["layer", "latitude", "longitude"],
                include=["id", "adopter_count"],
                name="asset_layer_position",
            ),
            models.Index(fields=["layer", "ward"], name="asset_layer_ward"),
        ]
        constraints = [
            # The id first: the workbench finds an issue's asset by its id alone, across layers.
            models.UniqueConstraint(fields=["source_id", "layer"], name="asset_source_id_unique"),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="asset_point_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.name}"
