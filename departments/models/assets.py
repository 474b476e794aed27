"""Asset layers (street lights, bus stops) and their assets, on the same indexed numeric
coordinates as issues (issue 22)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models.catalogue import SlugFromName
from departments.models.wards import Ward


class AssetLayer(SlugFromName):
    """A kind of city asset people can point at and adopt: bus stops, street lights, hydrants.

    Its service types (ServiceType.asset_layer) are the problems reported against its assets;
    the adoption terms (how many adopters an asset may have, the care task and its rhythm) are
    the layer's, agreed to by each adopter when they adopt."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    asset_label = models.CharField(
        _("one asset is called"), max_length=60, help_text=_("Singular, e.g. “street light”.")
    )
    asset_label_plural = models.CharField(
        _("several are called"), max_length=60, help_text=_("e.g. “street lights”.")
    )
    description = models.TextField(_("description"), blank=True)
    adoptable = models.BooleanField(
        _("adoptable"),
        default=False,
        help_text=_("Residents may adopt its assets and look after them."),
    )
    max_adopters = models.PositiveSmallIntegerField(
        _("adopters per asset"), default=1, help_text=_("How many people may adopt one asset.")
    )
    care_task = models.CharField(
        _("care task"),
        max_length=255,
        blank=True,
        help_text=_("What an adopter agrees to do, e.g. “Clean the shelter and pick up litter”."),
    )
    care_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        default=30,
        help_text=_("An adopter is reminded when a visit is due."),
    )
    # The city's words in other languages (name, labels, description, care task), beside the
    # original (departments/translations.py).
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("asset layer")
        verbose_name_plural = _("asset layers")
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

    layer = models.ForeignKey(
        AssetLayer, on_delete=models.CASCADE, related_name="assets", verbose_name=_("layer")
    )
    source_id = models.CharField(
        _("id"), max_length=64, help_text=_("The asset's id in the city's inventory.")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=64, blank=True)
    latitude = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    ward = models.ForeignKey(
        Ward,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("ward"),
    )
    attributes = models.JSONField(
        _("attributes"),
        default=dict,
        blank=True,
        help_text=_("Everything else the source file says about it."),
    )
    # Kept by the adoption services (issues/services/adoption.py) under the asset's row lock:
    # maps and ward figures read it without a join, and it is what the per-asset limit checks.
    adopter_count = models.PositiveSmallIntegerField(_("adopters"), default=0, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["layer", "source_id"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
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
