"""The benchmark run: a fresh database, data at each size, the measurements at each, the
import comparison, and the table. bench/run drives it; the moving parts are its neighbours:
database.py, server.py, timing.py, measure.py and import_speed.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import psycopg

from bench.database import manage, recreate_database
from bench.import_speed import measure_import
from bench.measure import endpoints, measure_size, pick_targets


def print_table(results: dict) -> None:
    sizes = results["sizes"]
    keys = list(sizes)
    head = f"{'':38}" + "".join(f"{int(k):>22,}" for k in keys)
    print("\n" + head)
    print("-" * len(head))
    names: list[str] = []
    for r in sizes.values():
        names += [n for n in r["endpoints"] if n not in names]
    print(f"{'/healthz (ms)':38}" + "".join(f"{sizes[k]['healthz_ms']:>22.1f}" for k in keys))
    for name in names:
        cells = []
        for k in keys:
            e = sizes[k]["endpoints"].get(name, {})
            if e.get("missing"):
                cells.append("missing")
            elif "error" in e:
                cells.append(f"HTTP {e['error']}")
            elif e:
                cells.append(f"{e['median_ms']:.1f} ms {e['ratio']:.1f}x")
            else:
                cells.append("-")
        print(f"{name:38}" + "".join(f"{c:>22}" for c in cells))
        cold = [
            f"{e['cold_ms']:.1f} ms {e['cold_ratio']:.1f}x" if "cold_ms" in e else "-"
            for e in (sizes[k]["endpoints"].get(name, {}) for k in keys)
        ]
        print(f"{'  cold (cache emptied first)':38}" + "".join(f"{c:>22}" for c in cold))
    if all("load" in sizes[k] for k in keys):
        print(
            f"{'load average (1, 5, 15 min) at the end':38}"
            + "".join(f"{'/'.join(f'{v:.1f}' for v in sizes[k]['load']):>22}" for k in keys)
        )
    if any("export" in sizes[k] for k in keys):
        cells = []
        for k in keys:
            x = sizes[k].get("export", {})
            if not x:
                cells.append("-")
            elif x.get("missing"):
                cells.append("missing")
            else:
                cells.append(f"{x['rows']:,}r {x['seconds']:.1f}s +{x['peak_rss_growth_mb']:.0f}MB")
        print(f"{'CSV export (rows, time, peak RSS)':38}" + "".join(f"{c:>22}" for c in cells))
    if all("throughput" not in sizes[k] for k in keys):
        return
    cells = []
    for k in keys:
        t = sizes[k].get("throughput")
        cells.append(f"{t['mixed_rps']:.0f}/s {t['ratio']:.2f}x" if t else "-")
    print(f"{'throughput mixed vs /healthz':38}" + "".join(f"{c:>22}" for c in cells))
    cells = []
    for k in keys:
        t = sizes[k].get("throughput") or {}
        cells.append(f"{t['mixed_gzip_rps']:.0f}/s {t['ratio_gzip']:.2f}x" if t else "-")
    print(f"{'  the same, Accept-Encoding: gzip':38}" + "".join(f"{c:>22}" for c in cells))
    if results.get("import"):
        i = results["import"]
        print(
            f"\nimport {i['rows']:,} rows: {i['import_rows_per_second']:,.0f} rows/s; raw COPY "
            f"{i['raw_copy_rows_per_second']:,.0f} rows/s; ratio {i['ratio']:.2f} (target >= 0.5)"
        )
        if "floor_rows_per_second" in i:
            print(
                f"schema floor (the same rows stored again, no importer): "
                f"{i['floor_rows_per_second']:,.0f} rows/s = {i['floor_to_raw_ratio']:.2f} of raw "
                f"COPY; the importer reaches {i['floor_ratio']:.2f} of the floor"
            )


def measure_existing(args, results: dict, path: Path) -> None:
    """--reuse: each database named in --db (comma-separated, smallest first) measured as it
    stands, at the number of issues it holds; nothing dropped, generated or imported."""
    import copy

    manage(args, "collectstatic", "--no-input", "-v", "0")
    for name in args.db.split(","):
        one = copy.copy(args)
        one.db = name
        with psycopg.connect(f"{args.pg}/{name}") as conn:
            size = conn.execute("SELECT count(*) FROM issues_issue").fetchone()[0]
        print(f"{name}: {size:,} issues (reused as it stands); load {os.getloadavg()}")
        results["sizes"][str(size)] = measure_size(one, size)
        results["sizes"][str(size)]["load"] = os.getloadavg()
        path.write_text(json.dumps(results, indent=2, default=str))


def main(args) -> int:
    if getattr(args, "reuse", False):
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        results = {"date": stamp, "machine": {"cpus": os.cpu_count()}, "sizes": {}}
        path = out / f"bench-{stamp}.json"
        measure_existing(args, results, path)
        print_table(results)
        print(f"\nResults: {path}")
        return 0
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict = {
        "date": stamp,
        "machine": {"cpus": os.cpu_count(), "load": os.getloadavg()},
        "options": {k: v for k, v in vars(args).items() if k != "pg"},
        "sizes": {},
    }
    print(f"Fresh database {args.db}; sizes {', '.join(f'{s:,}' for s in sizes)}")
    recreate_database(args.pg, args.db)
    manage(args, "migrate", "--no-input", "-v", "0")
    # DEBUG is off: the pages name the hashed static files the release step collects.
    manage(args, "collectstatic", "--no-input", "-v", "0")
    current = 0
    for size in sizes:
        started = time.perf_counter()
        manage(args, "generate_issues", str(size - current), "--seed", str(size), "--no-progress")
        generated = time.perf_counter() - started
        current = size
        with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"{size:,} issues ready ({generated:.0f}s to generate)")
        results["sizes"][str(size)] = measure_size(args, size)
        results["sizes"][str(size)]["generate_seconds"] = generated
        if args.explain:
            print(
                manage(
                    args,
                    "shell",
                    "-c",
                    f"import bench.explain as e; e.run({json.dumps(endpoints(pick_targets(args)))})",
                )
            )
        path = out / f"bench-{stamp}.json"
        path.write_text(json.dumps(results, indent=2, default=str))
    if not args.skip_import:
        results["import"] = measure_import(args, out)
    path = out / f"bench-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print(f"\nResults: {path}")
    return 0
