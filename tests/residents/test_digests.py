"""The residents' digest: daily or weekly, new reports and closings in the alert's area, skipped
when there is nothing to say, run from beat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import services, tasks
from issues.models import AreaAlert, EmailOptOut, Notification, NotificationEvent, Status
from issues.notify import area_digests, events
from issues.services import alerts as alert_services
from tests.factories import CITY_HALL, make_issue, make_user

pytestmark = pytest.mark.django_db

NEAR = (CITY_HALL[0] + 0.0027, CITY_HALL[1])
FAR = (CITY_HALL[0] + 0.05, CITY_HALL[1])


def quietly(service_type, **kwargs):
    with events.suppressed():
        return make_issue(service_type, **kwargs)


def alert_for(email, frequency="daily", days_ago=2, **extra) -> AreaAlert:
    alert = alert_services.create_alert(
        latitude=CITY_HALL[0],
        longitude=CITY_HALL[1],
        radius_m=500,
        user=make_user(email),
        frequency=frequency,
        label="My street",
        **extra,
    )
    AreaAlert.objects.filter(pk=alert.pk).update(
        confirmed_at=timezone.now() - timedelta(days=days_ago)
    )
    return alert


def test_daily_digest_lists_new_and_closed_reports_in_the_area(service_type, staff_user, deliver):
    alert_for("daily@example.org")
    fresh = quietly(service_type, point=NEAR, address="1 Fresh St")
    done = quietly(service_type, point=NEAR, address="2 Done St")
    with events.suppressed():
        services.change_status(issue=done, to=Status.CLOSED, by=staff_user)
    quietly(service_type, point=FAR, address="9 Far Ave")

    count, sent = deliver(lambda: tasks.send_alert_digests.delay().get())

    assert count == 1 and [m.to for m in sent] == [["daily@example.org"]]
    body = sent[0].body
    assert "My street: 2 new, 1 closed" in sent[0].subject
    assert fresh.public_id in body and done.public_id in body and "Far Ave" not in body
    assert "Stop this alert" in body


def test_nothing_to_say_sends_nothing_but_moves_the_window(service_type, deliver):
    alert = alert_for("daily@example.org")
    quietly(service_type, point=FAR)
    count, sent = deliver(area_digests.queue_alert_digests)
    assert count == 0 and sent == []
    alert.refresh_from_db()
    assert alert.last_digest_at is not None


def test_digest_runs_once_a_day_and_weekly_once_a_week(service_type, deliver):
    alert_for("daily@example.org")
    alert_for("weekly@example.org", frequency="weekly", days_ago=3)
    quietly(service_type, point=NEAR)
    count, sent = deliver(area_digests.queue_alert_digests)
    assert [m.to for m in sent] == [["daily@example.org"]]  # the weekly one is not due yet
    count, sent = deliver(area_digests.queue_alert_digests)
    assert count == 0  # run twice the same morning
    later = timezone.now() + timedelta(days=5)
    quietly(service_type, point=NEAR)
    count, sent = deliver(area_digests.queue_alert_digests, now=later)
    assert sorted(m.to[0] for m in sent) == ["daily@example.org", "weekly@example.org"]


def test_instant_alerts_and_opted_out_addresses_get_no_digest(service_type, deliver):
    alert_for("instant@example.org", frequency="instant")
    alert_for("gone@example.org")
    EmailOptOut.objects.create(email="gone@example.org")
    quietly(service_type, point=NEAR)
    count, _ = deliver(area_digests.queue_alert_digests)
    assert count == 0
    assert not Notification.objects.filter(event=NotificationEvent.ALERT_DIGEST).exists()


def test_types_filter_the_digest(service_type, deliver):
    from tests.factories import make_service_type

    other = make_service_type(service_type.department)
    alert_for("typed@example.org", service_types=[other])
    quietly(service_type, point=NEAR)
    count, _ = deliver(area_digests.queue_alert_digests)
    assert count == 0


def test_a_report_hidden_after_the_alert_digest_was_queued_is_left_out(service_type, staff_user):
    from django.core import mail

    from issues.models import NotificationState
    from issues.notify import delivery

    alert_for("daily@example.org")
    kept = quietly(service_type, point=NEAR, address="1 Kept St")
    hidden = quietly(service_type, point=NEAR, address="2 Secret St")
    area_digests.queue_alert_digests()  # written; no commit here, so not sent yet
    row = Notification.objects.get(event=NotificationEvent.ALERT_DIGEST)
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="Private address")

    assert delivery.deliver(row.pk) == NotificationState.SENT

    (message,) = mail.outbox
    for body in (message.body, message.alternatives[0][0]):
        assert kept.public_id in body and hidden.public_id not in body
        assert "Secret St" not in body and "cf-issue" not in body
