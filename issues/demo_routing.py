"""The demo's routed reports (issue 16): fresh reports made as a resident makes them, so the
department's rules (departments/demo_routing.py) give them out: nine potholes in wards 1-10 go
round the North side crew three each, two street lights in the Loop go to Sam at high priority,
two floods to Wanda. The rest of the demo is imported history, which the rules leave alone."""

from __future__ import annotations

import random

from shapely import Point

from departments.demo import DemoReport
from departments.demo_routing import LOOP, load_routing
from departments.models import ServiceType, Ward
from departments.wards import shape_from_geojson
from issues import services
from issues.models import Issue, Source
from issues.notify.events import suppressed

ROUTED_SOURCE = "demo-routed"
REPORTS = [("pothole", "ward", 9), ("street-light-out", "loop", 2), ("water-on-street", "ward", 2)]


def load_routed_reports(report: DemoReport, users, answers: dict) -> None:
    """`answers`: the demo's answers to each type's questions, by type code."""
    load_routing(report, users)
    if Issue.objects.filter(external_source=ROUTED_SOURCE).exists():
        return  # loaded before: the rules already had their turn
    rng = random.Random("civicfix-demo-routing")
    north = [shape_from_geojson(w.boundary) for w in Ward.objects.filter(number__lte=10)]
    loop = shape_from_geojson(LOOP)
    for code, where, count in REPORTS:
        service_type = ServiceType.objects.get(service_code=code)
        for n in range(count):
            lat, lon = _point_in(rng, rng.choice(north) if where == "ward" else loop)
            with suppressed():
                issue = services.create_issue(
                    service_type=service_type,
                    latitude=lat,
                    longitude=lon,
                    description=f"Reported this morning ({service_type.name.lower()}).",
                    attributes=answers.get(code, {}),
                    reporter_email=f"routed{n}@example.net",
                    source=Source.WEB,
                )
            Issue.objects.filter(pk=issue.pk).update(
                external_source=ROUTED_SOURCE, external_id=f"{code}-{n}"
            )
            report.add("routed reports")


def _point_in(rng: random.Random, shape) -> tuple[float, float]:
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    while True:
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if shape.contains(Point(lon, lat)):
            return round(lat, 6), round(lon, 6)
