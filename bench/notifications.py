#!/usr/bin/env python3
"""Emails per second through the outbox and a real Celery worker, beside the raw SMTP send rate.

Everything is local and real: a fresh PostgreSQL database, Redis as the broker, `celery worker`
processes, and an aiosmtpd server as the SMTP sink. The raw rate is smtplib sending the same
messages straight to the same sink (one session for all, and one session per message), so the
figure to read is the ratio: what the outbox (row lock, state change, a commit per email) costs
over SMTP itself.

    .venv/bin/python bench/notifications.py                 # 2000 emails, one solo worker
    .venv/bin/python bench/notifications.py -n 5000 --concurrency 4

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (re-run in the venv)
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.database import django_in_process, recreate_database  # noqa: E402
from tests.notify.smtp_sink import SmtpSink  # noqa: E402

CELERY = Path(sys.executable).parent / "celery"


def environment(args, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "REDIS_URL": args.redis,
        "CELERY_QUEUE": queue,
        "SECRET_KEY": "bench-only-not-a-secret",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
    }


def start_worker(args, env: dict[str, str], queue: str, log_path: Path) -> subprocess.Popen:
    pool = ["--pool=solo"] if args.concurrency == 1 else ["--pool=prefork", f"-c{args.concurrency}"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                *(str(CELERY), "-A", "config", "worker", *pool, "-Q", queue, "-n", f"{queue}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise SystemExit("worker did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.1)
    return process


def stop(process: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM to the main process lets pool children finish their task), then
    SIGKILL to the whole group if it lingers."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def make_rows(n: int, run: str) -> list[int]:
    """N realistic outbox rows (one rendered status email, copied per recipient)."""
    from django.template.loader import render_to_string

    from issues.models import Notification

    context = {
        "site_name": "CivicFix",
        "site_url": "http://127.0.0.1:8000",
        "issue_url": "http://127.0.0.1:8000/issues/K7M2-9QXR/",
        "unsubscribe_url": "http://127.0.0.1:8000/unsubscribe/" + "x" * 90 + "/",
        "unsubscribe_all_url": "http://127.0.0.1:8000/unsubscribe/" + "y" * 90 + "/",
        "unsubscribe_scope": "issue",
        "issue": {"public_id": "K7M2-9QXR", "service_type": {"name": "Pothole in Street"}},
        "status_change": {
            "get_to_status_display": "Closed",
            "to_status": "closed",
            "message": "Filled with hot asphalt this morning. " * 5,
        },
    }
    text = render_to_string("emails/status_changed.txt", context)
    html = render_to_string("emails/status_changed.html", context)
    rows = [
        Notification(
            event="status_changed",
            dedupe_key=f"bench:{run}:{i}",
            recipient_email=f"person{i}@example.org",
            subject="[K7M2-9QXR] Pothole in Street: closed",
            body_text=text,
            body_html=html,
            unsubscribe_url=context["unsubscribe_url"],
        )
        for i in range(n)
    ]
    Notification.objects.bulk_create(rows, batch_size=1000)
    return list(
        Notification.objects.filter(dedupe_key__startswith=f"bench:{run}:")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def raw_smtp(sink: SmtpSink, messages: list[bytes], *, per_message: bool) -> float:
    """Seconds to send these messages with smtplib alone."""
    started = time.perf_counter()
    if per_message:
        for i, data in enumerate(messages):
            with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
                smtp.sendmail("noreply@civicfix.local", [f"raw{i}@example.org"], data)
    else:
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            for i, data in enumerate(messages):
                smtp.sendmail("noreply@civicfix.local", [f"raw{i}@example.org"], data)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="Emails to send.")
    parser.add_argument("--concurrency", type=int, default=1, help="1: solo pool; N: prefork.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="civicfix_bench_notify", help="Dropped and created fresh.")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    args = parser.parse_args()

    queue = f"civicfix-bench-{uuid.uuid4().hex[:8]}"
    env = environment(args, queue)
    recreate_database(args.pg, args.db)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    django_in_process(env)
    from config.celery import app
    from issues.models import Notification, NotificationState
    from issues.notify import delivery
    from issues.tasks import send_notifications

    app.conf.task_always_eager = False

    with SmtpSink() as sink:
        ids = make_rows(args.n, queue)
        message = delivery.build_message(Notification.objects.get(pk=ids[0])).message()
        sample = message.as_bytes(linesep="\r\n")  # as Django's SMTP backend sends it
        raw_one = raw_smtp(sink, [sample] * args.n, per_message=False)
        per_n = max(args.n // 4, 50)
        raw_each = raw_smtp(sink, [sample] * per_n, per_message=True)
        already = len(sink.messages)

        env["EMAIL_URL"] = sink.url
        process = start_worker(args, env, queue, Path(f"/tmp/{queue}.log"))
        try:
            started = time.perf_counter()
            for start in range(0, len(ids), 100):
                send_notifications.delay(ids[start : start + 100])
            deadline = time.monotonic() + max(120, args.n / 20)
            while len(sink.messages) - already < args.n and time.monotonic() < deadline:
                time.sleep(0.02)
            through_worker = time.perf_counter() - started
            arrived = len(sink.messages) - already
        finally:
            stop(process)
        sent = Notification.objects.filter(pk__in=ids, state=NotificationState.SENT).count()

    size = len(sample)
    print(f"CivicFix notifications benchmark: {args.n} emails of {size} bytes, local SMTP sink")
    print(f"  raw smtplib, one session          {args.n / raw_one:8.0f} emails/s")
    print(f"  raw smtplib, a session each       {per_n / raw_each:8.0f} emails/s")
    workers = "solo" if args.concurrency == 1 else f"prefork x{args.concurrency}"
    print(
        f"  outbox through a worker ({workers:>11}) {arrived / through_worker:8.0f} emails/s"
        f"  ({arrived} arrived, {sent} rows marked sent, {through_worker:.1f}s)"
    )
    print(
        f"  outbox / raw (one session)        {raw_one / args.n / (through_worker / arrived):8.2f}"
    )
    print(
        f"  outbox / raw (a session each)     {raw_each / per_n / (through_worker / arrived):8.2f}"
    )
    load = os.getloadavg()
    print(f"  load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [args.db]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
