"""A ward with a known history: every dashboard figure can be recomputed from these rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import shapely
from django.utils import timezone

from departments.demo import WARDS_FILE
from departments.models import ServiceType, Ward
from departments.wards import shape_from_geojson
from issues import services
from issues.models import Issue, Status
from tests.factories import make_issue, make_service_type, make_staff


def points_in(ward: Ward, n: int, spacing: float = 0.006) -> list[tuple[float, float]]:
    """n points well inside the ward (about 300 m from its edge, where simplified neighbouring
    outlines may overlap), `spacing` degrees apart, each routed to this ward by the real lookup."""
    geom = shape_from_geojson(ward.boundary)
    inner = geom.buffer(-0.003)
    if inner.is_empty:
        inner = geom
    start = inner.representative_point()
    index = Ward.objects.index()

    def fits(lat: float, lon: float) -> bool:
        return inner.contains(shapely.Point(lon, lat)) and index.ward_id_at(lat, lon) == ward.pk

    found = [(start.y, start.x)] if fits(start.y, start.x) else []
    ring = 1
    while len(found) < n and ring < 30:
        for dy in range(-ring, ring + 1):
            for dx in range(-ring, ring + 1):
                if max(abs(dx), abs(dy)) != ring or len(found) >= n:
                    continue
                lat, lon = start.y + dy * spacing, start.x + dx * spacing
                if fits(lat, lon):
                    found.append((lat, lon))
        ring += 1
    assert len(found) == n, f"could not place {n} points in {ward}"
    return found


SOME_WARDS = (1, 2, 3, 11)


@pytest.fixture
def some_wards(db) -> list[Ward]:
    return load_some_wards()


def load_some_wards() -> list[Ward]:
    """Four real wards (not all fifty): enough for every figure, and quick to set up."""
    data = json.loads(WARDS_FILE.read_text())
    for feature in data["features"]:
        number = int(str(feature["properties"]["ward"]).strip())
        if number in SOME_WARDS:
            Ward.objects.create(
                number=number,
                name=f"Ward {number}",
                slug=f"ward-{number}",
                boundary=feature["geometry"],
            )
    return list(Ward.objects.order_by("number"))


@dataclass
class Scenario:
    ward: Ward
    other_ward: Ward
    pothole: ServiceType
    graffiti: ServiceType
    staff: object
    issues: list[Issue] = field(default_factory=list)

    def refreshed(self) -> list[Issue]:
        return list(Issue.objects.filter(pk__in=[i.pk for i in self.issues]))


# (days ago reported, type, days until closed or None, then: "archive"/"reopen"/None, hidden, point)
HISTORY = [
    (0.05, "pothole", None, None, False, 0),
    (2, "pothole", None, None, False, 0),
    (10, "pothole", None, None, False, 0),  # overdue (SLA 72 h)
    (40, "graffiti", None, None, False, 1),  # no SLA: never overdue
    (120, "pothole", None, None, False, 1),  # 90+ days, overdue
    (20, "pothole", 1, None, False, 0),  # closed within SLA
    (30, "pothole", 5, None, False, 0),  # closed late
    (15, "graffiti", 2.5, None, False, 2),
    (200, "pothole", 10, None, False, 0),  # closed long ago: outside 90 days
    (50, "pothole", 3, "archive", False, 1),
    (5, "pothole", None, None, True, 0),  # hidden, open
    (25, "pothole", 1, None, True, 0),  # hidden, closed
    (12, "pothole", 1, "reopen", False, 2),
    (60, "pothole", 0.5, None, False, 0),
    (1, "pothole", 0.2, None, False, 0),
    (8, "graffiti", None, None, False, 0),
]


@pytest.fixture
def scenario(some_wards, department) -> Scenario:
    return build_scenario(some_wards, department)


def build_scenario(some_wards, department) -> Scenario:
    ward, other = some_wards[0], some_wards[1]
    pothole = make_service_type(department, code="pothole", name="Pothole in Street", sla_hours=72)
    graffiti = make_service_type(department, code="graffiti", name="Graffiti", sla_hours=None)
    staff = make_staff(department)
    spots = points_in(ward, 3)
    s = Scenario(ward=ward, other_ward=other, pothole=pothole, graffiti=graffiti, staff=staff)
    now = timezone.now()
    types = {"pothole": pothole, "graffiti": graffiti}
    for days, code, close_after, then, hidden, spot in HISTORY:
        requested = now - timedelta(days=days)
        issue = make_issue(types[code], point=spots[spot], requested_at=requested)
        if close_after is not None:
            services.change_status(
                issue=issue, to=Status.CLOSED, at=requested + timedelta(days=close_after)
            )
            if then == "archive":
                services.change_status(issue=issue, to=Status.ARCHIVED)
            elif then == "reopen":
                services.change_status(issue=issue, to=Status.OPEN)
        if hidden:
            services.set_hidden(target=issue, hidden=True, by=staff, reason="Abuse")
        s.issues.append(issue)
    other_point = points_in(other, 1)[0]
    s.issues.append(make_issue(pothole, point=other_point, requested_at=now - timedelta(days=3)))
    return s
