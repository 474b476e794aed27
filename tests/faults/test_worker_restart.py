"""A Celery worker survives a restart of its broker on its own.

Before config/broker.py, a worker holding an unacknowledged message while waiting on BRPOP (a
retry scheduled with an ETA is enough: delivery.py schedules one after every temporary SMTP
failure) exited with "Unrecoverable error: AttributeError("'NoneType' object has no attribute
'hostname'")" when Redis restarted, every time. Here a real worker, in the prefork pool the
Procfile runs, loses a redis-server of the test's own and must carry on: reconnect, and deliver
what is published afterwards.
"""

from __future__ import annotations

import uuid

import pytest

from config.celery import app
from issues.models import Notification, NotificationEvent, NotificationState
from issues.notify import events
from issues.tasks import send_notifications
from tests.factories import make_issue
from tests.fault_support import celery_worker, require_postgresql, wait_for_log
from tests.notify.smtp_sink import SmtpSink
from tests.notify.test_outbox import reset_broker_connections

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def publishing_to(redis_server, settings):
    """This process publishes to the test's redis-server, on a queue of the test's own."""
    require_postgresql()
    queue = f"civicfix-restart-{uuid.uuid4().hex[:10]}"
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.broker_url = redis_server.url()
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_broker_connections()
    yield queue
    app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = saved
    reset_broker_connections()


def outbox_row(issue, address: str) -> Notification:
    return Notification.objects.create(
        event=NotificationEvent.ISSUE_CREATED,
        dedupe_key=f"test:{issue.public_id}:{address}",
        recipient_email=address,
        issue=issue,
        subject=f"[{issue.public_id}] Received",
        body_text="Thank you for your report.",
    )


def test_worker_holding_a_message_survives_a_broker_restart(
    redis_server, publishing_to, service_type, tmp_path
):
    with events.suppressed():
        issue = make_issue(service_type)
    receipt = outbox_row(issue, "pat@example.net")
    later = outbox_row(issue, "sam@example.net")
    with (
        SmtpSink() as smtp,
        celery_worker(publishing_to, smtp.url, tmp_path, redis_server.url(), concurrency=2) as (
            worker,
            log,
        ),
    ):
        # A retry due in ten minutes: the worker holds it, unacknowledged, and waits on BRPOP.
        send_notifications.apply_async(args=[[receipt.pk]], countdown=600)
        wait_for_log(worker, log, b" received", "The worker never received the task")

        redis_server.restart(down_for=1.0)
        wait_for_log(worker, log, b"Connected to", "The worker did not reconnect", count=2)

        reset_broker_connections()
        send_notifications.delay([later.pk])
        delivered = smtp.wait_for(1)
        assert worker.poll() is None, log.read_text()[-4000:]
    assert b"Unrecoverable error" not in log.read_bytes()
    assert [rcpt for rcpt, _message in delivered] == [[later.recipient_email]]
    later.refresh_from_db()
    assert later.state == NotificationState.SENT
