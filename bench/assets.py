#!/usr/bin/env python3
"""Asset layers at city scale: 250,000 street lights (Chicago has about that many) on a fresh
PostgreSQL database (civicfix_assets_bench), served by a real gunicorn, in one run:

- the import: the generated lights written as a CSV and loaded by `import_assets` (rows/s), and
  imported again (the idempotent re-import, nothing to write);
- the nearest lights to a pin: the report form's picker fragment (/report/assets/) and the
  Open311 extension (/open311/v2/assets.json?lat=&long=&radius=);
- a layer's map: the asset viewport (/assets/<layer>.geojson) zoomed out over the whole city
  (clusters), over a neighbourhood (clusters), and at street zoom (points), each cold (a box no
  earlier request asked for, so no cached cells) and warm (the same box again);
- /healthz, the trivial view, timed right before each of them: every figure is also a ratio to
  it, measured at the same moment.

    .venv/bin/python bench/assets.py                      # 250,000 lights, 15 requests each
    .venv/bin/python bench/assets.py --lights 50000 --repeat 9

The server runs without Redis (each worker caches for itself), as the embedded default does;
the cold figures are the first request for a box either way. Prints figures; asserts nothing;
drops its database at the end unless --keep.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
import shapely  # noqa: E402

from bench.database import manage, recreate_database  # noqa: E402
from bench.server import Server  # noqa: E402
from bench.timing import get, median_ms  # noqa: E402

LAYER = "street-lights"
# Cells of the map's grid at zoom 11 and 14 (departments.geo.cell_size): shifting a box by
# whole cells makes a box no earlier request asked for, so its cells are computed afresh.
CELL_11 = 360.0 / 2**11 / 4
CELL_14 = 360.0 / 2**14 / 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--lights", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=15, help="Requests per figure (median).")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_assets_bench", help="Dropped and re-created.")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=250)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    return parser.parse_args()


def city_shape():
    data = json.loads((ROOT / "departments/data/chicago_wards_2023_simplified.geojson").read_text())
    return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in data["features"]])


def write_lights(path: Path, count: int, seed: int, city) -> None:
    """`count` lights drawn uniformly inside the city's wards (vectorised rejection sampling)."""
    rng = np.random.default_rng(seed)
    shapely.prepare(city)
    min_lon, min_lat, max_lon, max_lat = city.bounds
    lats, lons = [], []
    need = count
    while need > 0:
        x = rng.uniform(min_lon, max_lon, need * 3)
        y = rng.uniform(min_lat, max_lat, need * 3)
        inside = shapely.contains_xy(city, x, y)
        lons.append(x[inside][:need])
        lats.append(y[inside][:need])
        need -= len(lons[-1])
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    kinds = ["cobra head", "acorn", "alley light", "viaduct light"]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "kind", "latitude", "longitude", "circuit"])
        for i in range(count):
            writer.writerow(
                [
                    f"SL-{i + 1:06d}",
                    f"Pole {i + 1}",
                    kinds[i % 4],
                    f"{lat[i]:.6f}",
                    f"{lon[i]:.6f}",
                    f"C{i // 40}",
                ]
            )


def import_lights(args, path: Path) -> dict:
    figures = {}
    for run in ("first", "again"):
        started = time.perf_counter()
        out = manage(
            args,
            "import_assets",
            str(path),
            "--layer",
            "Street lights",  # the slug is LAYER
            "--label",
            "street light",
            "--no-progress",
        )
        figures[run] = {
            "seconds": time.perf_counter() - started,
            "summary": out.strip().splitlines()[-2:],
        }
    return figures


def link_type(args) -> None:
    manage(
        args,
        "shell",
        "-c",
        "from departments.demo import DemoReport, load_catalogue, load_wards;"
        "from departments.models import AssetLayer, ServiceType;"
        "r = DemoReport(); load_wards(r); load_catalogue(r);"
        f"ServiceType.objects.filter(service_code='street-light-out')"
        f".update(asset_layer=AssetLayer.objects.get(slug='{LAYER}'))",
    )


def measure(args, city) -> dict[str, tuple[float, float]]:
    """(median ms, ratio to /healthz timed just before) for each figure."""
    rng = np.random.default_rng(args.seed + 1)
    points = []
    while len(points) < args.repeat:
        lon, lat = rng.uniform(-87.75, -87.6), rng.uniform(41.75, 41.97)
        if city.contains(shapely.Point(lon, lat)):
            points.append((lat, lon))
    west, south, east, north = city.bounds
    lat0, lon0 = 41.88365, -87.63201  # City Hall
    n = args.repeat
    cold_city = [
        f"/assets/{LAYER}.geojson?bbox={west + k * CELL_11},{south},{east + k * CELL_11},{north}&zoom=11"
        for k in range(n)
    ]
    cold_hood = [
        f"/assets/{LAYER}.geojson?bbox={lon0 - 0.03 + k * CELL_14},{lat0 - 0.02},"
        f"{lon0 + 0.03 + k * CELL_14},{lat0 + 0.02}&zoom=14"
        for k in range(n)
    ]
    street = [
        f"/assets/{LAYER}.geojson?bbox={lon - 0.0015},{lat - 0.001},{lon + 0.0015},{lat + 0.001}&zoom=17"
        for lat, lon in points
    ]
    figures = {
        "nearest 5, report picker": [
            f"/report/assets/?type=street-light-out&latitude={lat:.6f}&longitude={lon:.6f}"
            for lat, lon in points
        ],
        "nearest, assets.json r=150 m": [
            f"/open311/v2/assets.json?layer={LAYER}&lat={lat:.6f}&long={lon:.6f}&radius=150"
            for lat, lon in points
        ],
        "city, zoom 11, cold": cold_city,
        "city, zoom 11, warm": [cold_city[0]] * n,
        "neighbourhood, zoom 14, cold": cold_hood,
        "neighbourhood, zoom 14, warm": [cold_hood[0]] * n,
        "street, zoom 17 (points)": street,
    }
    # Each worker caches for itself: warm every worker on the warm boxes first.
    for _ in range(args.workers * 2):
        get(args.port, cold_city[0])
        get(args.port, cold_hood[0])
    results = {}
    for name, paths in figures.items():
        healthz = median_ms(args.port, ["/healthz"] * n)
        ms = median_ms(args.port, paths)
        results[name] = (ms, ms / healthz, healthz)
    return results


def main() -> None:
    args = parse_args()
    # No Redis: each worker caches for itself (bench.database.environment reads an empty one so).
    args.redis = ""
    print(f"Fresh database {args.db}; {args.lights:,} street lights")
    recreate_database(args.pg, args.db)
    manage(args, "migrate", "--no-input", "-v", "0")
    # DEBUG is off: the pages name the hashed static files the release step collects.
    manage(args, "collectstatic", "--no-input", "-v", "0")
    city = city_shape()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "street_lights.csv"
        started = time.perf_counter()
        write_lights(path, args.lights, args.seed, city)
        print(
            f"CSV written in {time.perf_counter() - started:.1f}s ({path.stat().st_size / 1e6:.1f} MB)"
        )
        manage(
            args,
            "shell",
            "-c",
            "from departments.demo import DemoReport, load_wards; load_wards(DemoReport())",
        )
        imported = import_lights(args, path)
    link_type(args)
    with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    for run, figure in imported.items():
        print(f"import_assets ({run}): {figure['seconds']:.1f}s  {' / '.join(figure['summary'])}")
    with Server(args) as _server:
        results = measure(args, city)
    print(f"\n{'':34}{'median':>12}{'/healthz':>12}{'ratio':>9}")
    for name, (ms, ratio, healthz) in results.items():
        print(f"{name:34}{ms:>9.1f} ms{healthz:>9.1f} ms{ratio:>8.1f}x")
    if not args.keep:
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}"')


if __name__ == "__main__":
    main()
