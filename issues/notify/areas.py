"""Which alert areas a report falls in: the indexed corner box first, then the exact distance.

An alert covers a point when the point is inside its circle, so inside its bounding box; with
radii capped at ALERT_RADIUS_MAX_M, the box's south-west corner (lat_min, lon_min) is at most a
diameter (twice the cap) below and left of the point. Filtering the corner into that small range is a range scan on
the (lat_min, lon_min) index whatever the number of alerts; lat_max/lon_max then drop the boxes
that end before the point, and the haversine drops the box corners outside the circle.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from departments.geo import degrees_around, distance_m
from departments.models import ServiceType
from issues.models import ALERT_RADIUS_MAX_M, AlertFrequency, AreaAlert, Issue
from issues.notify.recipients import Recipient


def candidates(latitude: float, longitude: float) -> QuerySet[AreaAlert]:
    """Live alerts whose bounding box holds the point (one indexed query, nothing measured)."""
    # The corner of a box holding the point is at most one diameter away; a little more, since a
    # box centred a few km south of the point is a hair wider in longitude.
    dlat, dlon = degrees_around(latitude, 2 * ALERT_RADIUS_MAX_M * 1.01)
    return AreaAlert.objects.filter(
        lat_min__gte=latitude - dlat,
        lat_min__lte=latitude,
        lon_min__gte=longitude - dlon,
        lon_min__lte=longitude,
        lat_max__gte=latitude,
        lon_max__gte=longitude,
        active=True,
        confirmed_at__isnull=False,
    )


def alerts_covering(
    latitude: float, longitude: float, *, service_type_id: int | None = None
) -> list[AreaAlert]:
    """Confirmed, active alerts whose circle holds the point and whose types (if any) include
    `service_type_id`. Two queries: the candidates, and their types."""
    found = []
    rows = (
        candidates(latitude, longitude)
        .select_related("user")
        .prefetch_related(Prefetch("service_types", queryset=ServiceType.objects.only("pk")))
    )
    for alert in rows:
        if distance_m(alert.latitude, alert.longitude, latitude, longitude) > alert.radius_m:
            continue
        types = {t.pk for t in alert.service_types.all()}
        if types and service_type_id not in types:
            continue
        found.append(alert)
    return found


@dataclass(frozen=True)
class AlertRecipient:
    recipient: Recipient
    alert: AreaAlert


def instant_recipients(issue: Issue, *, updates: bool = False) -> list[AlertRecipient]:
    """Who hears at once about a report (or, with `updates`, about its news) through an alert:
    one per address, the alert that matched first naming the unsubscribe link. Hidden or
    unplaced reports reach nobody this way."""
    if issue.is_hidden or issue.latitude is None or issue.longitude is None:
        return []
    result, seen = [], set()
    for alert in alerts_covering(
        issue.latitude, issue.longitude, service_type_id=issue.service_type_id
    ):
        if alert.frequency != AlertFrequency.INSTANT or (updates and not alert.include_updates):
            continue
        email = alert.address.lower()
        if not email or email in seen:
            continue
        seen.add(email)
        result.append(
            AlertRecipient(
                recipient=Recipient(email=email, user=alert.user if alert.user_id else None),
                alert=alert,
            )
        )
    return result
