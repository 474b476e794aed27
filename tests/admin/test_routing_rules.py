"""Area routing (issue 16): a department's rules give new, reopened and re-typed issues to a team
(in turn) or a person, by type, ward or drawn area; the first matching rule wins; only active
members of the department are chosen; the staff-only history says which rule did it."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from departments import services as department_services
from departments.models import Priority, RoutingRule, Team
from issues import services
from issues.models import Issue, StaffChange, Status
from tests.admin.conftest import WARD_2_POINT, WARD_42_POINT, square
from tests.factories import make_issue, make_service_type, make_user

pytestmark = pytest.mark.django_db

# Inside ward 42, near its west edge: the drawn area below covers it, City Hall is outside it.
WEST_42_POINT = (41.88, -87.645)
WEST_AREA = square(41.87, -87.65, 41.895, -87.64)


def member(department, email: str, **extra):
    user = make_user(email, display_name=email.split("@")[0].title(), **extra)
    department_services.add_staff(department=department, user=user)
    return user


@pytest.fixture
def crew(streets):
    """Three members of Streets, in one team."""
    people = [member(streets, f"crew{n}@city.example") for n in range(3)]
    team = Team.objects.create(department=streets, name="North crew")
    team.members.set(people)
    return team, people


def rule(department, name, *, types=(), wards=(), position=100, **extra) -> RoutingRule:
    made = RoutingRule.objects.create(department=department, name=name, position=position, **extra)
    made.service_types.set(types)
    made.wards.set(wards)
    return made


def test_a_rule_by_ward_takes_only_issues_in_its_wards(streets, pothole, wards, sam):
    rule(streets, "Ward 2 to Sam", wards=[wards[2]], assignee=sam)
    north = make_issue(pothole, point=WARD_2_POINT)
    south = make_issue(pothole, point=WARD_42_POINT)
    assert north.assignee == sam
    assert south.assignee is None


def test_a_rule_by_drawn_area_takes_only_points_inside_it(streets, pothole, wards, sam):
    rule(streets, "West side", area=WEST_AREA, assignee=sam)
    inside = make_issue(pothole, point=WEST_42_POINT)
    outside = make_issue(pothole, point=WARD_42_POINT)
    assert inside.assignee == sam
    assert outside.assignee is None


def test_a_rule_by_type_takes_only_its_types(streets, pothole, wards, sam):
    graffiti = make_service_type(streets, code="graffiti", name="Graffiti")
    rule(streets, "Graffiti to Sam", types=[graffiti], assignee=sam)
    assert make_issue(graffiti).assignee == sam
    assert make_issue(pothole).assignee is None


def test_the_first_matching_rule_wins(streets, pothole, wards, sam, sam2):
    rule(streets, "Anything to Sid", assignee=sam2, position=20)
    rule(streets, "Potholes in ward 42 to Sam", types=[pothole], wards=[wards[42]], assignee=sam,
         position=10)  # fmt: skip
    assert make_issue(pothole, point=WARD_42_POINT).assignee == sam
    assert make_issue(pothole, point=WARD_2_POINT).assignee == sam2


def test_another_departments_rules_never_apply(streets, water, leak, wards, sam):
    rule(streets, "Everything to Sam", assignee=sam)
    assert make_issue(leak).assignee is None


def test_round_robin_across_three_over_nine_issues_is_three_each(streets, pothole, wards, crew):
    team, people = crew
    rule(streets, "Potholes to the crew", types=[pothole], team=team)
    issues = [make_issue(pothole) for _ in range(9)]
    counts = Counter(issue.assignee_id for issue in issues)
    assert counts == {person.pk: 3 for person in people}
    # In turn, not in bursts: each block of three gives one to each.
    assert {i.assignee_id for i in issues[:3]} == {p.pk for p in people}


def test_inactive_staff_and_people_who_left_are_skipped(streets, pothole, wards, crew):
    team, (first, second, third) = crew
    second.is_active = False
    second.save()
    services.remove_staff(department=streets, user=third)
    rule(streets, "Potholes to the crew", team=team)
    assert {make_issue(pothole).assignee_id for _ in range(4)} == {first.pk}


def test_a_rule_whose_person_cannot_take_it_gives_way_to_the_next(
    streets, pothole, wards, sam, sam2
):
    sam.is_active = False
    sam.save()
    rule(streets, "To Sam", assignee=sam, position=1)
    rule(streets, "To Sid", assignee=sam2, position=2)
    assert make_issue(pothole).assignee == sam2


def test_an_empty_team_assigns_nobody(streets, pothole, wards):
    team = Team.objects.create(department=streets, name="Nobody yet")
    rule(streets, "To the empty team", team=team)
    assert make_issue(pothole).assignee is None


def test_the_history_says_which_rule_for_staff_only(client, streets, pothole, wards, crew, sam):
    team, _people = crew
    rule(streets, "Potholes in wards 1-5", team=team, priority=Priority.HIGH)
    issue = make_issue(pothole)
    assert issue.priority == Priority.HIGH
    entries = {c.kind: c for c in StaffChange.objects.filter(issue=issue)}
    assert entries["assignee"].rule_name == "Potholes in wards 1-5"
    assert entries["assignee"].to_assignee == issue.assignee
    assert entries["priority"].to_priority == Priority.HIGH
    client.force_login(sam)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert f"Assigned to {issue.assignee.get_full_name()}" in page
    assert "by rule “Potholes in wards 1-5”" in page
    public = client.get(issue.get_absolute_url()).content.decode()
    assert "Potholes in wards 1-5" not in public
    assert issue.assignee.get_full_name() not in public


def test_reopening_an_issue_whose_assignee_left_routes_it_again(streets, pothole, wards, sam, sam2):
    issue = make_issue(pothole)
    services.assign_issue(issue=issue, assignee=sam, by=sam)
    services.change_status(issue=issue, to=Status.CLOSED, by=sam, resolution="fixed")
    services.remove_staff(department=streets, user=sam)
    rule(streets, "To Sid", assignee=sam2)
    services.change_status(issue=issue, to=Status.OPEN, by=sam2)
    issue.refresh_from_db()
    assert issue.assignee == sam2
    assert StaffChange.objects.filter(issue=issue, rule_name="To Sid").exists()


def test_reopening_keeps_an_assignee_who_still_works_there(streets, pothole, wards, sam, sam2):
    issue = make_issue(pothole)
    services.assign_issue(issue=issue, assignee=sam, by=sam)
    services.change_status(issue=issue, to=Status.CLOSED, by=sam, resolution="fixed")
    rule(streets, "To Sid", assignee=sam2)
    services.change_status(issue=issue, to=Status.OPEN, by=sam)
    issue.refresh_from_db()
    assert issue.assignee == sam


def test_recategorising_routes_by_the_new_types_rules(
    streets, water, pothole, leak, wards, sam, wanda
):
    rule(water, "Leaks to Wanda", types=[leak], assignee=wanda, priority=Priority.URGENT)
    issue = make_issue(pothole)
    services.assign_issue(issue=issue, assignee=sam, by=sam)
    services.recategorise_issue(issue=issue, service_type=leak, by=sam)
    issue.refresh_from_db()
    assert issue.assignee == wanda and issue.priority == Priority.URGENT
    change = StaffChange.objects.get(issue=issue, kind="assignee", rule__isnull=False)
    assert change.from_assignee is None and change.changed_by == sam
    # Sam losing it with the old department is its own step, before the rule's.
    steps = StaffChange.objects.filter(issue=issue, kind="assignee").order_by("created_at", "pk")
    assert [(c.from_assignee, c.to_assignee) for c in steps] == [
        (None, sam),
        (sam, None),
        (None, wanda),
    ]


def test_a_transfer_records_that_the_old_assignee_lost_the_issue(
    streets, water, pothole, wards, sam
):
    issue = make_issue(pothole)
    services.assign_issue(issue=issue, assignee=sam, by=sam)
    services.transfer_issue(issue=issue, to_department=water, by=sam)
    last = StaffChange.objects.filter(issue=issue, kind="assignee").last()
    assert (last.from_assignee, last.to_assignee, last.changed_by) == (sam, None, sam)


def test_recategorising_within_the_department_without_a_rule_keeps_the_assignee(
    streets, pothole, wards, sam
):
    graffiti = make_service_type(streets, code="graffiti", name="Graffiti")
    issue = make_issue(pothole)
    services.assign_issue(issue=issue, assignee=sam, by=sam)
    services.recategorise_issue(issue=issue, service_type=graffiti, by=sam)
    issue.refresh_from_db()
    assert issue.assignee == sam


def test_assignment_by_hand_is_in_the_history(streets, pothole, wards, sam, sam2):
    issue = make_issue(pothole)
    services.assign_issue(issue=issue, assignee=sam2, by=sam)
    change = StaffChange.objects.get(issue=issue)
    assert (change.changed_by, change.to_assignee, change.rule) == (sam, sam2, None)


def test_imports_are_not_routed(streets, pothole, wards, sam):
    rule(streets, "Everything to Sam", assignee=sam)
    issue = make_issue(pothole, source="import")
    assert issue.assignee is None and not StaffChange.objects.filter(issue=issue).exists()


@pytest.mark.parametrize(
    ("fields", "error_on"),
    [
        ({}, "team"),  # does nothing
        ({"area": {"type": "Point", "coordinates": [0, 0]}}, "area"),
        ({"area": {"type": "Polygon", "coordinates": "x"}}, "area"),
    ],
)
def test_a_rule_that_cannot_work_is_refused(streets, fields, error_on):
    with pytest.raises(ValidationError) as refused:
        RoutingRule(department=streets, name="bad", **fields).full_clean()
    assert error_on in refused.value.message_dict


def test_a_rule_may_not_name_another_departments_team(streets, water):
    team = Team.objects.create(department=water, name="Water crew")
    with pytest.raises(ValidationError) as refused:
        RoutingRule(department=streets, name="bad", team=team).full_clean()
    assert "team" in refused.value.message_dict


def test_no_rules_leave_issues_unassigned_and_normal(pothole, wards):
    issue = make_issue(pothole)
    assert issue.assignee is None and issue.priority == Priority.NORMAL
    assert Issue.objects.get(pk=issue.pk).priority == "normal"
