"""Hotspot alerts: clusters of same-type reports, found nightly and alerted once.

A hotspot is a cluster that the ward's own usual rate cannot explain. A cluster is at least N
reports of one service type lying within R metres of one of them (its seed) over the last 7
days; N and R are per type (ServiceType.hotspot_min_reports/_radius_m). It is a hotspot only when
it is unusual against the ward's own baseline: the ward's reports of that type in the 90 days
before the window, spread evenly over the ward's area, give the number expected in a disc of
radius R over 7 days (lambda); the cluster is kept when the chance of at least as many reports
there by coincidence, P(X >= n) for X ~ Poisson(lambda), is below 1 in 1,000 (`P_VALUE`). A steady
trickle of a busy type across a ward forms chance groups of N now and then, and its baseline
explains them; a new problem at one park does not. The baseline counts one report more than it
saw (add-one), so a type never reported in the ward before still has a small, finite rate. The
ward page's definition (issues/dashboards/terms.py: hotspot_definition) says the same in words.

The database does the narrowing: reports of the window are counted per type on a grid of R-metre
cells, and only cells whose 3x3 neighbourhood holds N or more reports are read back. Python then
clusters that small set. A cluster that was alerted before is not alerted again, also when it has
grown or its seed moved: a new cluster that shares reports with, or lies within R of, a recent
alert of the same type updates that alert (count, reports, window) instead of writing a new one.
The alert's key is the type and the cluster's first report, unique in the database, so two
overlapping runs cannot both alert.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from departments.models import ServiceType, Ward
from departments.wards import shape_from_geojson
from issues.filters import IssueFilters
from issues.geo import bbox_around, distance_m, grid_counts, heat_steps
from issues.models import HotspotAlert, Issue, NotificationEvent
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.links import absolute
from issues.notify.recipients import Recipient, allowed, department_contact

log = logging.getLogger(__name__)

WINDOW_DAYS = 7
BASELINE_DAYS = 90
# Under 1 in 1,000 by coincidence: a ward has a few hundred discs of a typical radius, so a
# steady ward raises a false alarm for a type about once in several weeks at most.
P_VALUE = 0.001
# An alert this recent still "owns" its spot: reports there extend it rather than alert anew.
REALERT_AFTER_DAYS = 14
MIN_RADIUS_M = 10


@dataclass(frozen=True)
class Point:
    issue_id: int
    lat: float
    lon: float
    ward_id: int | None


@dataclass
class Cluster:
    service_type: ServiceType
    members: list[Point]

    @property
    def latitude(self) -> float:
        return sum(p.lat for p in self.members) / len(self.members)

    @property
    def longitude(self) -> float:
        return sum(p.lon for p in self.members) / len(self.members)

    @property
    def issue_ids(self) -> list[int]:
        return sorted(p.issue_id for p in self.members)

    @property
    def ward_id(self) -> int | None:
        """The ward most of its reports are in (ties: the lowest id)."""
        counts: dict[int, int] = defaultdict(int)
        for p in self.members:
            if p.ward_id is not None:
                counts[p.ward_id] += 1
        if not counts:
            return None
        return min(counts, key=lambda w: (-counts[w], w))

    @property
    def key(self) -> str:
        return f"{self.service_type.service_code}:{self.issue_ids[0]}"[:120]


def radius_of(service_type: ServiceType) -> int:
    """The type's radius, at least MIN_RADIUS_M: a 0 typed in the admin must not divide by zero."""
    return max(service_type.hotspot_radius_m or 0, MIN_RADIUS_M)


def candidate_points(*, service_type: ServiceType, since: datetime, until: datetime) -> list[Point]:
    """Reports of the type in the window that lie in a dense neighbourhood of grid cells."""
    window = Issue.objects.public().filter(
        service_type=service_type,
        requested_at__gte=since,
        requested_at__lte=until,
        latitude__isnull=False,
    )
    radius = radius_of(service_type)
    counts = {(int(r), int(c)): n for r, c, n in grid_counts(window, cell_m=radius)}
    need = service_type.hotspot_min_reports
    # Any cluster fits in the 3x3 block around its seed's cell (cells are R wide).
    dense = set()
    for r, c in counts:
        total = sum(counts.get((r + dr, c + dc), 0) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
        if total >= need:
            dense.update((r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
    if not dense:
        return []
    lat_step, lon_step = heat_steps(radius)
    # Read back only the dense cells, as bounding boxes merged per row of cells.
    rows: dict[int, list[int]] = defaultdict(list)
    for r, c in dense:
        if (r, c) in counts:
            rows[r].append(c)
    condition = Q()
    for r, cols in rows.items():
        condition |= Q(
            latitude__gte=r * lat_step,
            latitude__lt=(r + 1) * lat_step,
            longitude__gte=min(cols) * lon_step,
            longitude__lt=(max(cols) + 1) * lon_step,
        )
    points = window.filter(condition).order_by("requested_at", "pk")
    return [
        Point(issue_id=pk, lat=lat, lon=lon, ward_id=ward_id)
        for pk, lat, lon, ward_id in points.values_list("pk", "latitude", "longitude", "ward_id")
    ]


def find_clusters(points: list[Point], *, min_reports: int, radius_m: float) -> list[list[Point]]:
    """Greedy: the point with the most neighbours within R seeds a cluster of those neighbours;
    they are taken out and the search repeats. Neighbours are found once, through a grid of
    R-sized cells, so a dense night costs about n x (neighbours), not n squared per cluster."""
    if len(points) < min_reports:
        return []
    lat_step, lon_step = heat_steps(radius_m)
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    cells = []
    for i, p in enumerate(points):
        cell = (math.floor(p.lat / lat_step), math.floor(p.lon / lon_step))
        cells.append(cell)
        buckets[cell].append(i)
    neighbours: list[set[int]] = []
    for i, p in enumerate(points):
        r, c = cells[i]
        near = set()
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for j in buckets.get((r + dr, c + dc), ()):
                    q = points[j]
                    if distance_m(p.lat, p.lon, q.lat, q.lon) <= radius_m:
                        near.add(j)
        neighbours.append(near)
    remaining = set(range(len(points)))
    clusters = []
    while len(remaining) >= min_reports:
        # Most neighbours first; ties go to the earliest report, so runs are repeatable.
        seed = max(remaining, key=lambda i: (len(neighbours[i] & remaining), -i))
        members = neighbours[seed] & remaining
        if len(members) < min_reports:
            break
        clusters.append([points[i] for i in sorted(members)])
        remaining -= members
    return clusters


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), summed from k up (exact for the tiny tails that matter,
    where 1 - P(X < k) would lose every digit)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    term = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > total * 1e-16 and i < k + 1000:
        total += term
        i += 1
        term *= lam / i
    return min(1.0, total)


def expected_in_disc(
    *, baseline_count: int, area_m2: float, radius_m: float, window_days: float = WINDOW_DAYS
) -> float:
    """Reports of the type expected in a disc of radius_m over the window, from the ward's
    baseline spread evenly over its area and the baseline days (add-one: never zero)."""
    per_m2_day = (baseline_count + 1) / max(area_m2, 1.0) / BASELINE_DAYS
    return per_m2_day * math.pi * radius_m**2 * window_days


@dataclass(frozen=True)
class Significance:
    expected: float
    p_value: float

    @property
    def is_hotspot(self) -> bool:
        return self.p_value < P_VALUE


def significance(
    size: int, *, baseline_count: int, area_m2: float, radius_m: float
) -> Significance:
    lam = expected_in_disc(baseline_count=baseline_count, area_m2=area_m2, radius_m=radius_m)
    return Significance(expected=lam, p_value=poisson_tail(size, lam))


@lru_cache(maxsize=512)
def _area_m2_of(ward_id: int, updated: float) -> float:
    """A ward's area in square metres (local equirectangular projection: within a fraction of a
    percent at a city's size); cached per ward and boundary version."""
    boundary = Ward.objects.filter(pk=ward_id).values_list("boundary", flat=True).first()
    if boundary is None:
        return 0.0
    shape = shape_from_geojson(boundary)
    lat0 = (shape.bounds[1] + shape.bounds[3]) / 2
    kx = 111_320.0 * math.cos(math.radians(lat0))
    # The shoelace area in degrees squared, scaled to metres (lon by cos(latitude)).
    return shape.area * kx * 111_320.0


def ward_area_m2(ward_id: int | None) -> float:
    """The ward's area; for reports in no ward, the city's wards' average."""
    wards = dict(Ward.objects.values_list("pk", "updated_at"))
    if ward_id in wards:
        return _area_m2_of(ward_id, wards[ward_id].timestamp())
    areas = [_area_m2_of(pk, at.timestamp()) for pk, at in wards.items()]
    return sum(areas) / len(areas) if areas else 25_000_000.0


def baseline_counts(*, service_type: ServiceType, since: datetime) -> dict[int | None, int]:
    """Public reports of the type per ward in the BASELINE_DAYS before `since`: one query."""
    return dict(
        Issue.objects.public()
        .filter(
            service_type=service_type,
            requested_at__gte=since - timedelta(days=BASELINE_DAYS),
            requested_at__lt=since,
        )
        .order_by()
        .values("ward_id")
        .annotate(n=Count("id"))
        .values_list("ward_id", "n")
    )


def hotspots_among(
    groups: list[list[Point]], *, service_type: ServiceType, since: datetime
) -> list[tuple[Cluster, Significance]]:
    """The clusters that are hotspots: unusual against their ward's own baseline."""
    if not groups:
        return []
    baseline = baseline_counts(service_type=service_type, since=since)
    radius = radius_of(service_type)
    kept = []
    for members in groups:
        cluster = Cluster(service_type=service_type, members=members)
        ward_id = cluster.ward_id
        test = significance(
            len(members),
            baseline_count=baseline.get(ward_id, 0),
            area_m2=ward_area_m2(ward_id),
            radius_m=radius,
        )
        if test.is_hotspot:
            kept.append((cluster, test))
        else:
            log.info(
                "Cluster %s of %d not a hotspot: %.2f expected, p=%.4f",
                cluster.key,
                len(members),
                test.expected,
                test.p_value,
            )
    return kept


def _recent_alert_for(cluster: Cluster, recent: list[HotspotAlert]) -> HotspotAlert | None:
    ids = set(cluster.issue_ids)
    for alert in recent:
        if ids & set(alert.issue_ids):
            return alert
        far = distance_m(alert.latitude, alert.longitude, cluster.latitude, cluster.longitude)
        if far <= radius_of(cluster.service_type):
            return alert
    return None


def detect_and_alert(*, now: datetime | None = None, notify: bool = True) -> list[HotspotAlert]:
    """The nightly job: find new clusters for every active type, store and alert each once.
    Returns the new HotspotAlert rows. `notify=False` stores them without email (the demo's
    history: found, listed on the ward page, nobody mailed)."""
    now = now or timezone.now()
    since = now - timedelta(days=WINDOW_DAYS)
    created: list[HotspotAlert] = []
    for service_type in ServiceType.objects.active().select_related("department"):
        points = candidate_points(service_type=service_type, since=since, until=now)
        if len(points) < service_type.hotspot_min_reports:
            continue
        groups = find_clusters(
            points,
            min_reports=service_type.hotspot_min_reports,
            radius_m=radius_of(service_type),
        )
        found = hotspots_among(groups, service_type=service_type, since=since)
        if not found:
            continue
        recent = list(
            HotspotAlert.objects.filter(
                service_type=service_type,
                window_end__gte=now - timedelta(days=REALERT_AFTER_DAYS),
            )
        )
        for cluster, test in found:
            existing = _recent_alert_for(cluster, recent)
            if existing is not None:
                _extend(existing, cluster, now)
                continue
            alert = _store_and_notify(cluster, test, since=since, now=now, notify=notify)
            if alert is not None:
                created.append(alert)
                recent.append(alert)
    return created


def _extend(alert: HotspotAlert, cluster: Cluster, now: datetime) -> None:
    """A known hotspot grew (or is still there): keep its figures current, tell nobody."""
    ids = sorted(set(alert.issue_ids) | set(cluster.issue_ids))
    if ids == sorted(alert.issue_ids):
        return
    alert.issue_ids = ids
    alert.report_count = len(ids)
    alert.window_end = now
    alert.save(update_fields=["issue_ids", "report_count", "window_end"])


def _store_and_notify(
    cluster: Cluster, test: Significance, *, since: datetime, now: datetime, notify: bool = True
) -> HotspotAlert | None:
    service_type = cluster.service_type
    ward = Ward.objects.filter(pk=cluster.ward_id).first() if cluster.ward_id else None
    try:
        with transaction.atomic():
            alert = HotspotAlert.objects.create(
                service_type=service_type,
                ward=ward,
                latitude=round(cluster.latitude, 6),
                longitude=round(cluster.longitude, 6),
                radius_m=radius_of(service_type),
                report_count=len(cluster.members),
                window_start=since,
                window_end=now,
                issue_ids=cluster.issue_ids,
                key=cluster.key,
                expected_count=round(test.expected, 4),
                p_value=test.p_value,
            )
            ids = _notify(alert) if notify else []
    except IntegrityError:
        # Another run stored this cluster first: it has alerted, so this one stays quiet.
        log.info("Hotspot %s already alerted", cluster.key)
        return None
    schedule_delivery(ids)
    return alert


def recipients_for(alert: HotspotAlert) -> list[tuple[Recipient, tuple]]:
    """The department that works the type and the ward's aldermen, each with the unsubscribe
    scope their link gets. Opted-out addresses and inactive accounts are dropped by the outbox's
    usual rules; an alert is official business, so "updates about my reports" does not apply."""
    people: list[tuple[Recipient, tuple]] = []
    department = alert.service_type.department
    # The department's feed switch (notify_new_issues) also stops alerts, as its unsubscribe link
    # says: checked here, so a switched-off department gets no row, not a withdrawn one.
    people.extend(
        (recipient, ("department", department.pk)) for recipient in department_contact(department)
    )
    if alert.ward_id:
        # Aldermen get their wards' mail (digest and alerts) under one switch, so the link that
        # stops the digest also stops these.
        aldermen = alert.ward.aldermen.filter(is_active=True, notify_ward_digest=True)
        for user in aldermen.order_by("pk"):
            people.append((Recipient(email=user.email, user=user), ("digest", None)))
    willing = {r.email.lower() for r in allowed([r for r, _ in people], personal=False)}
    return [(r, scope) for r, scope in people if r.email.lower() in willing]


def _notify(alert: HotspotAlert) -> list[int]:
    params = IssueFilters(
        service_codes=[alert.service_type.service_code],
        start=timezone.localdate(alert.window_start),
        bbox=bbox_around(alert.latitude, alert.longitude, alert.radius_m * 2),
    ).querystring()
    context = {
        "alert": alert,
        "service_type": alert.service_type,
        "ward": alert.ward,
        "list_url": absolute(f"{reverse('issues:home')}?{params}"),
        "dashboard_url": (
            absolute(reverse("wards:detail", kwargs={"slug": alert.ward.slug}))
            if alert.ward_id
            else ""
        ),
    }
    drafts = [
        Draft(
            event=NotificationEvent.HOTSPOT,
            ref=alert.key,
            recipient=recipient,
            ward=alert.ward,
            context=context,
            unsubscribe_scope=scope,
        )
        for recipient, scope in recipients_for(alert)
    ]
    return write_rows(drafts)
