#!/usr/bin/env python3
"""Matching a new report to alert areas: time per report and alerts matched, at 10k and 100k
alerts, on a fresh PostgreSQL database (civicfix_bench_alerts by default).

The alerts are spread over the city (about 30 x 30 km around the map's centre) with radii of
200 m to 5 km, most of them small (200 m 30%, 500 m 35%, 1 km 20%, 2 km 10%, 5 km 5%), a fifth
of them limited to one service type; each report is a random point in the same square. The figure to read is the
median time of `issues.notify.areas.alerts_covering` (the indexed corner box, then the exact
distance, as new reports use it), beside how many candidates the box returned and how many
alerts matched. A "measure every alert" baseline shows what the index saves.

    .venv/bin/python bench/alerts.py                       # 10k and 100k alerts
    .venv/bin/python bench/alerts.py --sizes 10000 --reports 200

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))


RADII = [200, 500, 1000, 2000, 5000]
WEIGHTS = [30, 35, 20, 10, 5]


def _time_matching(
    areas, alerts, distance_m, points, types, rng
) -> tuple[list[float], list[int], list[int], float]:
    """Per point: the time to find the alerts covering it, how many candidates the index gave
    and how many matched; and, once, what a scan of every alert costs per report."""
    times, candidates, matched = [], [], []
    for lat, lon in points:
        started = time.perf_counter()
        found = areas.alerts_covering(lat, lon, service_type_id=rng.choice(types).pk)
        times.append((time.perf_counter() - started) * 1000)
        matched.append(len(found))
        candidates.append(areas.candidates(lat, lon).count())
    # Baseline: read every alert's circle and measure it, per report (what no index costs;
    # types left out, so the baseline is, if anything, flattered).
    started = time.perf_counter()
    for lat, lon in points[:10]:
        rows = alerts.objects.values_list("latitude", "longitude", "radius_m")
        sum(1 for a, b, r in rows if distance_m(a, b, lat, lon) <= r)
    scan = (time.perf_counter() - started) * 1000 / 10
    return times, candidates, matched, scan


def _print_header() -> None:
    print("Alert matching per new report (PostgreSQL, loaded shared machine: compare, don't quote)")
    print(
        f"{'alerts':>8} {'median ms':>10} {'p95 ms':>8} {'candidates':>11} {'matched':>8} "
        f"{'scan-all ms':>12}"
    )


def _analyze(connection) -> None:
    """Fresh statistics, so the planner sees this size's table when it picks the index."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE issues_areaalert")


def _print_plan(areas, connection, lat: float, lon: float) -> None:
    with connection.cursor() as cursor:
        sql, params = areas.candidates(lat, lon).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        print("\nPlan of the candidate query at the largest size:")
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--reports", type=int, default=500, help="points matched per size")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_bench_alerts")
    args = parser.parse_args()

    from bench.database import django_in_process, recreate_database

    recreate_database(args.pg, args.db)
    django_in_process({"DATABASE_URL": f"{args.pg}/{args.db}"})
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from departments.geo import distance_m
    from departments.models import Department, ServiceType
    from issues.models import AreaAlert
    from issues.notify import areas

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(email="bench@example.org", password="x")
    department = Department.objects.create(name="Streets", slug="streets")
    types = [
        ServiceType.objects.create(
            service_code=f"bench-{n}", name=f"Type {n}", department=department, sla_hours=72
        )
        for n in range(5)
    ]
    through = AreaAlert.service_types.through
    rng = random.Random(17)
    lat0, lon0 = settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON
    half_lat, half_lon = 0.135, 0.18  # about 15 km each way

    def point() -> tuple[float, float]:
        return lat0 + rng.uniform(-half_lat, half_lat), lon0 + rng.uniform(-half_lon, half_lon)

    _print_header()
    made, now = 0, timezone.now()
    for size in sorted(int(s) for s in args.sizes.split(",")):
        batch = []
        while made < size:
            lat, lon = point()
            alert = AreaAlert(
                user=user,
                latitude=lat,
                longitude=lon,
                radius_m=rng.choices(RADII, weights=WEIGHTS)[0],
                confirmed_at=now,
            )
            alert.set_bbox()
            batch.append(alert)
            made += 1
            if len(batch) == 5000 or made == size:
                AreaAlert.objects.bulk_create(batch)
                through.objects.bulk_create(
                    through(areaalert_id=a.pk, servicetype_id=rng.choice(types).pk)
                    for a in batch
                    if rng.random() < 0.2
                )
                batch = []
        _analyze(connection)
        points = [point() for _ in range(args.reports)]
        times, candidates, matched, scan = _time_matching(
            areas, AreaAlert, distance_m, points, types, rng
        )
        times.sort()
        print(
            f"{size:>8} {statistics.median(times):>10.2f} {times[int(len(times) * 0.95)]:>8.2f} "
            f"{statistics.mean(candidates):>11.1f} {statistics.mean(matched):>8.1f} {scan:>12.1f}"
        )
    _print_plan(areas, connection, *points[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
