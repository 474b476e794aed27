"""Why is a page slow? Request it in-process, list its queries by time, and EXPLAIN ANALYZE the
slowest. Used by `bench/run --explain`, or by hand against any database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicfix_bench SECRET_KEY=x \\
        .venv/bin/python manage.py shell -c "import bench.explain as e; e.run({'x': ['/wards/']})"
"""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def explain(path: str, top: int = 2) -> None:
    client = Client(HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    total = sum(float(q["time"]) for q in queries)
    print(
        f"\n== {path}: HTTP {response.status_code}, {len(queries)} queries, {total * 1000:.1f} ms in SQL"
    )
    for q in queries[:top]:
        sql = q["sql"]
        print(f"-- {float(q['time']) * 1000:.1f} ms: {sql[:300]}")
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            for (line,) in cursor.fetchall()[:25]:
                print(f"   {line}")


def run(endpoints: dict[str, list[str]]) -> None:
    for name, paths in endpoints.items():
        if name != "healthz":
            explain(paths[0])


def _rows_read(node: dict) -> int:
    """Rows out of a plan's scan nodes (a bitmap scan counted once, at its heap scan)."""
    rows = 0
    if "Scan" in node["Node Type"] and node["Node Type"] != "Bitmap Index Scan":
        rows = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
        rows += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return rows + sum(_rows_read(child) for child in node.get("Plans", []))


def database_work(path: str, runs: int = 7) -> tuple[int, int, float]:
    """(queries, rows read, PostgreSQL ms) of one request to `path` as it runs now: each of its
    queries EXPLAIN ANALYZEd `runs` times, the fastest execution and planning time summed. What
    a busy machine's load barely moves, unlike the wall time."""
    client = Client(HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    rows, best_ms = 0, 0.0
    with connection.cursor() as cursor:
        for sql in (q["sql"] for q in captured.captured_queries):
            if not sql.lstrip().upper().startswith(("SELECT", "(SELECT")):
                continue
            times = []
            for _ in range(runs):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0][0]
                times.append(plan["Execution Time"] + plan.get("Planning Time", 0.0))
            rows += _rows_read(plan["Plan"])
            best_ms += min(times)
    return len(captured.captured_queries), rows, best_ms
