"""A real Celery worker process, the real Redis broker and a real SMTP server.

Runs where REDIS_URL is set and the tests use PostgreSQL (CI does both): the worker is another
process, so it must reach the same test database, which an in-memory SQLite database cannot be.
One worker serves the module; the tests publish to a queue of its own, so a developer's worker on the same Redis never steals
their tasks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app
from issues import services
from issues.models import Notification, NotificationState, Status
from issues.notify import delivery, subscriptions
from issues.tasks import send_notifications
from tests.notify.conftest import fifty_events
from tests.notify.smtp_sink import SmtpSink, free_port
from tests.notify.test_outbox import reset_broker_connections

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(django_settings.BASE_DIR)
CELERY = Path(sys.executable).parent / "celery"


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def require_redis_and_postgresql() -> None:
    if not django_settings.REDIS_URL:
        pytest.skip("Needs a real Redis: set REDIS_URL (CI does), e.g. redis://127.0.0.1:6379/5")
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: the worker process must share the test database, and SQLite's "
            "test database lives in this process's memory. Set DATABASE_URL=postgres://..."
        )


@pytest.fixture(scope="module")
def live_worker(django_db_setup, tmp_path_factory):
    """One worker and one SMTP sink for the module (starting a worker takes seconds); the
    worker consumes a queue no one else publishes to."""
    require_redis_and_postgresql()
    queue = f"civicfix-test-{uuid.uuid4().hex[:10]}"
    with SmtpSink() as smtp, celery_worker(queue, smtp.url, tmp_path_factory.mktemp("worker")):
        yield queue, smtp
    import redis

    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)


@pytest.fixture
def sink(live_worker, settings):
    """The SMTP sink, emptied, with this process publishing to the live worker's queue."""
    queue, smtp = live_worker
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.broker_url = django_settings.CELERY_BROKER_URL
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_broker_connections()
    smtp.clear()
    yield smtp
    app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = saved
    reset_broker_connections()


@contextmanager
def celery_worker(queue: str, smtp_url: str, tmp_path: Path):
    """`celery worker --pool=solo` in its own process group, killed whatever happens."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": queue,
        "EMAIL_URL": smtp_url,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "SITE_URL": django_settings.SITE_URL,
        "DEBUG": "true",
        "CONN_MAX_AGE": "0",
    }
    env.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / f"{queue}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("The Celery worker did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(0.1)
        yield process
    finally:
        # Warm shutdown first (the worker finishes its task), then nothing of the group survives.
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_status_change_email_arrives_exactly_once_through_a_real_worker(
    sink, issue, follower, staff_user
):
    subscriptions.unfollow_issue(issue=issue, user=follower)  # one recipient: Rosa
    services.change_status(
        issue=issue, to=Status.ACKNOWLEDGED, by=staff_user, message="Crew booked"
    )
    assert len(sink.wait_for(1)) == 1
    # The SMTP server has it a moment before the worker commits "sent".
    row = Notification.objects.get(issue=issue)
    deadline = time.monotonic() + 10
    while row.state != NotificationState.SENT and time.monotonic() < deadline:
        time.sleep(0.05)
        row.refresh_from_db()
    # The broker delivers a task twice, beat re-queues: still one email.
    send_notifications.delay([row.pk])
    assert delivery.requeue_pending(older_than_seconds=0) == 0
    # A later event queued behind the duplicate: once it arrives, the duplicate was handled.
    services.change_status(issue=issue, to=Status.IN_PROGRESS, by=staff_user)
    received = sink.wait_for(2)
    time.sleep(0.3)  # anything extra would arrive now
    received = sink.messages

    assert len(received) == 2
    (rcpt, message), (rcpt2, later) = received
    assert rcpt == ["resident@example.org"] and rcpt2 == ["resident@example.org"]
    assert message["To"] == "resident@example.org"
    assert issue.public_id in message["Subject"] and "acknowledged" in message["Subject"]
    assert "in progress" in later["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_payload(0).get_payload(decode=True).decode()
    assert "Crew booked" in text
    row.refresh_from_db()
    assert row.state == NotificationState.SENT and row.attempts == 1


def test_outage_then_recovery_delivers_every_email_once(
    sink, service_type, resident, follower, staff_user, wards
):
    # Redis is unreachable from the web process: every action still succeeds for the person.
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    reset_broker_connections()
    started = time.monotonic()
    issues = fifty_events(
        service_type=service_type, reporter=resident, follower=follower, staff=staff_user
    )
    seconds = time.monotonic() - started
    assert len(issues) == 20
    expected = Notification.objects.count()
    assert expected == 85
    assert not Notification.objects.exclude(state=NotificationState.PENDING).exists()
    assert sink.messages == []
    print(f"50 actions with the broker down took {seconds:.2f}s")

    # Redis is back; beat's re-queue runs (here called directly) and the worker sends.
    app.conf.broker_url = django_settings.CELERY_BROKER_URL
    reset_broker_connections()
    assert delivery.requeue_pending(older_than_seconds=0) == expected
    sink.wait_for(expected, timeout=90)
    assert delivery.requeue_pending(older_than_seconds=0) == 0
    time.sleep(0.5)  # anything extra would arrive now
    received = sink.messages

    assert len(received) == expected
    assert len({(tuple(rcpt), msg["Subject"]) for rcpt, msg in received}) == expected
    assert Notification.objects.filter(state=NotificationState.SENT).count() == expected
