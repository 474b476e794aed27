#!/usr/bin/env python3
"""Time of an Open311 POST (a new report through the API), in-process, on PostgreSQL.

A fresh database (dropped and created), one department that wants new reports by email, a ward
with `--watchers` people watching it, and one API key. Each POST names a reporter email, so one
report writes 2 + watchers outbox rows (the receipt, the department's copy, each watcher's).
Requests go through Django's test client (no HTTP server, no page cache in the way); handing
the rows to the worker is replaced by a no-op (a broker that accepts at once), so delivery is not
part of the timing: what is timed is what the request itself does. Prints the median and
quartiles of `-n` POSTs and how many of the outbox rows were written still unrendered (intents,
rendered by the worker); `--compare` alternates blocks of 10 POSTs with blocks that render the
emails in the request, as before.

    .venv/bin/python bench/open311_post.py --db civicfix_bench_post -n 200
    .venv/bin/python bench/open311_post.py --compare      # alternating with rendering in the request
    .venv/bin/python bench/open311_post.py --profile      # and where the time goes (cProfile)

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

from bench.database import django_in_process, recreate_database  # noqa: E402


def setup_django(args) -> None:
    os.environ.pop("REDIS_URL", None)
    django_in_process(
        dict(
            DATABASE_URL=f"{args.pg}/{args.db}",
            SECRET_KEY="bench-only-not-a-secret",
            DEBUG="false",
            SECURE_SSL_REDIRECT="false",
            LOG_LEVEL="WARNING",
            RATE_LIMIT_REPORTS_PER_HOUR="1000000",
            EMAIL_URL="dummymail://",
            ALLOWED_HOSTS="testserver,127.0.0.1",
        )
    )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from issues.notify import delivery

    # A broker that takes the ids at once (in production, a push to Redis): what is timed is the
    # request, not the worker's delivery, which eager mode would run inside it.
    delivery.publish = lambda ids: True


def make_city(watchers: int):
    from accounts.services import issue_api_key
    from departments.models import Ward
    from issues.notify import subscriptions
    from tests.factories import (
        CITY_HALL,
        make_department,
        make_service_type,
        make_user,
        square_boundary,
    )

    ward = Ward.objects.create(number=42, name="42nd Ward", boundary=square_boundary(*CITY_HALL))
    department = make_department("Streets and Sanitation", notify_new_issues=True)
    make_service_type(department, code="pothole", name="Pothole in Street")
    for i in range(watchers):
        subscriptions.watch_ward(ward=ward, email=f"watcher{i}@example.org")
    _key, raw = issue_api_key(owner=make_user("developer@example.org"), name="Bench app")
    return raw, CITY_HALL


@contextlib.contextmanager
def rendering_in_request(on: bool):
    """With `on`, events render their emails in the request as before intents (the comparison)."""
    from issues.notify import drafts, events

    if not on:
        yield
        return
    events.write_rows = lambda rows, defer=False: drafts.write_rows(rows)
    try:
        yield
    finally:
        events.write_rows = drafts.write_rows


def post_once(client, raw: str, point, i: int) -> float:
    form = {
        "api_key": raw,
        "service_code": "pothole",
        "lat": point[0],
        "long": point[1],
        "description": f"Deep pothole by the kerb, number {i}",
        "email": f"reporter{i}@example.org",
        "first_name": "Rosa",
    }
    started = time.perf_counter()
    response = client.post("/open311/v2/requests.json", form)
    elapsed = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise SystemExit(f"POST answered {response.status_code}: {response.content[:500]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", type=int, default=200, help="POSTs to time.")
    parser.add_argument("--watchers", type=int, default=3, help="People watching the ward.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_bench_post", help="Dropped and created fresh.")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="Alternate with POSTs that render the emails in the request (the old way).",
    )
    parser.add_argument("--profile", action="store_true", help="Print cProfile's top entries.")
    args = parser.parse_args()

    recreate_database(args.pg, args.db)
    setup_django(args)
    from django.test import Client

    from issues.models import Notification

    raw, point = make_city(args.watchers)
    client = Client()
    for i in range(10):  # warm-up: templates, URL resolver, connections
        post_once(client, raw, point, -1 - i)
    before = Notification.objects.count()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(args.n):
        # Blocks of 10, alternating, so both modes meet the same machine load.
        render_in_request = args.compare and (i // 10) % 2 == 1
        with rendering_in_request(render_in_request):
            times[render_in_request].append(post_once(client, raw, point, i))
    if profiler:
        profiler.disable()
    rows = Notification.objects.order_by("pk")[before:]
    intents = sum(1 for row in rows if row.render_context)
    load = os.getloadavg()
    print(
        f"Open311 POST ({args.watchers} ward watchers, {len(rows)} outbox rows written, "
        f"{intents} of them intents for the worker to render); load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    for mode, label in ((False, "intents (rendered by the worker)"), (True, "rendered in request")):
        if times[mode]:
            q1, median, q3 = statistics.quantiles(times[mode], n=4)
            print(
                f"  {label}: x{len(times[mode])} median {median * 1000:.1f} ms "
                f"(quartiles {q1 * 1000:.1f}-{q3 * 1000:.1f} ms)"
            )
    if times[True] and times[False]:
        ratio = statistics.median(times[False]) / statistics.median(times[True])
        print(f"  intents / rendered in request: {ratio:.2f}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
