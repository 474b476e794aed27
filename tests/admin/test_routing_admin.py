"""The routing rules and teams in the workbench: a department's supervisors and the site's
admins write them, its staff read them, and nobody sees or edits another department's."""

import pytest

from departments.models import RoutingRule, Team
from tests.factories import make_user

pytestmark = pytest.mark.django_db

RULES = "/admin/departments/routingrule/"
TEAMS = "/admin/departments/team/"


@pytest.fixture
def rules(streets, water, sam, wanda):
    return {
        "streets": RoutingRule.objects.create(
            department=streets, name="Streets secret rule", assignee=sam
        ),
        "water": RoutingRule.objects.create(
            department=water, name="Water secret rule", assignee=wanda
        ),
    }


@pytest.fixture
def sue(streets, sam):
    """Supervisor of Streets (and one of its staff)."""
    user = make_user("sue@city.example", display_name="Sue Supervisor")
    from departments import services as department_services

    department_services.add_staff(department=streets, user=user)
    streets.supervisors.add(user)
    return user


def test_staff_read_their_departments_rules_only(client, rules, sam):
    client.force_login(sam)
    page = client.get(RULES).content.decode()
    assert "Streets secret rule" in page and "Water secret rule" not in page
    assert client.get(f"{RULES}{rules['water'].pk}/change/").status_code in (302, 404)
    assert client.get(f"{RULES}{rules['streets'].pk}/change/").status_code == 200


def test_staff_cannot_add_or_change_rules(client, rules, sam, streets):
    client.force_login(sam)
    assert client.get(f"{RULES}add/").status_code == 403
    response = client.post(
        f"{RULES}{rules['streets'].pk}/change/",
        {"department": streets.pk, "name": "renamed", "position": 1, "assignee": sam.pk},
    )
    assert response.status_code == 403
    assert RoutingRule.objects.get(pk=rules["streets"].pk).name == "Streets secret rule"


def test_a_supervisor_writes_their_departments_rules(client, rules, sue, sam, streets, pothole):
    client.force_login(sue)
    response = client.post(
        f"{RULES}add/",
        {
            "department": streets.pk,
            "name": "Potholes to Sam",
            "position": 5,
            "active": "on",
            "service_types": [pothole.pk],
            "assignee": sam.pk,
            "priority": "high",
            "area": "null",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    made = RoutingRule.objects.get(name="Potholes to Sam")
    assert list(made.service_types.all()) == [pothole] and made.assignee == sam


def test_a_supervisor_cannot_write_another_departments_rules(client, rules, sue, water, wanda):
    client.force_login(sue)
    response = client.post(
        f"{RULES}add/",
        {"department": water.pk, "name": "Sneaky", "position": 1, "assignee": wanda.pk},
    )
    assert response.status_code == 200  # the form again: not a choice offered
    assert "department" in response.context["adminform"].form.errors
    assert not RoutingRule.objects.filter(name="Sneaky").exists()
    assert client.get(f"{RULES}{rules['water'].pk}/change/").status_code in (302, 404)
    page = client.get(f"{RULES}add/").content.decode()
    assert "Water Management" not in page and "Wanda" not in page


def test_a_rule_may_not_give_issues_to_another_departments_person(
    client, sue, streets, wanda, pothole
):
    client.force_login(sue)
    response = client.post(
        f"{RULES}add/",
        {"department": streets.pk, "name": "To Wanda", "position": 1, "assignee": wanda.pk},
    )
    assert response.status_code == 200
    assert not RoutingRule.objects.filter(name="To Wanda").exists()


def test_a_supervisor_makes_a_team_of_their_staff(client, sue, sam, sam2, streets, wanda):
    client.force_login(sue)
    response = client.post(
        f"{TEAMS}add/", {"department": streets.pk, "name": "North", "members": [sam.pk, sam2.pk]}
    )
    assert response.status_code == 302
    assert set(Team.objects.get(name="North").members.all()) == {sam, sam2}
    refused = client.post(
        f"{TEAMS}add/", {"department": streets.pk, "name": "Mixed", "members": [wanda.pk]}
    )
    assert refused.status_code == 200 and not Team.objects.filter(name="Mixed").exists()


def test_residents_and_aldermen_never_see_the_rules(client, rules, rosa, alderman):
    for person in (rosa, alderman):
        client.force_login(person)
        response = client.get(RULES)
        assert response.status_code in (302, 403)
        assert b"secret rule" not in response.content


def test_the_lists_filter_only_through_what_they_offer(client, rules, sam):
    client.force_login(sam)
    assert client.get(RULES, {"name__startswith": "W"}).status_code == 400
    assert (
        client.get(RULES, {"department__id__exact": rules["water"].department_id}).status_code
        == 200
    )
    assert (
        b"Water secret rule"
        not in client.get(RULES, {"department__id__exact": rules["water"].department_id}).content
    )


def test_an_admin_sees_every_departments_rules(client, rules, boss):
    client.force_login(boss)
    page = client.get(RULES).content.decode()
    assert "Streets secret rule" in page and "Water secret rule" in page
