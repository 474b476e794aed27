#!/usr/bin/env python3
"""Staff workbench figures on a fresh PostgreSQL database (civicfix_staff_bench):

- bulk close: milliseconds per issue through services.bulk_change_status (row lock, history row,
  outbox rows rendered, on-commit scheduling), with one follower per issue;
- the queue page (/admin/issues/issue/, 50 rows) at growing queue sizes: median time and the
  number of SQL queries, which should stay the same at every size.

    .venv/bin/python bench/staff.py                       # sizes 1000,10000,100000; close 500
    .venv/bin/python bench/staff.py --sizes 1000 --close 200

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

from bench.database import django_in_process, recreate_database  # noqa: E402

if TYPE_CHECKING:  # the models load only after django.setup()
    from accounts.models import User
    from departments.models import ServiceType


def seed(n: int, service_type, now) -> list:
    from issues.models import Issue, Subscription

    issues = Issue.objects.bulk_create(
        (
            Issue(
                service_type=service_type,
                department=service_type.department,
                needs_triage=True,
                address=f"{k} W Division St",
                requested_at=now - timedelta(minutes=k),
                updated_at=now,
                expected_at=now - timedelta(minutes=k) + timedelta(hours=72),
            )
            for k in range(n)
        ),
        batch_size=5000,
    )
    Subscription.objects.bulk_create(
        (Subscription(issue=i, email=f"r{i.pk}@example.net") for i in issues), batch_size=5000
    )
    return issues


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_staff_bench")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--close", type=int, default=500)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--repeat", type=int, default=7)
    return parser.parse_args()


def start_django(args: argparse.Namespace) -> None:
    """Django on a fresh, migrated bench database."""
    recreate_database(args.pg, args.db)
    django_in_process(
        {
            # A broker nobody consumes from (db 4): the close is timed as the request pays for
            # it, with delivery left to workers, as in production.
            "REDIS_URL": args.redis,
            "DATABASE_URL": f"{args.pg}/{args.db}",
            "SECRET_KEY": "bench-only-not-a-secret",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_department() -> tuple[ServiceType, User]:
    """One department with one service type and one staff member to work its queue."""
    from accounts.models import User
    from departments import services as department_services
    from departments.models import Department, ServiceType

    department = Department.objects.create(
        name="Streets", slug="streets", contact_email="d@x.example"
    )
    service_type = ServiceType.objects.create(
        service_code="pothole", name="Pothole", department=department, sla_hours=72
    )
    staff = User.objects.create_user(email="sam@city.example", password=None, display_name="Sam")
    department_services.add_staff(department=department, user=staff)
    return service_type, staff


def time_bulk_close(
    args: argparse.Namespace, service_type: ServiceType, staff: User, now: datetime
) -> None:
    from issues import services
    from issues.models import Status

    issues = seed(args.close, service_type, now)
    started = time.perf_counter()
    changed, refused = services.bulk_change_status(
        issues=issues, to=Status.CLOSED, by=staff, message="Filled."
    )
    elapsed = time.perf_counter() - started
    print(
        f"bulk close: {len(changed)} issues in {elapsed:.2f} s = "
        f"{1000 * elapsed / max(len(changed), 1):.1f} ms per issue ({len(refused)} refused)"
    )


def time_queue(
    args: argparse.Namespace, service_type: ServiceType, staff: User, now: datetime
) -> None:
    """The queue page at each size, open issues and all: median time and SQL query count."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from issues.models import Issue

    client = Client()
    client.force_login(staff)
    print(f"{'queue size':>12} {'view':>14} {'median ms':>10} {'queries':>8}")
    for size in [int(s) for s in args.sizes.split(",") if s]:
        missing = size - Issue.objects.count()
        if missing > 0:
            seed(missing, service_type, now)
            with connection.cursor() as cursor:  # what autovacuum would soon do in production
                cursor.execute("ANALYZE")
        for view in ("?status=open", ""):
            url = "/admin/issues/issue/" + view
            client.get(url)
            timings = []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"queue page answered {response.status_code}")
            median = 1000 * statistics.median(timings)
            print(f"{size:>12} {view or '(all)':>14} {median:>10.1f} {len(queries):>8}")


def main() -> None:
    args = parse_args()
    start_django(args)
    from django.utils import timezone

    service_type, staff = create_department()
    now = timezone.now()
    time_bulk_close(args, service_type, staff, now)
    time_queue(args, service_type, staff, now)
    import redis

    redis.Redis.from_url(args.redis).flushdb()  # the unconsumed delivery messages


if __name__ == "__main__":
    main()
