"""The demo shows routing at work: its fresh potholes went round the crew three each, by rule,
and the demo's staff account supervises (so may edit) its department's rules."""

from collections import Counter

import pytest

from departments.demo import DemoReport, load_city
from departments.models import RoutingRule, Team
from issues.demo import ANSWERS
from issues.demo_routing import ROUTED_SOURCE, load_routed_reports
from issues.models import Issue, StaffChange

pytestmark = pytest.mark.django_db


def test_the_demo_queue_shows_assignment_by_rule():
    # The city and the routed reports only: the rest of load_demo (tests/foundation) is slow.
    report = DemoReport()
    load_routed_reports(report, load_city(report), ANSWERS)
    crew = Team.objects.get(name="North side crew")
    potholes = Issue.objects.filter(
        external_source=ROUTED_SOURCE, service_type__service_code="pothole"
    )
    assert Counter(potholes.values_list("assignee_id", flat=True)) == {
        m.pk: 3 for m in crew.members.all()
    }
    assert StaffChange.objects.filter(rule_name="Potholes in wards 1-10").count() == 9
    lights = Issue.objects.filter(
        external_source=ROUTED_SOURCE, service_type__service_code="street-light-out"
    )
    assert {(i.assignee.email, i.priority) for i in lights} == {("staff@civicfix.local", "high")}
    rule = RoutingRule.objects.get(name="Potholes in wards 1-10")
    assert rule.department.supervisors.filter(email="staff@civicfix.local").exists()
