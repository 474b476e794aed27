"""The reporter's own report: edit or withdraw within the window (enforced server-side), the
public page says "edited" without the old text, staff keep it; reopen once, and a reopening
emails the department and the assignee."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from issues import services
from issues.models import (
    Comment,
    Issue,
    NotificationEvent,
    ReporterAction,
    Status,
)
from issues.notify import events
from issues.services import residents
from issues.services.workflow import fill_placeholders
from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def own(service_type, resident):
    with events.suppressed():
        return make_issue(service_type, reporter=resident, description="Pothole on Main")


def test_reporter_edits_within_the_window_and_the_page_says_edited(client, own, resident):
    client.force_login(resident)
    response = client.post(
        reverse("issues:edit_report", args=[own.public_id]), {"description": "Pothole on Elm"}
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.description == "Pothole on Elm"
    client.logout()
    page = client.get(own.get_absolute_url())
    assert "Edited by the reporter" in page.text
    assert "Pothole on Elm" in page.text and "Pothole on Main" not in page.text
    # Staff keep the old text in an internal note.
    note = Comment.objects.get(issue=own, is_internal=True)
    assert "Pothole on Main" in note.body


def test_edit_after_the_window_is_refused_server_side(client, own, resident, settings):
    Issue.objects.filter(pk=own.pk).update(requested_at=timezone.now() - timedelta(minutes=31))
    client.force_login(resident)
    response = client.post(
        reverse("issues:edit_report", args=[own.public_id]), {"description": "Too late"}
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.description == "Pothole on Main"
    with pytest.raises(Exception, match="can no longer be changed"):
        residents.edit_own_report(issue=own, by=resident, description="Via the service")
    settings.REPORT_EDIT_MINUTES = 60
    residents.edit_own_report(issue=own, by=resident, description="Longer window")


def test_edit_after_staff_acknowledge_is_refused(own, resident, staff_user):
    with events.suppressed():
        services.change_status(issue=own, to=Status.ACKNOWLEDGED, by=staff_user)
    with pytest.raises(Exception, match="can no longer be changed"):
        residents.edit_own_report(issue=own, by=resident, description="Changed")


def test_someone_else_cannot_edit_or_withdraw(client, own):
    other = make_user()
    client.force_login(other)
    assert (
        client.post(
            reverse("issues:edit_report", args=[own.public_id]), {"description": "Mine now"}
        ).status_code
        == 404
    )
    assert client.post(reverse("issues:withdraw_report", args=[own.public_id])).status_code == 404
    with pytest.raises(Exception, match="Only the person"):
        residents.edit_own_report(issue=own, by=other, description="x")


def test_withdraw_closes_and_hides_through_the_workflow(client, own, resident):
    client.force_login(resident)
    response = client.post(reverse("issues:withdraw_report", args=[own.public_id]))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.status == Status.CLOSED and own.is_hidden
    assert own.status_changes.filter(to_status=Status.CLOSED, message__icontains="withdrawn")
    assert client.get(own.get_absolute_url()).status_code == 404


def test_empty_description_is_a_clear_400(client, own, resident):
    client.force_login(resident)
    response = client.post(reverse("issues:edit_report", args=[own.public_id]), {"description": ""})
    assert response.status_code == 400


# Reopen once ---------------------------------------------------------------------------------------


@pytest.fixture
def closed(own, staff_user):
    with events.suppressed():
        services.assign_issue(issue=own, assignee=staff_user, by=staff_user)
        services.change_status(issue=own, to=Status.CLOSED, by=staff_user, message="Filled")
    own.refresh_from_db()
    return own


def test_reporter_reopens_once_and_department_and_assignee_are_emailed(
    client, closed, resident, staff_user, deliver
):
    client.force_login(resident)
    page = client.get(closed.get_absolute_url())
    assert "It&#x27;s not fixed: reopen" in page.text or "not fixed: reopen" in page.text
    url = reverse("issues:reopen_report", args=[closed.public_id])
    response, sent = deliver(client.post, url, {"note": "Still a hole"})
    assert response.status_code == 302
    closed.refresh_from_db()
    assert closed.status == Status.OPEN
    reopened = [m for m in sent if "reopened" in m.subject]
    recipients = sorted(a for m in reopened for a in m.to)
    assert recipients == sorted([closed.department.contact_email, staff_user.email])
    assert all("Still a hole" in m.body for m in reopened)
    assert ReporterAction.objects.filter(issue=closed, kind="reopened").count() == 1

    with events.suppressed():
        services.change_status(issue=closed, to=Status.CLOSED, by=staff_user)
    response = client.post(url)  # a second time: refused, with the reason
    assert "reopened it once already" in client.get(response.url).text
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED
    assert "not fixed: reopen" not in client.get(closed.get_absolute_url()).text


def test_reopen_after_the_set_days_is_refused(closed, resident):
    Issue.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - timedelta(days=15))
    closed.refresh_from_db()
    with pytest.raises(Exception, match="cannot be reopened"):
        residents.reopen_own_report(issue=closed, by=resident)


def test_staff_reopening_also_tells_the_department(closed, staff_user, deliver):
    other_staff = make_user(is_staff=True)
    closed.department.staff.add(other_staff)
    _, sent = deliver(services.change_status, issue=closed, to=Status.OPEN, by=other_staff)
    assert closed.notifications.filter(event=NotificationEvent.ISSUE_REOPENED).count() == 2
    assert {a for m in sent if "reopened" in m.subject for a in m.to} == {
        closed.department.contact_email,
        staff_user.email,
    }


def test_what_a_spanish_page_stores_for_everyone_is_in_the_citys_language(own, resident):
    # The history and the workbench read one stored copy: the reporter's page language must
    # not leak into it (departments.translations.in_city_language).
    with translation.override("es"):
        residents.edit_own_report(issue=own, by=resident, description="Un bache hondo")
        residents.withdraw_own_report(issue=own, by=resident)
    note = own.comments.get(is_internal=True)
    assert note.body.startswith("The reporter edited the report. Before:")
    assert own.status_changes.get(to_status=Status.CLOSED).message == "Withdrawn by the reporter."


def test_a_template_filled_from_a_spanish_page_names_the_place_in_the_citys_language(own):
    own.address = ""
    with translation.override("es"):
        filled = fill_placeholders("We fixed the hole at {address}.", own)
    assert filled == "We fixed the hole at the reported location."
