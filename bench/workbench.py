#!/usr/bin/env python3
"""The workbench queue on an existing database (e.g. a 1M-issue bench database), in-process:
a staff member of the department with the most open issues (the load bench's, made if
missing) opens the queue (page 1 and page 20) and an issue page (which reads the next issue in
the queue). Median milliseconds and SQL queries of --repeat requests each, the SQL time apart.

    .venv/bin/python bench/workbench.py --db civicfix_bench_load --repeat 15

Writes only the staff account (bench/load_setup.py's). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

from bench.database import django_in_process, environment  # noqa: E402


def timed(client, path: str, repeat: int) -> tuple[float, float, int]:
    """(median ms, median SQL ms, queries) of `repeat` GETs of `path`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm-up: templates, the buffers this page reads
    walls, sqls, counts = [], [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            walls.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        sqls.append(sum(float(q["time"]) for q in queries.captured_queries))
        counts.append(len(queries.captured_queries))
    return statistics.median(walls) * 1000, statistics.median(sqls) * 1000, max(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_bench_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    django_in_process({**environment(args), "ALLOWED_HOSTS": "testserver"})

    from django.test import Client

    from bench.load_setup import _staff
    from issues.models import OPEN_STATUSES, Issue

    staff, department = _staff()
    open_here = Issue.objects.filter(department=department, status__in=OPEN_STATUSES)
    client = Client()
    client.force_login(staff)
    issue = open_here.order_by("-requested_at").first()
    rows = [
        ("queue, page 1", "/admin/issues/issue/"),
        ("queue, page 20", "/admin/issues/issue/?p=20"),
        ("issue page (next in queue)", f"/admin/issues/issue/{issue.pk}/change/"),
    ]
    print(f"{department.name}: {open_here.count():,} open of {Issue.objects.count():,} issues; "
          f"loadavg {' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"{'':30}{'ms':>10}{'SQL ms':>10}{'queries':>9}")
    for name, path in rows:
        wall, sql, count = timed(client, path, args.repeat)
        print(f"{name:30}{wall:>10.1f}{sql:>10.1f}{count:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
