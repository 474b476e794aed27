"""Alerts around a place: a point, a radius and optionally some service types. New reports there
(and, if asked, their updates) are emailed at once or gathered in a daily or weekly digest.

Matching a new report must stay cheap with tens of thousands of alerts, so each alert stores its
bounding box (lat/lon min/max) in indexed columns. Because the radius is capped (ALERT_RADIUS_MAX_M),
an alert that covers a point has its south-west corner within a small, known box below-left of the
point: the query is a range scan on the (lat_min, lon_min) index, and only the few candidates it
returns are measured exactly (issues/notify/areas.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.geo import degrees_around
from issues.models.notify import current_language, new_token

ALERT_RADIUS_MIN_M = 200
ALERT_RADIUS_MAX_M = 5000


class AlertFrequency(models.TextChoices):
    INSTANT = "instant", _("One email per new report")
    DAILY = "daily", _("A daily summary")
    WEEKLY = "weekly", _("A weekly summary")


class AreaAlert(models.Model):
    """Someone (an account, or a bare address once confirmed) watching a circle on the map."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="area_alerts",
    )
    email = models.EmailField(blank=True)
    label = models.CharField(max_length=120, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    radius_m = models.PositiveIntegerField()
    # The bounding box of the circle, kept by save(): what the matching query filters on.
    lat_min = models.FloatField(editable=False)
    lat_max = models.FloatField(editable=False)
    lon_min = models.FloatField(editable=False)
    lon_max = models.FloatField(editable=False)
    service_types = models.ManyToManyField(
        "departments.ServiceType", blank=True, related_name="area_alerts"
    )
    include_updates = models.BooleanField(default=False)
    frequency = models.CharField(
        max_length=10, choices=AlertFrequency.choices, default=AlertFrequency.INSTANT
    )
    # The feed's and the management links' secret; unsubscribe links are signed separately.
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Off after an unsubscribe link (its "undo" turns it back on); deleting is the profile's.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    # The language of the page the alert was made on: its emails' language for an address with
    # no account (an account's own choice wins). Blank: unknown, the city's default.
    language = models.CharField(max_length=16, blank=True, default=current_language)

    class Meta:
        verbose_name = _("area alert")
        verbose_name_plural = _("area alerts")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["lat_min", "lon_min"], name="area_alert_corner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(email=""))
                | (models.Q(user__isnull=True) & ~models.Q(email="")),
                name="area_alert_user_xor_email",
            ),
            models.CheckConstraint(
                condition=models.Q(radius_m__gte=ALERT_RADIUS_MIN_M)
                & models.Q(radius_m__lte=ALERT_RADIUS_MAX_M),
                name="area_alert_radius_range",
            ),
        ]

    def __str__(self) -> str:
        who = (self.user_id and f"user {self.user_id}") or self.email
        return f"{who}: {self.radius_m} m around {self.latitude:.5f},{self.longitude:.5f}"

    def save(self, *args, **kwargs):
        self.set_bbox()
        super().save(*args, **kwargs)

    @property
    def address(self) -> str:
        return self.user.email if self.user_id else self.email

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def set_bbox(self) -> None:
        dlat, dlon = degrees_around(self.latitude, self.radius_m)
        self.lat_min, self.lat_max = self.latitude - dlat, self.latitude + dlat
        self.lon_min, self.lon_max = self.longitude - dlon, self.longitude + dlon
