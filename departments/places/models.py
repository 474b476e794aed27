"""The gazetteer's rows: named points the city owns (address points, intersections, landmarks).

Defined here and re-exported by departments/models.py, so the catalogue's models stay one import
away and this part of it stays in its own file.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    ADDRESS = "address", _("Address")
    INTERSECTION = "intersection", _("Intersection")
    LANDMARK = "landmark", _("Landmark")


class PlaceQuerySet(models.QuerySet):
    def in_bbox(self, south: float, west: float, north: float, east: float):
        return self.filter(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )

    def on_street(self, core: str):
        """Every place on a street (either street of an intersection), by its core name."""
        return self.filter(models.Q(street_a=core) | models.Q(street_b=core))

    def crossings(self, core: str):
        """The intersections on a street. `street_b > ''` keeps the (street_a, street_b) index
        range away from the street's address points, of which there may be thousands."""
        return self.filter(
            models.Q(street_a=core, street_b__gt="") | models.Q(street_b=core)
        ).filter(kind=PlaceKind.INTERSECTION)


class Place(models.Model):
    """One named point. `street_a`/`street_b` are the search form (departments/places/normalize.py):
    an intersection's two street cores in sorted order, an address's street core (with its
    `number`), a landmark's name; `name` is what people read."""

    kind = models.CharField(max_length=16, choices=PlaceKind.choices)
    source_id = models.CharField(
        _("id"), max_length=64, help_text=_("The place's id in the file it came from.")
    )
    name = models.CharField(max_length=200)
    street_a = models.CharField(max_length=100)
    street_b = models.CharField(max_length=100, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    ward = models.ForeignKey(
        "departments.Ward",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="places",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # Search: an intersection by its two streets (either typed first: both orders are
            # one sorted pair), an address by street and number, a street's places.
            models.Index(fields=["street_a", "street_b"], name="place_streets"),
            models.Index(fields=["street_b", "street_a"], name="place_streets_reversed"),
            models.Index(fields=["street_a", "number"], name="place_street_number"),
            # Reverse: the bounding box around a point, as for issues and assets.
            # One kind at a time: the nearest intersection's box is wide, and must not scan the
            # address points in its band.
            models.Index(fields=["kind", "latitude", "longitude"], name="place_kind_position"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source_id", "kind"], name="place_source_id_unique"),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="place_point_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
