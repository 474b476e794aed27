#!/usr/bin/env python3
"""Reports sent per second to a live city system through one worker, beside the raw POST rate to
the same city system from one Python loop, in one run.

Everything is local and real: our CivicFix on a fresh PostgreSQL database with Redis as the
broker and one `celery worker --pool=solo`; the city's system is a second CivicFix (gunicorn, one
worker with four threads, its own PostgreSQL database). The raw rate is urllib POSTing the same
report forms straight to the same server, one after the other; the figure to read is the ratio:
what the outbox (claim, the committed maybe-sent mark, the answer and the city reference recorded,
a commit each) costs over the POST itself, which is mostly the city's own work.

    .venv/bin/python bench/upstream.py                       # 300 reports each way
    .venv/bin/python bench/upstream.py -n 1000 --db civicfix_x --city-db civicfix_x_city

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

from bench.database import django_in_process, recreate_database  # noqa: E402
from bench.notifications import environment, start_worker, stop  # noqa: E402
from tests.upstream.live import LiveCivicFix  # noqa: E402


def our_side(city: LiveCivicFix, n: int):
    """Our catalogue sending to the city, and n reports waiting in the outbox (made while the
    broker is unreachable, so nothing is handed over before the clock starts)."""
    from config.celery import app
    from departments.models import (
        Department,
        ServiceAttribute,
        ServiceType,
        ServiceTypeUpstream,
        UpstreamEndpoint,
    )
    from issues import services
    from issues.models import UpstreamSend

    endpoint = UpstreamEndpoint(
        name="City 311", base_url=f"{city.url}/open311/v2/", jurisdiction_id="city.example"
    )
    endpoint.set_api_key(city.seeded["api_key"])
    endpoint.save()
    streets = Department.objects.create(name="Streets", slug="streets", upstream=endpoint)
    pothole = ServiceType.objects.create(service_code="pothole", name="Pothole", department=streets)
    ServiceAttribute.objects.create(
        service_type=pothole,
        code="SIZE",
        order=1,
        description="How big?",
        datatype="singlevaluelist",
        values=[{"key": "s", "name": "Small"}, {"key": "l", "name": "Large"}],
    )
    ServiceTypeUpstream.objects.create(
        service_type=pothole,
        service_code="POT",
        attribute_map={"SIZE": {"code": "HOLE_SIZE", "values": {"s": "small", "l": "large"}}},
    )
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens: rows stay pending
    for name in ("issues.upstream.delivery", "issues.notify.delivery"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for i in range(2 * n):
        services.create_issue(
            service_type=pothole,
            latitude=41.88 + i * 1e-5,
            longitude=-87.63,
            address=f"{100 + i} N LaSalle St",
            description=f"Deep pothole number {i}, about a foot across, in the curb lane.",
            attributes={"SIZE": ["l"]},
            reporter_email=f"resident{i}@example.org",
        )
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    return endpoint, list(UpstreamSend.objects.order_by("pk").values_list("pk", flat=True))


def raw_posts(endpoint, forms: list) -> float:
    """Seconds for one loop to POST these forms with urllib, reading each answer."""
    url = endpoint.resource_url("requests")
    identity = [("jurisdiction_id", endpoint.jurisdiction_id), ("api_key", endpoint.api_key)]
    started = time.perf_counter()
    for form in forms:
        body = urllib.parse.urlencode([*form, *identity]).encode()
        with urllib.request.urlopen(url, data=body, timeout=30) as answer:
            answer.read()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", type=int, default=300, help="Reports each way.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_bench_upstream", help="Ours; made fresh.")
    parser.add_argument("--city-db", default="civicfix_bench_city", help="The city's; made fresh.")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--port", type=int, default=0, help="The city's port (default: free).")
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    queue = f"civicfix-bench-{uuid.uuid4().hex[:8]}"
    env = environment(args, queue)
    for name in (args.db, args.city_db):
        recreate_database(args.pg, name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    city = LiveCivicFix(
        Path(tempfile.mkdtemp(prefix="civicfix-city-")),
        port=args.port,
        database_url=f"{args.pg}/{args.city_db}",
    )
    city.prepare()
    city.start()
    try:
        django_in_process(env)
        from config.celery import app
        from departments.models import ServiceTypeUpstream
        from issues.models import Issue, UpstreamSend, UpstreamState
        from issues.upstream import payloads
        from issues.upstream.delivery import send_to_city

        app.conf.task_always_eager = False
        endpoint, ids = our_side(city, args.n)
        # Half the reports go by hand (their rows are set aside), half through the worker.
        by_hand, through_worker = ids[: args.n], ids[args.n :]
        mapping = ServiceTypeUpstream.objects.get()
        forms = [
            payloads.report_form(row.issue, endpoint=endpoint, mapping=mapping)
            for row in UpstreamSend.objects.filter(pk__in=by_hand).select_related("issue")
        ]
        UpstreamSend.objects.filter(pk__in=by_hand).delete()
        raw = raw_posts(endpoint, forms)

        worker = start_worker(args, env, queue, Path(f"/tmp/{queue}.log"))
        try:
            started = time.perf_counter()
            for start in range(0, len(through_worker), 50):
                send_to_city.delay(through_worker[start : start + 50])
            deadline = time.monotonic() + max(300, args.n)
            sent = UpstreamSend.objects.filter(state=UpstreamState.SENT)
            while sent.count() < len(through_worker) and time.monotonic() < deadline:
                time.sleep(0.2)
            outbox = time.perf_counter() - started
        finally:
            stop(worker)
        done = sent.count()
        referenced = Issue.objects.exclude(external_id="").count()
    finally:
        city.stop()

    print(f"CivicFix city-system benchmark: {args.n} reports each way to a live CivicFix")
    print(f"  raw POST, one Python loop          {args.n / raw:8.1f} reports/s  ({raw:.1f}s)")
    print(
        f"  outbox through one worker (solo)   {done / outbox:8.1f} reports/s  ({outbox:.1f}s; "
        f"{done} sent, {referenced} with the city's reference)"
    )
    print(f"  outbox / raw                       {(done / outbox) / (args.n / raw):8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
