"""A real Celery worker process, the real Redis broker and a real SMTP server.

Runs where REDIS_URL is set and the tests use PostgreSQL (CI does both): the worker is another
process, so it must reach the same test database, which an in-memory SQLite database cannot be.
One worker serves the module; the tests publish to a queue of its own, so a developer's worker on the same Redis never steals
their tasks.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings as django_settings

from config.celery import app
from issues import services
from issues.models import Notification, NotificationState, Status
from issues.notify import delivery, subscriptions
from issues.tasks import send_notifications
from tests.fault_support import celery_worker, require_postgresql
from tests.notify.conftest import fifty_events
from tests.notify.smtp_sink import SmtpSink, free_port
from tests.notify.test_outbox import reset_broker_connections

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def require_redis_and_postgresql() -> None:
    if not django_settings.REDIS_URL:
        pytest.skip("Needs a real Redis: set REDIS_URL (CI does), e.g. redis://127.0.0.1:6379/5")
    require_postgresql()


@pytest.fixture(scope="module")
def live_worker(django_db_setup, tmp_path_factory):
    """One worker and one SMTP sink for the module (starting a worker takes seconds); the
    worker consumes a queue no one else publishes to."""
    require_redis_and_postgresql()
    queue = f"civicfix-test-{uuid.uuid4().hex[:10]}"
    with (
        SmtpSink() as smtp,
        celery_worker(
            queue, smtp.url, tmp_path_factory.mktemp("worker"), django_settings.CELERY_BROKER_URL
        ),
    ):
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
