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
