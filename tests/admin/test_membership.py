"""Departments' people and aldermen: membership is the role, and workbench access follows it."""

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from accounts.models import User
from departments import services
from issues import services as issue_services
from issues.models import Issue, StaffChange
from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db


def test_add_staff_grants_workbench_access(client, streets, streets_issue):
    user = make_user("new@city.example")
    assert not user.is_staff
    services.add_staff(department=streets, user=user)
    user.refresh_from_db()
    assert user.is_staff
    client.force_login(user)
    assert client.get("/admin/issues/issue/").status_code == 200


def test_removing_the_last_role_takes_access_away_and_frees_their_issues(
    streets, sam, pothole, wards
):
    issue = make_issue(pothole)
    issue_services.assign_issue(issue=issue, assignee=sam, by=sam)
    issue_services.remove_staff(department=streets, user=sam)
    sam.refresh_from_db()
    assert not sam.is_staff
    assert Issue.objects.get(pk=issue.pk).assignee is None


def test_issues_freed_by_a_leaver_say_so_in_their_staff_history(
    client, streets, sam, sam2, boss, pothole, wards
):
    theirs, other = make_issue(pothole), make_issue(pothole)
    issue_services.assign_issue(issue=theirs, assignee=sam, by=sam)
    issue_services.assign_issue(issue=other, assignee=sam2, by=sam2)
    issue_services.remove_staff(department=streets, user=sam, by=boss)
    last = StaffChange.objects.filter(issue=theirs, kind="assignee").last()
    assert (last.from_assignee, last.to_assignee, last.changed_by) == (sam, None, boss)
    assert not StaffChange.objects.filter(issue=other, to_assignee=None).exists()
    client.force_login(sam2)
    page = client.get(f"/admin/issues/issue/{theirs.pk}/change/").content.decode()
    assert "Unassigned" in page


def test_someone_with_another_role_keeps_access(streets, water, sam):
    services.add_staff(department=water, user=sam)
    issue_services.remove_staff(department=streets, user=sam)
    sam.refresh_from_db()
    assert sam.is_staff


def test_superusers_keep_access_without_departments(streets, boss):
    services.add_staff(department=streets, user=boss)
    issue_services.remove_staff(department=streets, user=boss)
    boss.refresh_from_db()
    assert boss.is_staff


def test_deactivated_accounts_cannot_be_made_staff(streets):
    user = make_user("gone@city.example", is_active=False)
    with pytest.raises(ValidationError):
        services.add_staff(department=streets, user=user)


def test_aldermen_follow_the_ward_page(wards):
    user = make_user("alder@city.example")
    services.set_aldermen(ward=wards[2], users=[user])
    assert User.objects.get(pk=user.pk).is_staff
    services.set_aldermen(ward=wards[2], users=[])
    assert not User.objects.get(pk=user.pk).is_staff


def test_department_page_sets_members_and_their_access(client, boss, streets):
    newcomer = make_user("newcomer@city.example")
    client.force_login(boss)
    response = client.post(
        f"/admin/departments/department/{streets.pk}/change/",
        {
            "name": streets.name,
            "slug": streets.slug,
            "contact_email": streets.contact_email,
            "notify_new_issues": "on",
            "members": [newcomer.pk],
        },
    )
    assert response.status_code == 302
    assert list(streets.staff.all()) == [newcomer]
    assert User.objects.get(pk=newcomer.pk).is_staff


def test_response_template_status_must_be_a_real_status(client, boss, streets):
    client.force_login(boss)
    response = client.post(
        "/admin/departments/responsetemplate/add/",
        {"department": streets.pk, "title": "Odd", "status": "fixed", "body": "x", "active": "on"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in response.content.decode()


def test_sla_hours_must_be_positive(pothole):
    with pytest.raises(ValidationError):
        issue_services.set_sla_hours(service_type=pothole, hours=0)


def test_user_page_shows_roles(client, boss, sam):
    client.force_login(boss)
    page = client.get(f"/admin/accounts/user/{sam.pk}/change/").content.decode()
    assert "Staff of: Streets and Sanitation" in page


def test_leaving_a_department_is_seen_at_once_by_the_same_user_object(streets):
    """roles caches memberships on the user object for the request; leaving must forget them,
    as joining does, or the rest of the request still lets them work the department's queue."""
    person = make_user("leaver@city.example")
    services.add_staff(department=streets, user=person)
    assert streets.pk in roles.department_ids(person)
    services.leave_department(department=streets, user=person)
    assert streets.pk not in roles.department_ids(person)
