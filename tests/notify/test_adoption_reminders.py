"""The adopters' reminder: one email per due date, whatever beat does; what stops it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from issues import services
from issues.models import Adoption, Notification, NotificationEvent, NotificationState, VisitOutcome
from issues.notify import links
from issues.notify.reminders import queue_adoption_reminders
from issues.tasks import send_adoption_reminders

pytestmark = pytest.mark.django_db

REMINDER = NotificationEvent.ADOPTION_REMINDER


@pytest.fixture
def adoption(shelter, neighbour):
    return services.adopt_asset(asset=shelter, user=neighbour)


def reminders():
    return Notification.objects.filter(event=REMINDER)


def test_no_reminder_before_the_visit_is_due(adoption):
    assert queue_adoption_reminders(now=timezone.now() + timedelta(days=29)) == 0


def test_a_due_visit_earns_one_reminder_with_the_links_to_log_it(adoption, deliver):
    due = adoption.next_due_at
    written, sent = deliver(queue_adoption_reminders, now=due + timedelta(hours=2))
    assert written == 1
    [message] = sent
    assert message.to == ["neighbour@example.org"]
    assert message.subject == "A visit to your bus shelter is due: Clark & Randolph"
    assert f"/adoptions/{adoption.pk}/visit/" in message.body
    assert "/assets/" in message.body and "Clean the shelter and pick up litter" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")


def test_beat_running_the_job_twice_for_one_due_date_writes_one_reminder(adoption, deliver):
    """Beat restarted (or two beats by mistake): the second run finds the row written."""
    Adoption.objects.filter(pk=adoption.pk).update(next_due_at=timezone.now() - timedelta(hours=1))
    _, first = deliver(send_adoption_reminders.delay)
    _, second = deliver(send_adoption_reminders.delay)
    assert (len(first), len(second)) == (1, 0)
    assert reminders().count() == 1


def test_a_lapsed_adopter_hears_once_per_period_of_their_rhythm(adoption):
    due = adoption.next_due_at
    assert queue_adoption_reminders(now=due + timedelta(days=1)) == 1
    assert queue_adoption_reminders(now=due + timedelta(days=20)) == 0  # the same due date
    assert queue_adoption_reminders(now=due + timedelta(days=31)) == 1  # the next one
    refs = sorted(row.dedupe_key.split(":")[1] for row in reminders())
    assert refs == [
        f"{adoption.pk}@{timezone.localdate(due).isoformat()}",
        f"{adoption.pk}@{timezone.localdate(due + timedelta(days=30)).isoformat()}",
    ]


def test_a_visit_moves_the_next_reminder_a_rhythm_on(adoption, neighbour):
    now = timezone.now()
    Adoption.objects.filter(pk=adoption.pk).update(
        started_at=now - timedelta(days=20), next_due_at=now + timedelta(days=10)
    )
    adoption.refresh_from_db()
    services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.CLEANED)
    assert queue_adoption_reminders(now=now + timedelta(days=11)) == 0  # the old date passed
    assert queue_adoption_reminders(now=now + timedelta(days=31)) == 1


def test_given_up_and_ended_adoptions_get_no_reminder(adoption, neighbour):
    services.give_up_adoption(adoption=adoption, by=neighbour)
    assert queue_adoption_reminders(now=timezone.now() + timedelta(days=60)) == 0


def test_the_reminders_unsubscribe_link_stops_that_adoptions_reminders_only(
    adoption, shelters, neighbour, client
):
    from tests.factories import make_asset

    other = services.adopt_asset(asset=make_asset(shelters, "1413"), user=neighbour)
    url = links.unsubscribe_url(email=neighbour.email, scope="adoption", target_id=adoption.pk)
    confirm = client.get(url)
    assert "the visit reminders for Clark &amp; Randolph" in confirm.content.decode()
    client.post(url, {"List-Unsubscribe": "One-Click"})
    adoption.refresh_from_db()
    assert adoption.send_reminders is False and adoption.is_active  # the adoption goes on
    later = timezone.now() + timedelta(days=31)
    assert queue_adoption_reminders(now=later) == 1
    assert reminders().get().dedupe_key.startswith(f"{REMINDER}:{other.pk}@")


def test_a_reminder_queued_before_a_visit_is_withdrawn(
    adoption, neighbour, django_capture_on_commit_callbacks
):
    Adoption.objects.filter(pk=adoption.pk).update(next_due_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=False):
        queue_adoption_reminders()  # written, delivery not yet run (the worker is busy)
    services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.ALL_GOOD)
    from issues.notify import delivery

    row = reminders().get()
    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    row.refresh_from_db()
    assert "logged a visit since" in row.last_error and len(mail.outbox) == 0


def test_an_opted_out_address_gets_no_reminder(adoption, neighbour):
    from issues.models import EmailOptOut

    EmailOptOut.objects.create(email=neighbour.email)
    assert queue_adoption_reminders(now=adoption.next_due_at + timedelta(hours=1)) == 0
