"""Overdue escalation (issues/notify/escalations.py): the assignee (or the department's staff),
then the supervisors; once per threshold, however often or concurrently beat runs it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from issues import services
from issues.models import (
    Escalation,
    EscalationLevel,
    Issue,
    Notification,
    NotificationEvent,
    NotificationState,
    Resolution,
    Status,
)
from issues.notify import escalations, subscriptions
from issues.notify.links import read_unsubscribe_token
from tests.factories import make_service_type, make_staff, make_user

EVENT = NotificationEvent.OVERDUE_ESCALATION


def make_overdue(issue, hours: float) -> None:
    Issue.objects.filter(pk=issue.pk).update(
        expected_at=timezone.now() - timedelta(hours=hours),
        requested_at=timezone.now() - timedelta(hours=hours + 72),
    )
    issue.refresh_from_db()


@pytest.fixture
def supervisor(department):
    person = make_user("boss@city.example", display_name="Bo Boss")
    department.supervisors.add(person)
    return person


@pytest.mark.django_db
def test_assignee_is_emailed_once_across_two_runs(issue, staff_user, supervisor, deliver):
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=2)

    queued, sent = deliver(escalations.queue_escalations)
    again, sent_again = deliver(escalations.queue_escalations)

    assert queued == 1 and again == 0 and sent_again == []
    assert [m.to for m in sent] == [["staff@city.example"]]
    assert Escalation.objects.filter(issue=issue).count() == 1
    # Not yet the supervisors: 2 hours overdue, the default delay is 24.
    assert not Escalation.objects.filter(level=EscalationLevel.SUPERVISORS).exists()


@pytest.mark.django_db
def test_unassigned_issue_goes_to_the_departments_staff(issue, department, staff_user, deliver):
    other = make_staff(department, email="crew@city.example")
    make_overdue(issue, hours=1)

    _queued, sent = deliver(escalations.queue_escalations)

    assert sorted(addr for m in sent for addr in m.to) == sorted([staff_user.email, other.email])


@pytest.mark.django_db
def test_supervisors_hear_after_the_delay_and_only_then(
    issue, department, staff_user, supervisor, deliver, settings
):
    settings.ESCALATE_TO_SUPERVISORS_AFTER_HOURS = 24
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=5)
    deliver(escalations.queue_escalations)

    later = timezone.now() + timedelta(hours=20)
    _n, sent = deliver(escalations.queue_escalations, now=later)
    assert [m.to for m in sent] == [["boss@city.example"]]
    assert "Still overdue" in sent[0].subject
    assert "assigned to" in sent[0].body
    _n, none_again = deliver(escalations.queue_escalations, now=later + timedelta(hours=1))
    assert none_again == []


@pytest.mark.django_db
def test_a_departments_own_delay_wins_over_the_default(
    issue, department, staff_user, supervisor, deliver, settings
):
    settings.ESCALATE_TO_SUPERVISORS_AFTER_HOURS = 48
    department.escalate_after_hours = 1
    department.save()
    make_overdue(issue, hours=3)

    _n, sent = deliver(escalations.queue_escalations)

    assert "boss@city.example" in [addr for m in sent for addr in m.to]
    levels = set(Escalation.objects.filter(issue=issue).values_list("level", flat=True))
    assert levels == {EscalationLevel.ASSIGNEE, EscalationLevel.SUPERVISORS}


@pytest.mark.django_db
def test_closed_and_hidden_issues_never_escalate(
    issue, service_type, resident, staff_user, supervisor, deliver
):
    services.change_status(
        issue=issue, to=Status.CLOSED, by=staff_user, resolution=Resolution.FIXED
    )
    make_overdue(issue, hours=100)
    hidden = services.create_issue(
        service_type=service_type, latitude=41.88, longitude=-87.63, reporter=resident
    )
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="spam")
    make_overdue(hidden, hours=100)

    queued, sent = deliver(escalations.queue_escalations)

    assert queued == 0 and [m for m in sent if "Overdue" in m.subject] == []
    assert not Escalation.objects.exists()


@pytest.mark.django_db
def test_a_private_types_report_escalates_like_any_other(department, resident, staff_user, deliver):
    """Kept from the public, never from the department's deadlines."""
    private = make_service_type(department, code="welfare", name="Welfare check")
    private.publication = "private"
    private.save(update_fields=["publication"])
    issue = services.create_issue(
        service_type=private, latitude=41.88, longitude=-87.63, reporter=resident
    )
    assert issue.is_hidden and issue.withheld == "private"
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=2)

    queued, sent = deliver(escalations.queue_escalations)

    assert queued == 1
    assert [m.to for m in sent if "Overdue" in m.subject] == [["staff@city.example"]]


@pytest.mark.django_db
def test_an_email_queued_before_the_close_is_withdrawn(issue, staff_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_overdue(issue, hours=1)
    escalations.queue_escalations()  # no on-commit run here: the row stays pending
    row = Notification.objects.get(issue=issue, event=EVENT)
    services.change_status(issue=issue, to=Status.CLOSED, by=staff_user, resolution="fixed")

    from issues.notify import delivery

    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    row.refresh_from_db()
    assert "closed" in row.last_error


@pytest.mark.django_db
def test_the_email_says_what_is_overdue_by_how_long_and_links_to_the_workbench(
    issue, staff_user, deliver
):
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=50)

    _n, (message,) = deliver(escalations.queue_escalations)

    assert issue.public_id in message.subject and "Pothole in Street" in message.subject
    assert "2 days" in message.subject and "overdue by 2 days" in message.body
    workbench_link = message.body.split("staff workbench:")[1].split()[0]
    assert workbench_link.endswith(f"/admin/issues/issue/{issue.pk}/change/")
    html = message.alternatives[0][0]
    assert f"/admin/issues/issue/{issue.pk}/change/" in html
    assert "assigned to you" in message.body


@pytest.mark.django_db
def test_the_workbench_link_opens_the_issue_for_the_assignee(issue, staff_user, deliver, client):
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=3)
    _n, (message,) = deliver(escalations.queue_escalations)
    path = "/admin/" + message.body.split("staff workbench:")[1].split()[0].split("/admin/")[1]

    client.force_login(staff_user)
    response = client.get(path)

    assert response.status_code == 200
    assert issue.public_id in response.content.decode()


@pytest.mark.django_db
def test_the_unsubscribe_link_turns_escalations_off(issue, staff_user, deliver, client):
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=3)
    _n, (message,) = deliver(escalations.queue_escalations)
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    token = url.rstrip("/").split("/")[-1]
    assert read_unsubscribe_token(token)["s"] == "escalation"

    subscriptions.unsubscribe(email=staff_user.email, scope="escalation")
    staff_user.refresh_from_db()
    assert staff_user.notify_escalations is False
    Issue.objects.filter(pk=issue.pk).update(requested_at=timezone.now() - timedelta(days=9))
    services.change_status(issue=issue, to=Status.CLOSED, by=None, resolution="fixed")
    services.change_status(issue=issue, to=Status.OPEN, by=None)
    _n, sent = deliver(escalations.queue_escalations)
    assert staff_user.email not in [addr for m in sent for addr in m.to]


@pytest.mark.django_db
def test_a_reopened_issue_escalates_again_in_its_new_spell(issue, staff_user, deliver):
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=3)
    deliver(escalations.queue_escalations)
    services.change_status(issue=issue, to=Status.CLOSED, by=staff_user, resolution="fixed")
    services.change_status(issue=issue, to=Status.OPEN, by=None)

    _n, sent = deliver(escalations.queue_escalations)

    assert [m.to for m in sent if "Overdue" in m.subject] == [["staff@city.example"]]
    assert Escalation.objects.filter(issue=issue, level=EscalationLevel.ASSIGNEE).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_threshold_once(issue, staff_user, supervisor, settings):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent runs need PostgreSQL's row locks (set DATABASE_URL=postgres://...)")
    services.assign_issue(issue=issue, assignee=staff_user, by=staff_user)
    make_overdue(issue, hours=30)  # past both thresholds
    mail.outbox.clear()
    results, start = [], threading.Barrier(4)

    def run():
        try:
            start.wait()
            results.append(escalations.queue_escalations())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(results) == 2
    assert Escalation.objects.filter(issue=issue).count() == 2
    rows = Notification.objects.filter(issue=issue, event=EVENT)
    assert sorted(rows.values_list("recipient_email", flat=True)) == [
        "boss@city.example",
        "staff@city.example",
    ]
    assert sorted(addr for m in mail.outbox for addr in m.to if "verdue" in m.subject) == [
        "boss@city.example",
        "staff@city.example",
    ]


@pytest.mark.django_db
def test_long_escalated_issues_do_not_crowd_out_the_newly_overdue(
    service_type, staff_user, supervisor, deliver, monkeypatch
):
    from tests.factories import make_issue

    old = [make_issue(service_type) for _ in range(3)]
    for issue in old:
        make_overdue(issue, hours=100)  # past both levels
    deliver(escalations.queue_escalations)
    fresh = make_issue(service_type)
    make_overdue(fresh, hours=1)

    # A scan of two issues at a time still reaches the new one: finished ones are left out.
    monkeypatch.setattr(escalations, "thresholds_due", _limited(escalations.thresholds_due, 2))
    _n, sent = deliver(escalations.queue_escalations)

    assert [m.to for m in sent] == [["staff@city.example"]]
    assert fresh.public_id in sent[0].subject


def _limited(scan, limit):
    return lambda now: scan(now, limit=limit)
