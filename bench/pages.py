"""In-process timings of the public pages: without the page cache, on a miss, on a hit, and a 304.

Runs the Django test client against an existing bench database (bench/run leaves it in place),
so the figures are CPU time in Django without gunicorn or the network, and the four modes are
measured side by side in one process (ratios hold even on a busy machine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicfix_bench_pages \\
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/pages.py [--repeat 50] [--profile issue]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import itertools
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"


def endpoints() -> dict[str, list[str]]:
    from django.db.models import Count

    from departments.models import Ward
    from issues.models import Issue

    ids = list(Issue.objects.public().order_by("?").values_list("public_id", flat=True)[:20])
    wards = list(
        Ward.objects.annotate(n=Count("issues")).order_by("-n").values_list("slug", "number")[:5]
    )
    busiest = wards[0][0]
    compare = ",".join(str(number) for _slug, number in wards)
    busiest_type = (
        Issue.objects.values("service_type__service_code")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("service_type__service_code", flat=True)
    )[0]
    lat, lon = 41.88365, -87.63201
    return {
        "healthz": ["/healthz"],
        "issue page": [f"/issues/{i}/" for i in ids],
        "public list": ["/"],
        "viewport in": [
            f"/map/issues.geojson?bbox={lon - 0.006},{lat - 0.0045},{lon + 0.006},{lat + 0.0045}&zoom=16"
        ],
        "ward dashboard": [f"/wards/{busiest}/"],
        "league": ["/wards/"],
        "compare": [f"/wards/compare/?wards={compare}"],
        "type page": [f"/wards/types/{busiest_type}/"],
        "monthly report": [f"/wards/{busiest}/report/"],
        "open311 100": ["/open311/v2/requests.json?page_size=100"],
        "open311 radius": [f"/open311/v2/requests.json?lat={lat}&long={lon}&radius=500"],
        "feed": ["/feeds/issues/new/"],
        "types index": ["/wards/types/"],
        "viewport out": ["/map/issues.geojson?bbox=-87.94,41.64,-87.52,42.03&zoom=11"],
    }


def timed(client, urls, repeat: int, before=None, **headers) -> float:
    samples = []
    for url in itertools.islice(itertools.cycle(urls), repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 304), (url, response.status_code)
    return statistics.median(samples)


def cold_cpu(client, pages: dict[str, list[str]], repeat: int) -> None:
    """Each page cold (the whole cache emptied first): the median wall time, the median CPU
    time of this process (Python: views, templates, row loading; not PostgreSQL's), the SQL
    time as Django measured it, and the CPU time as a multiple of /healthz's. CPU time barely
    moves with the machine's load, so before/after comparisons hold on a busy box."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = {}
    for name, urls in pages.items():
        walls, cpus, sqls, queries = [], [], [], 0
        for url in [urls[0], *itertools.islice(itertools.cycle(urls), repeat)]:
            cache.clear()
            with CaptureQueriesContext(connection) as captured:
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            assert response.status_code == 200, (url, response.status_code)
            walls.append(wall * 1000)
            cpus.append(cpu * 1000)
            sqls.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
            queries = len(captured.captured_queries)
        # The first request of each page warms Python's and PostgreSQL's caches: not counted.
        # The fastest wall and SQL times too: on a machine other work is slowing, the least
        # disturbed request is the steadiest figure to compare two runs by.
        rows[name] = [statistics.median(x[1:]) for x in (walls, cpus, sqls)] + [
            queries,
            min(walls[1:]),
            min(sqls[1:]),
        ]
    trivial = rows.get("healthz", [1, 1, 0, 0])[1] or 0.01
    print(
        f"{'cold, in-process':20} {'wall ms':>9} {'CPU ms':>9} {'SQL ms':>9} {'queries':>8} "
        f"{'CPU/healthz':>12} {'min wall':>9} {'min SQL':>9}"
    )
    for name, (wall, cpu, sql, queries, least, least_sql) in rows.items():
        print(
            f"{name:20} {wall:9.1f} {cpu:9.1f} {sql:9.1f} {queries:8d} {cpu / trivial:11.1f}x"
            f" {least:9.1f} {least_sql:9.1f}"
        )
    print(f"load average {os.getloadavg()}")


def database_work(pages: dict[str, list[str]]) -> None:
    """Each page's first URL cold (the cache emptied first): queries, rows its queries' scans
    read, and PostgreSQL's own time (the fastest of 7 EXPLAIN ANALYZE per query, summed)."""
    from django.core.cache import cache

    from bench.explain import database_work as work

    print(f"{'cold, PostgreSQL':20} {'queries':>8} {'rows read':>10} {'PG ms':>8}")
    for name, urls in pages.items():
        if name == "healthz":
            continue
        cache.clear()
        queries, rows, ms = work(urls[0])
        print(f"{name:20} {queries:8d} {rows:10,d} {ms:8.1f}")
    print(f"load average {os.getloadavg()}")


def _wsgi_get(app, path: str, encoding: str) -> tuple[str, dict]:
    """One GET straight through the WSGI handler, as gunicorn calls it (the test client adds
    its own work, as much as a cache hit costs)."""
    import io

    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": encoding,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    b"".join(app(environ, start_response))
    return answer["status"], answer["headers"]


def hit_cpu(pages: dict[str, list[str]], repeat: int) -> None:
    """Each page as a page-cache hit, plain and gzip: this process's CPU per request (the
    handler, the middleware, the cache client; not Redis's), and as a multiple of /healthz's,
    each request paired with a /healthz just before it (CPU time moves with a busy machine's
    caches and clock too, so the two are measured side by side; medians)."""
    from django.core.handlers.wsgi import WSGIHandler

    from issues import pagecache

    app = WSGIHandler()
    # One minute throughout: keys change with the minute, and a run that crossed one would
    # time a render where it means a hit.
    minute = pagecache._minute()
    pagecache._minute = lambda: minute

    def cpu_us(url: str, encoding: str) -> tuple[float, dict]:
        started = time.process_time()
        _status, headers = _wsgi_get(app, url, encoding)
        return (time.process_time() - started) * 1e6, headers

    print(
        f"{'hit, in-process CPU':20} {'plain us':>9} {'x healthz':>9} {'gzip us':>9} {'x healthz':>9}"
    )
    for name, urls in pages.items():
        cells = []
        for encoding in ("identity", "gzip"):
            for url in urls:
                _wsgi_get(app, url, encoding)  # stored, if it was not
            page, trivial = [], []
            for url in itertools.islice(itertools.cycle(urls), repeat):
                trivial.append(cpu_us("/healthz", encoding)[0])
                spent, headers = cpu_us(url, encoding)
                assert url == "/healthz" or headers.get("X-Page-Cache") == "hit", (url, headers)
                page.append(spent)
            cells += [statistics.median(page), statistics.median(page) / statistics.median(trivial)]
        print(f"{name:20} {cells[0]:9.0f} {cells[1]:9.2f} {cells[2]:9.0f} {cells[3]:9.2f}")
    print(f"load average {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--only", default="", help="Comma-separated endpoint names.")
    parser.add_argument("--profile", default="", help="cProfile this endpoint uncached.")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="With --profile: empty the whole cache before each request (as bench/run's cold).",
    )
    parser.add_argument(
        "--database-work",
        action="store_true",
        help="Each page cold: its queries EXPLAIN ANALYZEd, rows read and PostgreSQL's ms.",
    )
    parser.add_argument(
        "--cold-cpu",
        action="store_true",
        help="Each page cold: wall, CPU and SQL time, and CPU as a multiple of /healthz's.",
    )
    parser.add_argument(
        "--hit-cpu",
        action="store_true",
        help="Each page as a cache hit through the WSGI handler: CPU per request, x /healthz.",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from issues import pagecache

    client = Client()
    pages = endpoints()
    if args.only:
        pages = {k: v for k, v in pages.items() if k in args.only.split(",")}
    real_anonymous, real_minute = pagecache.is_anonymous_read, pagecache._minute
    if args.cold_cpu:
        cold_cpu(client, pages, args.repeat)
        return
    if args.database_work:
        database_work(pages)
        return
    if args.hit_cpu:
        hit_cpu(pages, args.repeat)
        return
    if args.profile:
        pagecache.is_anonymous_read = lambda request: False
        from django.core.cache import cache

        urls = pages[args.profile]
        before = cache.clear if args.cold else None
        timed(client, urls, 3, before)
        profiler = cProfile.Profile()
        profiler.enable()
        print(f"median {timed(client, urls, args.repeat, before):.1f} ms")
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        stats.print_callers("gettext|querystring|reverse")
        return
    print(
        f"{'':16} {'no cache':>9} {'miss':>9} {'hit':>9} {'304':>9}  (ms, median of {args.repeat})"
    )
    for name, urls in pages.items():
        pagecache.is_anonymous_read = lambda request: False
        off = timed(client, urls, args.repeat)
        pagecache.is_anonymous_read = real_anonymous
        # Every request a new minute, so a new key: each one is a miss.
        pagecache._minute = functools.partial(next, itertools.count(10**9))
        miss = timed(client, urls, args.repeat)
        pagecache._minute = real_minute
        for url in urls:
            client.get(url)
        hit = timed(client, urls, args.repeat)
        etag = client.get(urls[0]).get("ETag")
        revalidated = timed(client, urls[:1], args.repeat, HTTP_IF_NONE_MATCH=etag) if etag else 0
        print(f"{name:16} {off:9.2f} {miss:9.2f} {hit:9.2f} {revalidated:9.2f}")


if __name__ == "__main__":
    main()
