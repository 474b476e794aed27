"""Issues created at the same moment take a team's turns one after another: the team's row lock
(select_for_update in issues/services/routing.py) means two creates never read the same turn and
both go to the same person. PostgreSQL only: SQLite has no row locks (it serialises whole-database
writes instead, so the race cannot happen there and the test would prove nothing)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from departments import services as department_services
from departments.models import RoutingRule, Team
from issues.models import Issue
from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
EACH = 3


@pytest.fixture
def team_rule(streets, pothole, wards):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL (set DATABASE_URL=postgres://...)")
    people = []
    for n in range(3):
        person = make_user(f"crew{n}@city.example")
        department_services.add_staff(department=streets, user=person)
        people.append(person)
    team = Team.objects.create(department=streets, name="Crew")
    team.members.set(people)
    RoutingRule.objects.create(department=streets, name="All to the crew", team=team)
    return people


def test_concurrent_creates_never_double_assign_a_turn(team_rule, pothole):
    start, failures = threading.Barrier(THREADS), []

    def create_some():
        try:
            start.wait()
            for _ in range(EACH):
                make_issue(pothole)  # each thread on its own connection
        except Exception as exc:  # reported below, with the thread's error
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create_some) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    counts = Counter(Issue.objects.values_list("assignee_id", flat=True))
    # 18 issues over 3 people: a lost turn (two creates reading the same one) would show as an
    # uneven split.
    assert counts == {person.pk: THREADS * EACH // 3 for person in team_rule}
