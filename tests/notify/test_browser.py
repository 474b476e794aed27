"""What a person does after tapping a link in one of our emails, on a phone, signed out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import services
from issues.models import Status, Subscription
from issues.notify import events, links
from tests.browser_support import serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unsubscribe_link_asks_then_unsubscribes_on_the_button(page, live_server, issue, resident):
    url = links.unsubscribe_url(email=resident.email, scope="issue", target_id=issue.pk)
    page.goto(live_server.url + url.removeprefix(links.absolute("")))
    assert issue.public_id in page.locator("main").inner_text()
    assert serious_axe_violations(page) == []
    assert Subscription.objects.filter(issue=issue, user=resident).exists()

    page.get_by_role("button", name="Unsubscribe", exact=True).click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert not Subscription.objects.filter(issue=issue, user=resident).exists()
    assert serious_axe_violations(page) == []

    page.get_by_role("button", name="Undo").click()
    page.get_by_role("heading", name="Subscribed again").wait_for()
    assert Subscription.objects.filter(issue=issue, user=resident).exists()


def test_not_fixed_answer_reopens_the_issue_with_the_reporters_words(
    page,
    live_server,
    issue,
    staff_user,
    settings,
):
    with events.suppressed():
        services.change_status(
            issue=issue,
            to=Status.CLOSED,
            by=staff_user,
            at=timezone.now() - timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1),
        )
    issue.refresh_from_db()
    token = links.followup_token(issue)
    page.goto(f"{live_server.url}/fixed/{token}/no/")
    assert serious_axe_violations(page) == []
    page.get_by_label("What is still wrong?").fill("The hole is back after the rain")
    page.get_by_role("button", name="Reopen it").click()
    page.get_by_role("heading", name="Reopened").wait_for()
    issue.refresh_from_db()
    assert issue.status == Status.OPEN
    assert "The hole is back after the rain" in issue.status_notes
