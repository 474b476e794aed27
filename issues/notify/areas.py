"""Which alert areas a report falls in: the indexed corner box first, then the exact distance.

An alert covers a point when the point is inside its circle, so inside its bounding box; with
radii capped at ALERT_RADIUS_MAX_M, the box's south-west corner (lat_min, lon_min) is at most a
diameter (twice the cap) below and left of the point. Filtering the corner into that small range is a range scan on
the (lat_min, lon_min) index whatever the number of alerts; lat_max/lon_max then drop the boxes
that end before the point, and the haversine drops the box corners outside the circle.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from departments.geo import degrees_around, distance_m
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


@dataclass(frozen=True)
class Match:
    """An alert that covers a point: what an email needs of it, read as plain values (at 100k
    alerts a report can match thousands, and model instances cost more than the query)."""

    pk: int
    label: str
    radius_m: int
    frequency: str
    include_updates: bool
    user_id: int | None
    address: str
    # The account's language, else the one the alert was made in (recipients.language_for).
    language: str = ""


def alerts_covering(
    latitude: float, longitude: float, *, service_type_id: int | None = None
) -> list[Match]:
    """Confirmed, active alerts whose circle holds the point and whose types (if any) include
    `service_type_id`, nearest first. One query: the corner box, with the types joined (an alert
    without types has one row with no type; one with types has at most the matching row)."""
    rows = candidates(latitude, longitude).order_by()
    if service_type_id is not None:
        rows = rows.filter(Q(service_types__isnull=True) | Q(service_types=service_type_id))
    found = []
    for (
        pk,
        lat,
        lon,
        radius,
        frequency,
        updates,
        label,
        user_id,
        email,
        user_email,
        language,
        user_language,
    ) in rows.values_list(
        "pk",
        "latitude",
        "longitude",
        "radius_m",
        "frequency",
        "include_updates",
        "label",
        "user_id",
        "email",
        "user__email",
        "language",
        "user__language",
    ):
        distance = distance_m(lat, lon, latitude, longitude)
        if distance <= radius:
            match = Match(
                pk,
                label,
                radius,
                frequency,
                updates,
                user_id,
                user_email or email,
                user_language or language,
            )
            found.append((distance, pk, match))
    return [match for _d, _pk, match in sorted(found, key=lambda f: (f[0], f[1]))]


@dataclass(frozen=True)
class AlertRecipient:
    recipient: Recipient
    alert: Match


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
                recipient=Recipient(email=email, language=alert.language),
                alert=alert,
            )
        )
    return result
