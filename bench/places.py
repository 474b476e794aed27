#!/usr/bin/env python3
"""Places at city scale, in one run on a fresh PostgreSQL database (civicfix_places_bench),
served by a real gunicorn:

1. the City's 24,048 real intersections (departments/data/chicago_intersections.csv), loaded by
   `import_places --format intersections`;
2. then address points generated along the real streets, numbered by Chicago's grid between
   each street's known intersections (Chicago has about 600,000), written as an OpenAddresses
   CSV and loaded by `import_places --format openaddresses` (the COPY path), imported once and
   timed.

At each size: search p50 for a mix of what people type (intersections in several spellings,
house numbers, a street alone, a misspelling) on /places/search, and reverse p50 for random
points in the city on /places/reverse, each beside /healthz (the trivial view) timed just
before, so each figure is also a ratio measured at the same moment.

    .venv/bin/python bench/places.py                       # 25k, then 600k addresses
    .venv/bin/python bench/places.py --addresses 100000 --repeat 15

Prints figures; asserts nothing; drops its database at the end unless --keep.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import shapely  # noqa: E402

from bench.database import manage, recreate_database  # noqa: E402
from bench.server import Server  # noqa: E402
from bench.timing import get, median_ms  # noqa: E402
from departments.places import chicago  # noqa: E402  (the grid is plain arithmetic)

INTERSECTIONS = ROOT / "departments/data/chicago_intersections.csv"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--addresses", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=21, help="Requests per figure (median).")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_places_bench", help="Dropped and re-created.")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    return parser.parse_args()


def streets() -> dict[str, list[tuple[float, float]]]:
    """Every full street name ("N MILWAUKEE AVE") with its intersections' points."""
    known: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with INTERSECTIONS.open(newline="") as f:
        for row in csv.DictReader(f):
            point = (float(row["latitude"]), float(row["longitude"]))
            known[row["street_1"]].append(point)
            known[row["street_2"]].append(point)
    return known


def write_addresses(path: Path, count: int, seed: int) -> None:
    """`count` address points along the real streets: between each pair of consecutive known
    intersections, numbers spread evenly, each placed where the grid puts it (even on one
    side, odd on the other, as the city numbers them)."""
    rng = random.Random(seed)
    segments = []
    for name, points in streets().items():
        direction = name.split()[0].lower()
        if direction not in ("n", "s", "e", "w") or len(points) < 2:
            continue
        if direction in ("n", "s"):
            measured = sorted((abs(chicago.north_number(lat)), lat, lon) for lat, lon in points)
        else:
            measured = sorted((abs(chicago.east_number(lat, lon)), lat, lon) for lat, lon in points)
        for a, b in itertools.pairwise(measured):
            if b[0] - a[0] >= 4:
                segments.append((name, a, b))
    per_segment = max(1, count // len(segments) + 1)
    written = 0
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "POSTCODE", "ID"])
        while written < count:
            for name, (n0, lat0, lon0), (n1, lat1, lon1) in segments:
                for k in range(per_segment):
                    if written >= count:
                        break
                    share = (k + rng.random()) / per_segment
                    number = int(n0 + (n1 - n0) * share) // 2 * 2 + (written % 2)
                    lat = lat0 + (lat1 - lat0) * share
                    lon = lon0 + (lon1 - lon0) * share
                    written += 1
                    writer.writerow(
                        [f"{lon:.6f}", f"{lat:.6f}", number, name, "", "CHICAGO", "", f"G{written}"]
                    )
                if written >= count:
                    break
            per_segment = 1


def searches(rng: random.Random, addresses: list[tuple[int, str]]) -> list[str]:
    """What people type: intersections in several spellings, house numbers, a street alone,
    and a misspelling."""
    with INTERSECTIONS.open(newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    chosen = rng.sample(rows, 40)
    typed = []
    for i, row in enumerate(chosen):
        one, two = row["street_1"].title(), row["street_2"].title()
        bare_one, bare_two = " ".join(one.split()[1:-1]), " ".join(two.split()[1:-1])
        typed.append(
            [
                f"{bare_one} & {bare_two}",
                f"{two} at {one}",
                f"{bare_two.lower()} and {bare_one.lower()}",
                f"{bare_one}/{bare_two}",
            ][i % 4]
        )
    typed += [f"{n} {s.title()}" for n, s in addresses]
    typed += ["1600 n milwaukee", "3600 N Ashland Ave", "halsted", "ashlnd & adison"]
    rng.shuffle(typed)
    return typed


def city_points(rng: random.Random, n: int) -> list[tuple[float, float]]:
    data = json.loads((ROOT / "departments/data/chicago_wards_2023_simplified.geojson").read_text())
    city = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in data["features"]])
    points = []
    while len(points) < n:
        lon, lat = rng.uniform(-87.80, -87.55), rng.uniform(41.70, 42.00)
        if city.contains(shapely.Point(lon, lat)):
            points.append((lat, lon))
    return points


def measure(args, typed: list[str], points) -> dict[str, tuple[float, float, float]]:
    n = args.repeat
    figures = {
        "search": [f"/places/search?q={quote(q)}" for q in typed[:n]],
        "reverse": [f"/places/reverse?lat={lat:.6f}&lon={lon:.6f}" for lat, lon in points[:n]],
    }
    for paths in figures.values():  # warm each worker's connections and caches once
        for path in paths[: args.workers * 2]:
            get(args.port, path)
    results = {}
    for name, paths in figures.items():
        healthz = median_ms(args.port, ["/healthz"] * n)
        ms = median_ms(args.port, paths)
        results[name] = (ms, ms / healthz, healthz)
    return results


def count_places(args) -> int:
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        return conn.execute("SELECT count(*) FROM departments_place").fetchone()[0]


def main() -> None:
    args = parse_args()
    args.redis = ""  # each worker caches for itself, as the embedded default does
    rng = random.Random(args.seed)
    print(f"Fresh database {args.db}")
    recreate_database(args.pg, args.db)
    manage(args, "migrate", "--no-input", "-v", "0")
    manage(
        args,
        "shell",
        "-c",
        "from departments.demo import DemoReport, load_wards; load_wards(DemoReport())",
    )
    points = city_points(rng, args.repeat)
    table = []
    with tempfile.TemporaryDirectory() as folder:
        rejects = Path(folder) / "rejects.csv"
        started = time.perf_counter()
        manage(args, "import_places", str(INTERSECTIONS), "--format", "intersections",
               "--rejects", str(rejects), "--no-progress")  # fmt: skip
        print(f"intersections imported in {time.perf_counter() - started:.1f}s")
        sizes = [("intersections", [])]
        if args.addresses:
            path = Path(folder) / "addresses.csv"
            write_addresses(path, args.addresses, args.seed)
            with path.open(newline="") as f:
                sample = rng.sample(list(csv.DictReader(f)), 20)
            sizes.append(("+ addresses", [(int(r["NUMBER"]), r["STREET"]) for r in sample]))
        for label, addresses in sizes:
            if addresses:
                started = time.perf_counter()
                out = manage(args, "import_places", str(path), "--format", "openaddresses",
                             "--rejects", str(rejects), "--no-progress")  # fmt: skip
                seconds = time.perf_counter() - started
                print(f"addresses imported in {seconds:.1f}s: {out.strip().splitlines()[0]}")
            with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            typed = searches(random.Random(args.seed), addresses or [(1600, "N MILWAUKEE AVE")])
            with Server(args) as _server:
                results = measure(args, typed, points)
            table.append((label, count_places(args), results))
    print(f"\n{'':16}{'places':>10}{'':10}{'p50':>10}{'/healthz':>11}{'ratio':>8}")
    for label, places, results in table:
        for name, (ms, ratio, healthz) in results.items():
            print(f"{label:16}{places:>10,}  {name:8}{ms:>7.1f} ms{healthz:>8.1f} ms{ratio:>7.1f}x")
    if not args.keep:
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}"')


if __name__ == "__main__":
    main()
