#!/usr/bin/env python3
"""The open-data export itself, before and after, in one run: the Python path (a converter per
cell, csv.writer / json.dumps per row over a server-side cursor: main's, and still the embedded
SQLite's) against the PostgreSQL path (issues/opendata/pgcopy.py: the database formats the rows,
COPY sends them), for the busiest ward and for the whole city, CSV and GeoJSON.

Runs in-process (bench/database.py django_in_process) against an existing database, READ ONLY
(default civicfix_bench, 1M issues): nothing is migrated or written. Each output is hashed as it
streams, so the two paths are also checked byte for byte at full size; an untimed pass first
warms the pages both read. Then the gzip step of
build_export, at three levels, over the ward's CSV; --build times build_export end to end
(main's: Python rows and gzip level 6; this branch's: COPY and files.COMPRESS_LEVEL), into a
temporary MEDIA_ROOT; --profile prints a cProfile of the Python path for the ward's CSV.

    .venv/bin/python bench/export_speed.py                      # ward + whole city
    .venv/bin/python bench/export_speed.py --scopes ward --profile

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import hashlib
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

from bench.database import django_in_process  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def python_path(kind: str, filters):
    """main's path, forced (what the embedded SQLite still runs)."""
    from issues.opendata import exports

    return exports.csv_in_python(filters) if kind == "csv" else exports.geojson_in_python(filters)


def new_path(kind: str, filters):
    from issues.opendata import exports

    return exports.csv_lines(filters) if kind == "csv" else exports.geojson_chunks(filters)


def drain(chunks, keep: bool = False) -> dict:
    digest, size, kept = hashlib.sha256(), 0, []
    started = time.perf_counter()
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if keep:
            kept.append(chunk)
    seconds = time.perf_counter() - started
    return {"s": seconds, "bytes": size, "sha": digest.hexdigest()[:12], "kept": b"".join(kept)}


def busiest_ward() -> tuple[int, int]:
    from django.db.models import Count

    from issues import selectors

    row = (
        selectors.public_issues()
        .exclude(ward=None)
        .values("ward__number")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return row["ward__number"], row["n"]


def gzip_levels(data: bytes) -> list[tuple[int, float, int]]:
    out = []
    for level in (1, 3, 6):
        raw = io.BytesIO()
        started = time.perf_counter()
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=level, mtime=0) as packed:
            for at in range(0, len(data), 64 * 1024):
                packed.write(data[at : at + 64 * 1024])
        out.append((level, time.perf_counter() - started, len(raw.getvalue())))
    return out


def build(kind: str, filters, in_python: bool, level: int) -> tuple[float, int]:
    """files.build_export end to end (rows, gzip, the file saved): main's way (Python rows,
    level 6) or this branch's (COPY, files.COMPRESS_LEVEL)."""
    from django.core.files.storage import default_storage
    from django.http import QueryDict

    from issues.opendata import exports, files

    query = QueryDict(mutable=True)
    query.update(filters.as_params())
    saved = files.KINDS[kind], files.COMPRESS_LEVEL
    if in_python:
        files.KINDS[kind] = (exports.csv_in_python, *files.KINDS[kind][1:])
    files.COMPRESS_LEVEL = level
    try:
        started = time.perf_counter()
        name = files.build_export(kind, query.urlencode())
        seconds = time.perf_counter() - started
    finally:
        files.KINDS[kind], files.COMPRESS_LEVEL = saved
    size = default_storage.size(name)
    default_storage.delete(name)
    return seconds, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_bench")
    parser.add_argument("--scopes", default="ward,city", help="ward, city or both")
    parser.add_argument("--kinds", default="csv,geojson")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--build", action="store_true", help="time build_export, CSV, both ways")
    args = parser.parse_args()
    os.environ.pop("REDIS_URL", None)  # a per-process cache for build_export's registry
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-export-speed-")
    django_in_process(
        {
            "DATABASE_URL": f"{args.pg}/{args.db}",
            "SECRET_KEY": "bench-only-not-a-secret",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    from issues.filters import IssueFilters

    ward, ward_rows = busiest_ward()
    scopes = {"ward": ({"ward": str(ward)}, ward_rows), "city": ({}, None)}
    print(f"{args.db}: busiest ward {ward} ({ward_rows:,} rows); loadavg {load()}", flush=True)
    print(f"{'scope':6} {'kind':8} {'path':7} {'rows':>9} {'MB':>7} {'s':>7} {'rows/s':>9} "
          f"{'sha256':>13}  loadavg")  # fmt: skip
    ward_csv = b""
    for scope in args.scopes.split(","):
        params, rows = scopes[scope]
        filters = IssueFilters.from_params(params)
        if rows is None:
            from issues.opendata.exports import export_queryset

            rows = export_queryset(filters).count()
        for kind in args.kinds.split(","):
            # Untimed first: both timed paths then read the same warm pages (the one timed
            # first would otherwise pay for reading the table from the disk).
            drain(new_path(kind, filters))
            results = {}
            for name, path in (("python", python_path), ("copy", new_path)):
                keep = scope == "ward" and kind == "csv" and name == "copy"
                r = results[name] = drain(path(kind, filters), keep=keep)
                if keep:
                    ward_csv = r["kept"]
                print(f"{scope:6} {kind:8} {name:7} {rows:>9,} {r['bytes'] / 1e6:>7.1f} "
                      f"{r['s']:>7.2f} {rows / r['s']:>9,.0f} {r['sha']:>13}  {load()}",
                      flush=True)  # fmt: skip
            same = results["python"]["sha"] == results["copy"]["sha"]
            ratio = results["python"]["s"] / results["copy"]["s"]
            print(f"{scope:6} {kind:8} ratio {ratio:.1f}x; identical bytes: {same}", flush=True)
    if ward_csv:
        print(f"\ngzip of the ward's CSV ({len(ward_csv) / 1e6:.1f} MB), loadavg {load()}")
        for level, seconds, size in gzip_levels(ward_csv):
            print(f"  level {level}: {seconds:.2f} s, {size / 1e6:.2f} MB")
    if args.build:
        from issues.opendata import files

        print(f"\nbuild_export, CSV (rows, gzip, the file), loadavg {load()}")
        for scope in args.scopes.split(","):
            filters = IssueFilters.from_params(scopes[scope][0])
            before, before_size = build("csv", filters, True, 6)
            after, after_size = build("csv", filters, False, files.COMPRESS_LEVEL)
            print(f"  {scope}: main (Python, gzip 6) {before:.2f} s {before_size / 1e6:.1f} MB; "
                  f"COPY, gzip {files.COMPRESS_LEVEL} {after:.2f} s {after_size / 1e6:.1f} MB; "
                  f"ratio {before / after:.1f}x; loadavg {load()}", flush=True)  # fmt: skip
    if args.profile:
        filters = IssueFilters.from_params(scopes["ward"][0])
        profile = cProfile.Profile()
        profile.enable()
        drain(python_path("csv", filters))
        profile.disable()
        print(f"\ncProfile, Python path, ward CSV (loadavg {load()}):")
        pstats.Stats(profile).sort_stats("tottime").print_stats(14)
    return 0


if __name__ == "__main__":
    sys.exit(main())
