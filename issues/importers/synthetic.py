"""Synthetic issues at scale, for load tests and benchmarks.

The shape follows the real data we have: the demo catalogue's mix of types (potholes, lights and
graffiti dominate, as in Chicago's 311), a few busy wards and many quiet ones, ages that thin out
over three years, and the NYC sample's lifecycle (most requests closed within days, the rest open,
acknowledged or in progress; old closed ones archived), with a steady flow over the years. Points are drawn inside the ward polygons,
so every issue lands in the ward it was generated for.

Rows are written through COPY on PostgreSQL (a million in a few minutes) and bulk inserts
elsewhere, with a StatusChange for every step so timelines and dashboards have history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from django.db import transaction
from django.utils import timezone

from departments.demo import DemoReport, load_catalogue, load_wards
from departments.importing import bulk
from departments.models import Department, ServiceType, Ward
from departments.wards import shape_from_geojson
from issues import pagecache
from issues.dashboards import recount
from issues.demo import DESCRIPTIONS, STREETS
from issues.importers.publicids import insert_issues
from issues.models import Source, Status, StatusChange

SYNTHETIC_SOURCE = "synthetic"
BATCH = 50_000
YEARS = 3

# Relative frequency of each demo type (the demo city's mix, after Chicago's 311 volumes).
TYPE_WEIGHTS = {
    "pothole": 30,
    "graffiti": 14,
    "street-light-out": 14,
    "abandoned-vehicle": 8,
    "rodent-baiting": 8,
    "found-syringe": 3,
    "water-on-street": 6,
    "water-meter-stolen": 2,
    "tree-debris": 8,
    "fallen-tree-greenway": 2,
    "dirty-bus-shelter": 3,
    "sanitation-code": 8,
}
SOURCES = [Source.WEB.value, Source.OPEN311.value, Source.STAFF.value]
SOURCE_WEIGHTS = [0.7, 0.2, 0.1]
NOTES = {
    Status.ACKNOWLEDGED.value: "The city has received your report.",
    Status.IN_PROGRESS.value: "A crew is scheduled.",
    Status.CLOSED.value: "The work is done. Thank you for reporting it.",
    Status.ARCHIVED.value: "",
}


@dataclass
class GenerateSummary:
    created: int = 0
    status_changes: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


def ensure_city() -> None:
    """The demo wards and catalogue, if the database has none."""
    report = DemoReport()
    with transaction.atomic():
        if not Ward.objects.exists():
            load_wards(report)
        if not ServiceType.objects.exists():
            load_catalogue(report)


class _WardSampler:
    """Uniform points inside each ward, drawn in vectorised batches (rejection sampling)."""

    def __init__(self, wards: list[Ward], rng: np.random.Generator):
        self.rng = rng
        self.ids = [w.pk for w in wards]
        self.geoms = [shape_from_geojson(w.boundary) for w in wards]
        for g in self.geoms:
            shapely.prepare(g)

    def points(self, ward_index: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        geom = self.geoms[ward_index]
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        lats, lons = [], []
        need = count
        while need > 0:
            n = max(need * 3, 64)
            x = self.rng.uniform(min_lon, max_lon, n)
            y = self.rng.uniform(min_lat, max_lat, n)
            inside = shapely.contains_xy(geom, x, y)
            lons.append(x[inside][:need])
            lats.append(y[inside][:need])
            need -= len(lons[-1])
        return np.round(np.concatenate(lats), 6), np.round(np.concatenate(lons), 6)


def generate_issues(
    count: int,
    *,
    seed: int | None = None,
    batch_size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> GenerateSummary:
    started = time.monotonic()
    ensure_city()
    rng = np.random.default_rng(seed)
    types = list(ServiceType.objects.active().order_by("pk"))
    if not types:
        types = list(ServiceType.objects.order_by("pk"))
    wards = list(Ward.objects.order_by("number"))
    type_weights = np.array([TYPE_WEIGHTS.get(t.service_code, 2) for t in types], dtype=float)
    type_weights /= type_weights.sum()
    # A few busy wards and a long quiet tail, stable for a given seed.
    ward_weights = np.random.default_rng(7).lognormal(0.0, 0.6, len(wards))
    ward_weights /= ward_weights.sum()
    sampler = _WardSampler(wards, rng)
    descriptions = {
        t.pk: DESCRIPTIONS.get(t.service_code) or [t.description or t.name] for t in types
    }
    summary = GenerateSummary()
    references = {
        ServiceType: [t.pk for t in types],
        Department: [t.department_id for t in types],
        Ward: [w.pk for w in wards],
    }
    now = timezone.now()
    remaining = count
    while remaining > 0:
        n = min(batch_size, remaining)
        with transaction.atomic():
            issues, changes = _batch(
                n, rng, now, types, type_weights, wards, ward_weights, sampler, descriptions
            )
            bulk.defer_reference_checks(references)
            ids = insert_issues(issues)
            for change in changes:
                change["issue_id"] = ids[change.pop("_row")]
            bulk.add_rows(StatusChange, changes)
        summary.created += n
        summary.status_changes += len(changes)
        remaining -= n
        if on_batch:
            on_batch(summary.created)
    # The dashboards' rollup is recounted once at the end rather than kept per batch: every
    # batch spans three years of days, so per-batch deltas upserted ~270k rows per 50k issues
    # (22 s of 40 s per 100k); one recount costs about a tenth of that. An interrupted run
    # leaves the rollup behind until `rebuild_rollups`; this is synthetic data for benchmarks.
    recount.rebuild()
    recount.rebuild_map_cells()
    pagecache.bump_all()
    summary.seconds = time.monotonic() - started
    return summary


def _batch(n, rng, now, types, type_weights, wards, ward_weights, sampler, descriptions):
    type_idx = rng.choice(len(types), size=n, p=type_weights)
    ward_idx = rng.choice(len(wards), size=n, p=ward_weights)
    lat = np.empty(n)
    lon = np.empty(n)
    for w in np.unique(ward_idx):
        where = np.nonzero(ward_idx == w)[0]
        lat[where], lon[where] = sampler.points(int(w), len(where))
    # Ages spread over the years with a mild tilt to recent ones (use of the service grows):
    # about 6% in the last month and 14% in the last quarter, as a steady city would have.
    age_days = YEARS * 365 * rng.random(n) ** 1.25
    roll = rng.random(n)
    # Days to close: lognormal around a week (NYC's sample closes most within days).
    close_days = rng.lognormal(math.log(5), 1.0, n)
    step_hours = rng.uniform(2, 48, (n, 2))
    source_idx = rng.choice(len(SOURCES), size=n, p=SOURCE_WEIGHTS)
    votes = rng.poisson(0.6, n)
    house = rng.integers(100, 9000, n)
    street = rng.integers(0, len(STREETS), n)
    pick = rng.integers(0, 2, n)

    issues: list[dict] = []
    changes: list[dict] = []
    for i in range(n):
        service_type = types[type_idx[i]]
        requested_at = now - timedelta(days=float(age_days[i]))
        history, closed_at = _lifecycle(
            requested_at,
            now,
            age=float(age_days[i]),
            roll=roll[i],
            close_days=close_days[i],
            step_hours=step_hours[i],
        )
        status = history[-1][0] if history else Status.OPEN.value
        options = descriptions[service_type.pk]
        issues.append(
            {
                "service_type_id": service_type.pk,
                "department_id": service_type.department_id,
                "ward_id": wards[ward_idx[i]].pk,
                "needs_triage": False,
                "status": status,
                "status_notes": NOTES.get(status, ""),
                "description": options[pick[i] % len(options)],
                "address": f"{house[i]} {STREETS[street[i]]}",
                "latitude": float(lat[i]),
                "longitude": float(lon[i]),
                "requested_at": requested_at,
                "updated_at": history[-1][1] if history else requested_at,
                "closed_at": closed_at,
                "expected_at": requested_at + timedelta(hours=service_type.sla_hours)
                if service_type.sla_hours
                else None,
                "source": SOURCES[source_idx[i]],
                "external_source": SYNTHETIC_SOURCE,
                "vote_count": int(votes[i]),
                "attributes": {},
            }
        )
        changes += _timeline(i, service_type, requested_at, history)
    return issues, changes


def _lifecycle(
    requested_at: datetime,
    now: datetime,
    *,
    age: float,
    roll: float,
    close_days: float,
    step_hours: np.ndarray,
) -> tuple[list[tuple[str, datetime]], datetime | None]:
    """The statuses one request moved through after opening, with when, and when it closed.

    `roll` is the request's one uniform draw, `step_hours` the hours to acknowledge and then to
    start work, `close_days` the days it would take to close.
    """
    # A few requests are never closed; fewer the older they are (backlogs get cleaned up).
    closed = close_days < age and roll < (0.92 if age < 90 else 0.98)
    history: list[tuple[str, datetime]] = []
    at = requested_at
    if closed or roll < 0.97:
        if age * 24 > step_hours[0]:
            at = requested_at + timedelta(hours=float(step_hours[0]))
            history.append((Status.ACKNOWLEDGED.value, at))
        if (closed or roll < 0.95) and age * 24 > step_hours[0] + step_hours[1]:
            at = at + timedelta(hours=float(step_hours[1]))
            history.append((Status.IN_PROGRESS.value, at))
    closed_at = None
    if closed:
        closed_at = max(requested_at + timedelta(days=float(close_days)), at)
        history.append((Status.CLOSED.value, closed_at))
        if age > 365 and roll < 0.5:
            history.append((Status.ARCHIVED.value, min(closed_at + timedelta(days=90), now)))
    return history, closed_at


def _timeline(
    row: int,
    service_type: ServiceType,
    requested_at: datetime,
    history: list[tuple[str, datetime]],
) -> list[dict]:
    """One issue's StatusChange rows: opened, then each step of its history. `_row` is its place
    in the batch, swapped for its id once the batch is inserted."""
    changes = [
        {
            "_row": row,
            "from_status": "",
            "to_status": Status.OPEN.value,
            "to_department_id": service_type.department_id,
            "created_at": requested_at,
        }
    ]
    previous = Status.OPEN.value
    for to, when in history:
        changes.append(
            {
                "_row": row,
                "from_status": previous,
                "to_status": to,
                "message": NOTES[to],
                "created_at": when,
            }
        )
        previous = to
    return changes
