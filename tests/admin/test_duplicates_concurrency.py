"""Two staff merging at the same moment: the row locks let exactly one merge happen, and the
followers and votes move once. PostgreSQL only: SQLite has no row locks (it serialises whole-
database writes instead)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from issues import services
from issues.models import Issue, Status, Subscription, Vote
from issues.notify.subscriptions import follow_issue
from tests.admin.conftest import WARD_42_POINT
from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls) -> list[str]:
    results, start = [], threading.Barrier(len(calls))

    def run(call):
        try:
            start.wait()
            call()
            results.append("merged")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)


@pytest.fixture
def pair(wards, pothole, sam):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL (set DATABASE_URL=postgres://...)")
    a = make_issue(pothole, point=WARD_42_POINT, reporter_email="a@example.net")
    b = make_issue(pothole, point=WARD_42_POINT, reporter_email="b@example.net")
    for n in range(3):
        voter = make_user(f"voter{n}@example.net")
        services.add_vote(issue=a if n else b, user=voter)
        follow_issue(issue=a, user=voter)
    return a, b


def test_the_same_merge_twice_at_once_moves_everything_once(pair, sam, sam2):
    a, b = pair
    results = _race(
        lambda: services.mark_duplicate(issue=a, original=b, by=sam),
        lambda: services.mark_duplicate(issue=a, original=b, by=sam2),
    )
    assert results == ["merged", "refused"]
    b.refresh_from_db()
    assert b.vote_count == 3 == Vote.objects.filter(issue=b).count()
    assert Subscription.objects.filter(issue=b).count() == 5  # a's 2 + 3 voters, b's reporter


def test_a_into_b_and_b_into_a_at_once_leaves_one_original(pair, sam, sam2):
    a, b = pair
    results = _race(
        lambda: services.mark_duplicate(issue=a, original=b, by=sam),
        lambda: services.mark_duplicate(issue=b, original=a, by=sam2),
    )
    assert results == ["merged", "refused"]
    a.refresh_from_db()
    b.refresh_from_db()
    closed, kept = (a, b) if a.status == Status.CLOSED else (b, a)
    assert kept.status == Status.OPEN and closed.duplicate_of_id == kept.pk
    assert kept.vote_count == 3 == Vote.objects.filter(issue=kept).count()
    assert closed.vote_count == 0
    assert Issue.objects.filter(duplicate_of__isnull=False).count() == 1
