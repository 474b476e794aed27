"""Fixtures for the notification tests: people around an issue, and a mailbox helper."""

from __future__ import annotations

import pytest

from departments.models import Ward
from issues import services
from issues.models import Notification, Status
from issues.notify import events, subscriptions
from tests.factories import CITY_HALL, make_issue, make_user, square_boundary

FAR_POINT = (41.95, -87.70)


@pytest.fixture
def wards(db) -> dict[int, Ward]:
    """Two small square wards (42 around City Hall, 1 far away): the real 50-ward map takes
    seconds to load and these tests only need "in the ward" and "not in it"."""
    return {
        42: Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL)),
        1: Ward.objects.create(number=1, name="Ward 1", boundary=square_boundary(*FAR_POINT)),
    }


@pytest.fixture
def issue(service_type, resident, wards):
    """Rosa's report at City Hall (ward 42), created quietly so tests start with an empty box."""
    with events.suppressed():
        return make_issue(service_type, point=CITY_HALL, reporter=resident)


@pytest.fixture
def follower(issue):
    person = make_user("follower@example.org", display_name="Fran")
    subscriptions.follow_issue(issue=issue, user=person)
    return person


def rows_for(issue, event=None):
    rows = Notification.objects.filter(issue=issue)
    if event:
        rows = rows.filter(event=event)
    return rows


def addresses(messages) -> list[str]:
    return sorted(addr for m in messages for addr in m.to)


def fifty_events(*, service_type, reporter, follower, staff) -> list:
    """20 reports, 15 public comments and 15 status changes, as people make them. Returns the
    issues. Every call must succeed whatever the state of the broker."""
    issues = [make_issue(service_type, reporter=reporter) for _ in range(20)]
    for issue in issues[:15]:
        subscriptions.follow_issue(issue=issue, user=follower)
        services.add_comment(issue=issue, author=follower, body="Same problem on my block")
    for issue in issues[:15]:
        services.change_status(issue=issue, to=Status.CLOSED, by=staff, message="Filled")
    return issues
