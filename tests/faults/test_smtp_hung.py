"""No Redis (tasks run in the web process, as embedded mode does, allowed in production) and an
SMTP server that accepts connections and never answers: the resident's request must not wait
for it. Before, one report was held 80 s; now mail goes out from a background thread
(issues/notify/background.py), which also retries, and the embedded default still prints its
mail on the console during the request."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from departments.models import Ward
from issues.models import Issue, Notification, NotificationState
from issues.notify import delivery
from tests.factories import CITY_HALL, square_boundary
from tests.fault_support import HungServer
from tests.notify.smtp_sink import SmtpSink
from tests.pages.conftest import report_data

# The sender thread must see what the request committed.
pytestmark = pytest.mark.django_db(transaction=True)

REPORT_URL = reverse("issues:report")
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def ward(db) -> Ward:
    return Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))


@pytest.fixture
def background_sender():
    """The process's sender, stopped after the test so no thread outlives it."""
    sweep_seconds = delivery.background.sweep_seconds
    yield delivery.background
    delivery.background.stop()
    delivery.background.sweep_seconds = sweep_seconds


@pytest.fixture
def smtp_hung(settings, background_sender):
    """Mail through SMTP to a server that never answers; no broker (eager, as in every test)."""
    with HungServer() as hung:
        settings.EMAIL_BACKEND = SMTP
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", hung.port
        settings.EMAIL_TIMEOUT = 2
        yield hung


def a_report(service_type) -> dict:
    return report_data(service_type, **{"attribute[SIZE]": None})


def test_report_does_not_wait_for_a_hung_smtp_server(
    client, smtp_hung, background_sender, service_type, ward, settings
):
    started = time.monotonic()
    response = client.post(REPORT_URL, a_report(service_type))
    elapsed = time.monotonic() - started
    issue = Issue.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{issue.get_absolute_url()}?new=1"
    # Before: each of the two emails waited EMAIL_TIMEOUT to connect and again to send.
    assert elapsed < settings.EMAIL_TIMEOUT
    rows = Notification.objects.filter(issue=issue)
    assert set(rows.values_list("state", flat=True)) == {NotificationState.PENDING}

    # Meanwhile the background sender tried, timed out, and scheduled a retry.
    assert background_sender.wait_idle(timeout=60)
    assert smtp_hung.connections >= 1
    for row in rows:
        assert (row.state, row.attempts) == (NotificationState.PENDING, 1)
        assert "timed out" in row.last_error


def test_mail_goes_out_from_the_background_once_the_server_answers(
    client, smtp_hung, background_sender, service_type, ward, settings
):
    background_sender.sweep_seconds = 0.2  # sweeps the outbox as beat would, but often
    client.post(REPORT_URL, a_report(service_type))
    assert background_sender.wait_idle(timeout=60)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
    with SmtpSink() as sink:
        settings.EMAIL_PORT = sink.port  # the mail server is back
        # The retries fall due (a minute later, in life).
        settings.OUTBOX_REQUEUE_AFTER_SECONDS = 0
        Notification.objects.update(next_attempt_at=Notification.objects.first().created_at)
        received = sink.wait_for(2)
        assert background_sender.wait_idle(timeout=30)
    assert sorted(rcpt[0] for rcpt, _message in received) == sorted(
        ["pat@example.net", service_type.department.contact_email]
    )
    assert set(Notification.objects.values_list("state", flat=True)) == {NotificationState.SENT}


def test_embedded_default_still_prints_mail_during_the_request(
    client, settings, service_type, ward, capsys
):
    """`make run`: no Redis, mail on the console. A console cannot hang, so nothing moves to a
    thread and the mail is printed before the page comes back, as before."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert not delivery.sends_in_background()
    response = client.post(REPORT_URL, a_report(service_type))
    issue = Issue.objects.get()
    assert response.status_code == 302
    printed = capsys.readouterr().out
    assert f"[{issue.public_id}]" in printed and "To: pat@example.net" in printed
