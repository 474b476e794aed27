"""Wards: their boundaries (GeoJSON kept as text) and the point-in-ward index built from them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from departments.wards import WardIndex, shape_from_geojson


class WardQuerySet(models.QuerySet):
    def version(self) -> tuple:
        """(count, newest change, largest id): changes whenever a ward is added, edited or
        removed, also by another process, so caches of ward geometry know when to rebuild."""
        agg = self.aggregate(
            n=models.Count("id"), changed=models.Max("updated_at"), top=models.Max("id")
        )
        return (agg["n"], agg["changed"], agg["top"])

    def version_and_extent(self) -> tuple[tuple, tuple[float, float, float, float] | None]:
        """version() and the wards' extent (west, south, east, north; None without wards) in
        the same one aggregate, so the home map can open on the whole city at no extra query."""
        agg = self.aggregate(
            n=models.Count("id"),
            changed=models.Max("updated_at"),
            top=models.Max("id"),
            west=models.Min("min_lon"),
            south=models.Min("min_lat"),
            east=models.Max("max_lon"),
            north=models.Max("max_lat"),
        )
        extent = (agg["west"], agg["south"], agg["east"], agg["north"])
        return (agg["n"], agg["changed"], agg["top"]), (None if None in extent else extent)

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

    number = models.PositiveSmallIntegerField(unique=True, verbose_name=_("number"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    boundary = models.JSONField(
        help_text=_("GeoJSON MultiPolygon in WGS84 lon/lat."), verbose_name=_("boundary")
    )
    min_lat = models.FloatField(verbose_name=_("min lat"))
    max_lat = models.FloatField(verbose_name=_("max lat"))
    min_lon = models.FloatField(verbose_name=_("min lon"))
    max_lon = models.FloatField(verbose_name=_("max lon"))
    aldermen = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="wards", blank=True, verbose_name=_("aldermen")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = WardQuerySet.as_manager()

    class Meta:
        verbose_name = _("ward")
        verbose_name_plural = _("wards")
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
