"""The answers to "Is it fixed?" (issues/views/followup.py): a GET never changes anything, a
"not fixed" POST reopens the issue through the status-change service, on the reporter's behalf.
The question itself (the email and when it is sent) is tests/notify/test_digests.py's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from departments.models import Ward
from issues import services
from issues.models import Issue, Status, StatusChange
from issues.notify import events, links, subscriptions
from issues.services import residents
from tests.factories import CITY_HALL, make_issue, make_user, square_boundary

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_issue(service_type, resident, staff_user, settings):
    """Rosa's report at City Hall, closed FOLLOWUP_AFTER_DAYS + 1 days ago."""
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    when = timezone.now() - timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1)
    with events.suppressed():
        issue = make_issue(service_type, point=CITY_HALL, reporter=resident)
        services.change_status(issue=issue, to=Status.CLOSED, by=staff_user, at=when)
    issue.refresh_from_db()
    return issue


@pytest.fixture
def follower(closed_issue):
    person = make_user("follower@example.org", display_name="Fran")
    subscriptions.follow_issue(issue=closed_issue, user=person)
    return person


def addresses(messages) -> list[str]:
    return sorted(address for m in messages for address in m.to)


def answer_url(issue: Issue, answer: str) -> str:
    return reverse("issues:fixed", kwargs={"token": links.followup_token(issue), "answer": answer})


def test_yes_just_says_thank_you(client, closed_issue):
    response = client.get(answer_url(closed_issue, "yes"))
    assert response.status_code == 200 and "glad it is fixed" in response.text
    closed_issue.refresh_from_db()
    assert closed_issue.status == Status.CLOSED


def test_no_asks_first_then_reopens_through_the_service(client, closed_issue, follower, deliver):
    url = answer_url(closed_issue, "no")
    response = client.get(url)  # what a mail scanner does: nothing changes
    assert response.status_code == 200 and "Reopen it" in response.text
    closed_issue.refresh_from_db()
    assert closed_issue.status == Status.CLOSED

    response, sent = deliver(client.post, url, {"note": "Still a hole, now bigger"})
    assert response.status_code == 200 and "Reopened" in response.text
    closed_issue.refresh_from_db()
    assert closed_issue.status == Status.OPEN and closed_issue.closed_at is None
    change = StatusChange.objects.filter(issue=closed_issue).latest("created_at")
    assert change.changed_by is None and "Still a hole, now bigger" in change.message
    # The followers and the department hear about it (a reopening is work again, issue 17);
    # the reporter, who just said so, does not.
    assert addresses(sent) == sorted(
        [closed_issue.department.contact_email, "follower@example.org"]
    )


def test_an_old_answer_cannot_reopen_a_later_closing(client, closed_issue, staff_user):
    url = answer_url(closed_issue, "no")
    with events.suppressed():
        services.change_status(issue=closed_issue, to=Status.OPEN, by=staff_user)
        services.change_status(issue=closed_issue, to=Status.CLOSED, by=staff_user)
    response = client.post(url)
    assert response.status_code == 409
    assert "changed since" in response.text
    closed_issue.refresh_from_db()
    assert closed_issue.status == Status.CLOSED


def test_archived_issue_cannot_be_reopened(client, closed_issue, staff_user):
    url = answer_url(closed_issue, "no")
    with events.suppressed():
        services.change_status(issue=closed_issue, to=Status.ARCHIVED, by=staff_user)
    response = client.post(url)
    assert response.status_code == 409 and "report it again" in response.text


def test_bad_answers_get_clear_errors(client, closed_issue):
    assert client.get(answer_url(closed_issue, "maybe")).status_code == 404
    response = client.get("/fixed/garbage/no/")
    assert response.status_code == 400 and "damaged" in response.text
    response = client.post(answer_url(closed_issue, "no"), {"note": "x" * 1001})
    assert response.status_code == 400 and "under 1000 characters" in response.text
    closed_issue.refresh_from_db()
    assert closed_issue.status == Status.CLOSED


def test_no_offers_no_button_the_service_would_refuse(client, closed_issue, staff_user):
    # Reopened once by its reporter (the closing email's link), closed again: asked again, the
    # reporter's "no" cannot reopen (once only), so the page says so instead of a dead button.
    with events.suppressed():
        residents.reopen_by_link(issue=closed_issue, email=closed_issue.contact_email)
        services.change_status(issue=closed_issue, to=Status.CLOSED, by=staff_user)
    closed_issue.refresh_from_db()
    url = answer_url(closed_issue, "no")
    page = client.get(url)
    assert page.status_code == 200 and "cannot be reopened from here" in page.text
    assert "Reopen it" not in page.text and "#still-there" in page.text
    assert client.post(url, {"note": "still a hole"}).status_code == 409
    closed_issue.refresh_from_db()
    assert closed_issue.status == Status.CLOSED
