"""The aldermen's daily digest and the "Is it fixed?" follow-up, from beat's tasks to the answer."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from issues import services, tasks
from issues.models import (
    EmailOptOut,
    Notification,
    NotificationEvent,
    Status,
)
from issues.notify import digests, events, subscriptions
from tests.factories import CITY_HALL, make_issue, make_user
from tests.notify.conftest import FAR_POINT, addresses

pytestmark = pytest.mark.django_db


@pytest.fixture
def alderman(wards):
    person = make_user("ald42@city.example", display_name="Alderman 42")
    wards[42].aldermen.add(person)
    return person


def quietly(**kwargs):
    with events.suppressed():
        return make_issue(**kwargs)


def run_task(task, django_capture_on_commit_callbacks):
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        result = task.delay().get()
    return result, mail.outbox[before:]


# The ward digest ---------------------------------------------------------------------------------


def test_digest_tells_the_alderman_what_happened_in_the_ward(
    alderman, service_type, staff_user, django_capture_on_commit_callbacks
):
    now = timezone.now()
    old = quietly(service_type=service_type, requested_at=now - timedelta(days=30))
    closed = quietly(service_type=service_type, requested_at=now - timedelta(days=3))
    with events.suppressed():
        services.change_status(issue=closed, to=Status.CLOSED, by=staff_user)
    fresh = quietly(service_type=service_type, address="5 Fresh St")
    quietly(service_type=service_type, point=FAR_POINT)  # ward 1: not this alderman's

    count, sent = run_task(tasks.send_ward_digests, django_capture_on_commit_callbacks)

    assert count == 1 and addresses(sent) == ["ald42@city.example"]
    body = sent[0].body
    assert "Ward 42 today: 1 new, 1 closed" in sent[0].subject
    assert "New reports: 1" in body and "Closed: 1" in body
    assert "Overdue now: 1" in body  # the 30-day-old one (SLA 72 hours)
    assert fresh.public_id in body and "5 Fresh St" in body
    assert old.public_id in body.split("Oldest open:")[1]
    assert sent[0].extra_headers["List-Unsubscribe"]


def test_no_digest_when_there_is_nothing_to_say(alderman, django_capture_on_commit_callbacks):
    count, sent = run_task(tasks.send_ward_digests, django_capture_on_commit_callbacks)
    assert count == 0 and sent == []


def test_digest_respects_the_setting_and_opt_outs(
    alderman, service_type, django_capture_on_commit_callbacks
):
    quietly(service_type=service_type)
    alderman.notify_ward_digest = False
    alderman.save()
    assert run_task(tasks.send_ward_digests, django_capture_on_commit_callbacks)[0] == 0
    alderman.notify_ward_digest = True
    alderman.save()
    EmailOptOut.objects.create(email=alderman.email)
    assert run_task(tasks.send_ward_digests, django_capture_on_commit_callbacks)[0] == 0


def test_digest_runs_once_a_day_whatever_beat_does(alderman, service_type):
    quietly(service_type=service_type)
    assert digests.queue_ward_digests() == 1
    assert digests.queue_ward_digests() == 0
    assert Notification.objects.filter(event=NotificationEvent.WARD_DIGEST).count() == 1


def test_hidden_issues_stay_out_of_the_digest(alderman, service_type, staff_user):
    spam = quietly(service_type=service_type, description="spam")
    services.set_hidden(target=spam, hidden=True, by=staff_user, reason="Spam")
    assert digests.queue_ward_digests() == 0


def test_one_digest_for_an_alderman_of_several_wards_in_constant_queries(
    wards, service_type, django_assert_num_queries
):
    person = make_user("both@city.example")
    wards[42].aldermen.add(person)
    wards[1].aldermen.add(person)
    for n in range(5):
        other = make_user(f"ald{n}@city.example")
        wards[42].aldermen.add(other)
    quietly(service_type=service_type)
    quietly(service_type=service_type, point=FAR_POINT)
    with django_assert_num_queries(11):
        assert digests.queue_ward_digests() == 6
    row = Notification.objects.get(recipient_email="both@city.example")
    assert "Ward 42" in row.body_text and "Ward 1" in row.body_text
    assert "2 wards" in row.subject


# "Is it fixed?" ----------------------------------------------------------------------------------


@pytest.fixture
def closed_issue(issue, staff_user, settings):
    """Rosa's issue, closed FOLLOWUP_AFTER_DAYS + 1 days ago."""
    when = timezone.now() - timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1)
    with events.suppressed():
        services.change_status(issue=issue, to=Status.CLOSED, by=staff_user, at=when)
    issue.refresh_from_db()
    return issue


def test_reporter_is_asked_once_with_yes_and_no_links(
    closed_issue, follower, settings, django_capture_on_commit_callbacks
):
    count, sent = run_task(tasks.send_fixed_followups, django_capture_on_commit_callbacks)
    assert count == 1 and addresses(sent) == ["resident@example.org"]  # not the follower
    assert closed_issue.public_id in sent[0].subject and "Is it fixed?" in sent[0].subject
    assert f"{settings.SITE_URL}/fixed/" in sent[0].body
    assert "/yes/" in sent[0].body and "/no/" in sent[0].body
    closed_issue.refresh_from_db()
    assert closed_issue.followup_sent_at is not None
    assert run_task(tasks.send_fixed_followups, django_capture_on_commit_callbacks)[0] == 0


def test_not_asked_too_early_too_late_or_after_unfollowing(
    issue, staff_user, resident, settings, service_type
):
    now = timezone.now()
    with events.suppressed():
        services.change_status(issue=issue, to=Status.CLOSED, by=staff_user, at=now)
        ancient = make_issue(service_type, reporter=resident)
        services.change_status(
            issue=ancient, to=Status.CLOSED, by=staff_user, at=now - timedelta(days=90)
        )
        unfollowed = make_issue(service_type, reporter=resident)
        services.change_status(
            issue=unfollowed,
            to=Status.CLOSED,
            by=staff_user,
            at=now - timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1),
        )
        subscriptions.unfollow_issue(issue=unfollowed, user=resident)
    assert digests.queue_fixed_followups() == 0


def test_anonymous_reporter_with_email_is_asked_too(service_type, staff_user, wards, settings):
    with events.suppressed():
        issue = make_issue(service_type, reporter_email="anon@example.org")
        services.change_status(
            issue=issue,
            to=Status.CLOSED,
            by=staff_user,
            at=timezone.now() - timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1),
        )
    assert digests.queue_fixed_followups() == 1
    assert Notification.objects.get(event=NotificationEvent.FIXED_FOLLOWUP).recipient_email == (
        "anon@example.org"
    )


def test_reopened_and_closed_again_is_asked_again(closed_issue, staff_user, settings):
    assert digests.queue_fixed_followups() == 1
    later = timezone.now() + timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1)
    with events.suppressed():
        services.change_status(issue=closed_issue, to=Status.OPEN, by=staff_user)
        services.change_status(issue=closed_issue, to=Status.CLOSED, by=staff_user)
    assert digests.queue_fixed_followups(now=later) == 1
    assert Notification.objects.filter(event=NotificationEvent.FIXED_FOLLOWUP).count() == 2


def test_city_hall_point_is_in_ward_42(issue):
    # The fixtures' small wards stand in for the real map: make sure they route like it.
    assert issue.ward.number == 42 and CITY_HALL


# Re-checked at send time ----------------------------------------------------------------------


def test_an_issue_hidden_after_the_digest_was_queued_is_not_in_it(
    alderman, service_type, staff_user
):
    from issues.models import NotificationState
    from issues.notify import delivery

    kept = quietly(service_type=service_type, address="1 Kept St")
    hidden = quietly(service_type=service_type, address="2 Secret St")
    digests.queue_ward_digests()  # written; no commit here, so not sent yet
    row = Notification.objects.get(event=NotificationEvent.WARD_DIGEST)
    assert hidden.public_id in row.body_text  # it was public when the digest was written
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="Private address")

    assert delivery.deliver(row.pk) == NotificationState.SENT

    (message,) = mail.outbox
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert kept.public_id in body and "1 Kept St" in body
        assert hidden.public_id not in body and "Secret St" not in body
        assert "cf-issue" not in body  # the marks never leave the machine
    row.refresh_from_db()
    assert hidden.public_id not in row.body_text  # the outbox keeps what went


def test_a_digest_is_withdrawn_when_its_alderman_no_longer_holds_a_ward(
    alderman, service_type, wards
):
    from issues.models import NotificationState
    from issues.notify import delivery

    quietly(service_type=service_type)
    digests.queue_ward_digests()
    row = Notification.objects.get(event=NotificationEvent.WARD_DIGEST)
    wards[42].aldermen.remove(alderman)

    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    assert mail.outbox == []
