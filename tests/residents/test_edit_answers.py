"""The reporter edits the answers to the type's questions too, within the same window (enforced
server-side: the minutes, and only until staff acknowledge). The public page says "edited" and
shows the new answers only; staff keep the old ones."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues import services
from issues.models import Comment, Issue, ReporterAction, Status
from issues.notify import events
from issues.services import residents
from tests.factories import make_attribute, make_issue

pytestmark = pytest.mark.django_db

YES_NO = [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]


@pytest.fixture
def asked(service_type, resident):
    make_attribute(service_type, "DEPTH", "string", description="How deep is it?")
    make_attribute(
        service_type, "BLOCKING", "singlevaluelist", description="Blocking traffic?", values=YES_NO
    )
    with events.suppressed():
        return make_issue(
            service_type,
            reporter=resident,
            description="Pothole on Main",
            attributes={"DEPTH": ["Ankle deep"], "BLOCKING": ["no"]},
        )


def _edit(client, issue, **answers):
    data = {"description": "Pothole on Main", **{f"attribute[{k}]": v for k, v in answers.items()}}
    return client.post(reverse("issues:edit_report", args=[issue.public_id]), data)


def test_reporter_changes_an_answer_and_staff_keep_the_old_one(client, asked, resident):
    client.force_login(resident)
    page = client.get(reverse("issues:edit_report", args=[asked.public_id]))
    assert "How deep is it?" in page.text and 'value="Ankle deep"' in page.text
    response = _edit(client, asked, DEPTH="Knee deep", BLOCKING="yes")
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.attributes == {"DEPTH": "Knee deep", "BLOCKING": "yes"}
    action = ReporterAction.objects.get(issue=asked, kind="edited")
    assert action.old_attributes == {"DEPTH": "Ankle deep", "BLOCKING": "no"}
    note = Comment.objects.get(issue=asked, is_internal=True)
    assert "Ankle deep" in note.body  # for staff only
    client.logout()
    public = client.get(asked.get_absolute_url()).text
    assert "Knee deep" in public and "Ankle deep" not in public
    assert "Edited by the reporter" in public


def test_a_bad_answer_is_a_400_on_its_question_and_nothing_changes(client, asked, resident):
    client.force_login(resident)
    response = _edit(client, asked, DEPTH="Knee deep", BLOCKING="maybe")
    assert response.status_code == 400 and "Blocking traffic?" in response.text
    asked.refresh_from_db()
    assert asked.attributes == {"DEPTH": "Ankle deep", "BLOCKING": "no"}


def test_answers_cannot_change_after_the_window_or_once_acknowledged(
    client, asked, resident, staff_user
):
    client.force_login(resident)
    Issue.objects.filter(pk=asked.pk).update(requested_at=timezone.now() - timedelta(minutes=31))
    assert _edit(client, asked, DEPTH="Too late").status_code == 403
    with pytest.raises(Exception, match="can no longer be changed"):
        residents.edit_own_report(
            issue=asked, by=resident, description="x", answers={"DEPTH": ["Too late"]}
        )
    Issue.objects.filter(pk=asked.pk).update(requested_at=timezone.now())
    with events.suppressed():
        services.change_status(issue=asked, to=Status.ACKNOWLEDGED, by=staff_user)
    assert _edit(client, asked, DEPTH="Too late").status_code == 403
    with pytest.raises(Exception, match="can no longer be changed"):
        residents.edit_own_report(
            issue=asked, by=resident, description="x", answers={"DEPTH": ["Too late"]}
        )
    asked.refresh_from_db()
    assert asked.attributes["DEPTH"] == "Ankle deep"
