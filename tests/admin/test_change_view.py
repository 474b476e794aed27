"""The issue page in the workbench: the read-only record, map, photos and timeline, and the work
forms, each of which calls a service; bad input comes back as a 400 with the reason and what was
typed, and nothing is changed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from issues import selectors, services
from issues.models import (
    Comment,
    Issue,
    Notification,
    NotificationEvent,
    Photo,
    Status,
    StatusChange,
)
from issues.photos import prepare_photo, store_photo
from tests.admin.conftest import NO_WARD_POINT, WARD_2_POINT, change_url, changelist_url, work_url
from tests.factories import make_issue, rendered

pytestmark = pytest.mark.django_db


def test_page_shows_the_record_map_and_forms(client, sam, streets_issue, close_template):
    client.force_login(sam)
    response = client.get(change_url(streets_issue))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="cf-issue-map"' in page and 'data-lat="41.88365"' in page
    assert "leaflet/leaflet.js" in page and "unpkg" not in page and "cdn" not in page.lower()
    for form in (
        "cf-status-form",
        "cf-comment-form",
        "cf-assign-form",
        "cf-transfer-form",
        "cf-place-form",
    ):
        assert f'id="{form}"' in page
    assert "Pothole filled" in page  # the department's template is offered
    assert 'name="_save"' not in page  # no raw edit of the row


def test_resident_content_is_escaped_never_marked_safe(client, sam, pothole, wards):
    issue = make_issue(pothole, description="<script>alert('x')</script>")
    services.add_comment(issue=issue, author=sam, body="<b>bold</b>", internal=False)
    client.force_login(sam)
    page = client.get(change_url(issue)).content.decode()
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page


@pytest.mark.pgbouncer  # the smoke set run through PgBouncer (.ci/run)
def test_change_status_with_a_template_fills_the_public_message(
    client, sam, streets_issue, close_template
):
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "status"),
        {"to": "closed", "resolution": "fixed", "template": close_template.pk, "message": ""},
    )
    assert response.status_code == 302 and response["Location"] == change_url(streets_issue)
    change = StatusChange.objects.get(issue=streets_issue, to_status=Status.CLOSED)
    assert change.message == "A crew filled this pothole." and change.changed_by == sam
    mail = Notification.objects.get(issue=streets_issue, event=NotificationEvent.STATUS_CHANGED)
    assert mail.recipient_email == "pat.private@example.net"


def test_typed_message_wins_over_the_template(client, sam, streets_issue, close_template):
    client.force_login(sam)
    client.post(
        work_url(streets_issue, "status"),
        {
            "to": "closed",
            "resolution": "fixed",
            "template": close_template.pk,
            "message": "Patched twice.",
        },
    )
    assert (
        StatusChange.objects.get(issue=streets_issue, to_status=Status.CLOSED).message
        == "Patched twice."
    )


def test_illegal_status_comes_back_as_400_with_the_reason_and_the_typed_text(
    client, sam, streets_issue
):
    services.change_status(issue=streets_issue, to=Status.CLOSED, by=sam)
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "status"), {"to": "in_progress", "message": "Typed with care"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "cannot become in progress" in page
    assert "Typed with care" in page
    assert Issue.objects.get(pk=streets_issue.pk).status == Status.CLOSED


def test_internal_note_and_public_comment(client, sam, streets_issue):
    client.force_login(sam)
    client.post(
        work_url(streets_issue, "comment"), {"visibility": "internal", "body": "Gate code 4411"}
    )
    client.post(
        work_url(streets_issue, "comment"),
        {"visibility": "public", "body": "Crew booked for Monday."},
    )
    note, comment = Comment.objects.filter(issue=streets_issue).order_by("id")
    assert note.is_internal and not comment.is_internal
    mails = rendered(
        Notification.objects.filter(issue=streets_issue, event=NotificationEvent.COMMENT_ADDED)
    )
    assert len(mails) == 1 and mails[0].body_text and "Gate code" not in mails[0].body_text
    page = client.get(change_url(streets_issue)).content.decode()
    assert (
        "Internal note" in page and "Gate code 4411" in page and "Crew booked for Monday." in page
    )


def test_empty_comment_is_a_400(client, sam, streets_issue):
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "comment"), {"visibility": "internal", "body": "   "}
    )
    assert response.status_code == 400
    assert not Comment.objects.filter(issue=streets_issue).exists()


def test_assign_and_unassign(client, sam, sam2, wanda, streets_issue):
    client.force_login(sam)
    client.post(work_url(streets_issue, "assign"), {"assignee": sam2.pk})
    assert Issue.objects.get(pk=streets_issue.pk).assignee == sam2
    outsider = client.post(work_url(streets_issue, "assign"), {"assignee": wanda.pk})
    assert outsider.status_code == 400
    assert Issue.objects.get(pk=streets_issue.pk).assignee == sam2
    client.post(work_url(streets_issue, "assign"), {"assignee": ""})
    assert Issue.objects.get(pk=streets_issue.pk).assignee is None


def test_transfer_out_of_my_queue_lands_me_back_on_the_queue(client, sam, water, streets_issue):
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "transfer"), {"department": water.pk, "message": "Their main"}
    )
    assert response.status_code == 302 and response["Location"] == changelist_url()
    assert Issue.objects.get(pk=streets_issue.pk).department == water
    assert client.get(change_url(streets_issue)).status_code == 404


def test_hide_and_show_the_issue_with_a_reason(client, sam, streets_issue):
    client.force_login(sam)
    refused = client.post(
        work_url(streets_issue, "moderate"),
        {"kind": "issue", "target_id": streets_issue.pk, "hidden": "1", "reason": ""},
    )
    assert refused.status_code == 400 and "Say why it is hidden." in refused.content.decode()
    client.post(
        work_url(streets_issue, "moderate"),
        {
            "kind": "issue",
            "target_id": streets_issue.pk,
            "hidden": "1",
            "reason": "Names a neighbour",
        },
    )
    assert selectors.public_issue(streets_issue.public_id) is None
    staff_page = client.get(change_url(streets_issue)).content.decode()
    assert "Hidden from the public: Names a neighbour" in staff_page
    client.post(
        work_url(streets_issue, "moderate"),
        {"kind": "issue", "target_id": streets_issue.pk, "hidden": "0"},
    )
    assert selectors.public_issue(streets_issue.public_id) is not None


def test_hide_a_comment_stays_visible_to_staff(client, sam, rosa, streets_issue):
    comment = services.add_comment(issue=streets_issue, author=rosa, body="Casino spam link")
    client.force_login(sam)
    client.post(
        work_url(streets_issue, "moderate"),
        {"kind": "comment", "target_id": comment.pk, "hidden": "1", "reason": "Spam"},
    )
    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_reason == "Spam"
    page = client.get(change_url(streets_issue)).content.decode()
    assert "Casino spam link" in page and "Hidden from the public: Spam" in page


def test_hide_a_photo(client, sam, streets_issue):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="PNG")
    photo = store_photo(
        issue=streets_issue, prepared=prepare_photo(SimpleUploadedFile("p.png", buffer.getvalue()))
    )
    client.force_login(sam)
    page = client.get(change_url(streets_issue)).content.decode()
    assert photo.thumbnail.url in page
    client.post(
        work_url(streets_issue, "moderate"),
        {"kind": "photo", "target_id": photo.pk, "hidden": "1", "reason": "A face"},
    )
    assert Photo.objects.get(pk=photo.pk).is_hidden


def test_moderating_another_issues_comment_is_refused(
    client, sam, rosa, streets_issue, streets_issue_ward2
):
    elsewhere = services.add_comment(issue=streets_issue_ward2, author=rosa, body="Fine comment")
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "moderate"),
        {"kind": "comment", "target_id": elsewhere.pk, "hidden": "1", "reason": "x"},
    )
    assert response.status_code == 400
    assert not Comment.objects.get(pk=elsewhere.pk).is_hidden


def test_timeline_lists_changes_transfers_and_comments_in_order(
    client, sam, water, boss, streets_issue
):
    services.change_status(issue=streets_issue, to=Status.ACKNOWLEDGED, by=sam, message="Seen it.")
    services.add_comment(
        issue=streets_issue, author=sam, body="Looks like a water main", internal=True
    )
    services.transfer_issue(issue=streets_issue, to_department=water, by=sam, message="Water main")
    client.force_login(boss)
    page = client.get(change_url(streets_issue)).content.decode()
    order = [
        page.index(t)
        for t in (
            "Reported",
            "Seen it.",
            "Looks like a water main",
            "Transferred from Streets and Sanitation to Water Management",
        )
    ]
    assert order == sorted(order)


def test_unknown_work_form_is_404_and_get_is_405(client, sam, streets_issue):
    client.force_login(sam)
    assert client.post(work_url(streets_issue, "explode"), {}).status_code == 404
    assert client.get(work_url(streets_issue, "status")).status_code == 405


# --- triage: issues with no place are findable and fixable ----------------------------------


def test_triage_issue_is_placed_and_gets_its_ward(client, sam, pothole, wards):
    issue = make_issue(pothole, point=NO_WARD_POINT, source="open311")
    assert issue.needs_triage and issue.ward is None
    client.force_login(sam)
    page = client.get(change_url(issue)).content.decode()
    assert "Needs triage" in page
    response = client.post(
        work_url(issue, "place"),
        {"latitude": WARD_2_POINT[0], "longitude": WARD_2_POINT[1], "address": "2 N State St"},
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.ward == wards[2] and not issue.needs_triage and issue.address == "2 N State St"
    note = Comment.objects.get(issue=issue, is_internal=True)
    assert "Ward 2" in note.body


def test_placing_outside_every_ward_is_refused_and_keeps_the_old_point(client, sam, pothole, wards):
    issue = make_issue(pothole, point=NO_WARD_POINT, source="open311")
    client.force_login(sam)
    response = client.post(work_url(issue, "place"), {"latitude": "41.4", "longitude": "-88.6"})
    assert response.status_code == 400 and "outside" in response.content.decode()
    issue.refresh_from_db()
    assert (issue.latitude, issue.longitude) == NO_WARD_POINT and issue.needs_triage


@pytest.mark.parametrize(
    "bad", [{"latitude": "north", "longitude": "-87.6"}, {"latitude": "91", "longitude": "0"}, {}]
)
def test_placing_with_bad_numbers_is_a_400(client, sam, streets_issue, bad):
    client.force_login(sam)
    assert client.post(work_url(streets_issue, "place"), bad).status_code == 400


def test_view_on_site_link_only_for_public_issues(client, sam, streets_issue):
    client.force_login(sam)
    assert (
        streets_issue.get_absolute_url() in client.get(change_url(streets_issue)).content.decode()
    )
    services.set_hidden(target=streets_issue, hidden=True, by=sam, reason="Abuse")
    assert 'class="viewsitelink"' not in client.get(change_url(streets_issue)).content.decode()
