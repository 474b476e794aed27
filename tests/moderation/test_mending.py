"""Report abuse (rate limited, the sender never shown), and mending instead of hiding: edited
text with the original kept for staff, the reporter's name removed, photos redacted by boxes."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from PIL import Image

from departments.models import Department
from issues import services
from issues.models import AbuseReport, ModerationAction
from issues.photos import prepare_photo
from tests.factories import make_issue, make_staff, make_user

pytestmark = pytest.mark.django_db


def photo_upload(color=(200, 30, 30)):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    Image.new("RGB", (200, 100), color).save(out, format="JPEG", exif=exif)
    out.seek(0)
    out.name = "p.jpg"
    out.size = len(out.getvalue())
    return out


@pytest.fixture
def issue(pothole, ward):
    return make_issue(
        pothole,
        description="Call me on 555-0100",
        reporter=make_user("rosa@example.org", display_name="Rosa"),
        photos=[prepare_photo(photo_upload())],
    )


def test_abuse_is_reported_from_the_public_page_and_queued_without_its_sender(
    client, issue, department
):
    page = client.get(issue.get_absolute_url()).content.decode()
    url = reverse("issues:report_abuse", args=[issue.public_id])
    assert url in page
    photo = issue.photos.get()
    assert f"{url}?photo={photo.pk}" in page
    sender = make_user("worried@example.org")
    client.force_login(sender)
    response = client.post(
        url, {"reason": "personal", "details": "phone number", "photo": photo.pk}
    )
    assert response.status_code == 302
    report = AbuseReport.objects.get()
    assert (report.photo, report.reason) == (photo, "personal")
    staff = make_staff(department)
    staff_client = Client()
    staff_client.force_login(staff)
    queue = staff_client.get(reverse("admin:issues_abusereport_changelist")).content.decode()
    assert "1 abuse report waiting" in queue
    assert "worried@example.org" not in queue


def test_abuse_reports_are_rate_limited(client, issue, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "abuse_report": (2, 3600)}
    url = reverse("issues:report_abuse", args=[issue.public_id])
    codes = [client.post(url, {"reason": "spam"}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert AbuseReport.objects.count() == 2


def test_abuse_needs_a_reason(client, issue):
    url = reverse("issues:report_abuse", args=[issue.public_id])
    assert client.post(url, {"reason": "nonsense"}).status_code == 400
    assert not AbuseReport.objects.exists()


def test_edited_text_shows_as_edited_and_the_original_stays_for_staff(client, issue, department):
    staff = make_staff(department)
    services.edit_public_text(
        target=issue, text="Call me (number removed)", by=staff, reason="phone number"
    )
    page = client.get(issue.get_absolute_url()).content.decode()
    assert "555-0100" not in page
    assert "Edited by moderator" in page
    action = ModerationAction.objects.get(kind="edit_text")
    assert (action.before, action.by, action.reason) == (
        "Call me on 555-0100",
        staff,
        "phone number",
    )
    staff_client = Client()
    staff_client.force_login(staff)
    workbench = staff_client.get(reverse("admin:issues_issue_change", args=[issue.pk]))
    assert "Call me on 555-0100" in workbench.content.decode()


def test_the_reporters_name_can_be_removed_from_public_view(client, issue, department):
    assert "Rosa" in client.get(issue.get_absolute_url()).content.decode()
    services.remove_reporter_name(issue=issue, by=make_staff(department), reason="asked")
    assert "Rosa" not in client.get(issue.get_absolute_url()).content.decode()


def test_a_redacted_photo_is_black_in_its_boxes_and_the_original_is_not_served(
    client, issue, department, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    photo = issue.photos.get()
    old_name = photo.image.name
    staff = make_staff(department)
    staff_client = Client()
    staff_client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:issues_issue_work", args=[issue.pk, "redact"]),
            {"photo_id": photo.pk, "boxes": "10,10,50,40\n120,20,30,30", "reason": "a face"},
        )
    assert response.status_code == 302, response.content
    photo.refresh_from_db()
    assert photo.edited_by_moderator and photo.original_name
    with photo.image.open("rb") as f:
        img = Image.open(io.BytesIO(f.read()))
    assert not img.getexif()  # still no EXIF
    inside = img.crop((12, 12, 58, 48)).convert("L")
    low, high = inside.getextrema()
    assert high - low <= 8 and high <= 10  # uniform black (JPEG allows a little noise)
    outside = img.crop((80, 60, 110, 90)).convert("RGB").getpixel((5, 5))
    assert outside[0] > 150  # the rest of the photo is still the photo
    # The original: gone from the public media store (so no /media/ URL reaches it), not
    # served to anonymous, served to staff.
    assert not photo.image.storage.exists(old_name)
    assert str(settings.MEDIA_ROOT) not in str(settings.PRIVATE_MEDIA_ROOT)
    original = reverse("admin:issues_photo_original", args=[photo.pk])
    assert client.get(original).status_code == 302  # to the sign-in page
    assert staff_client.get(original).status_code == 200
    assert ModerationAction.objects.filter(kind="redact_photo", photo=photo, by=staff).exists()


def test_originals_are_deleted_when_the_setting_says_so(issue, department, settings, tmp_path):
    settings.MODERATION_KEEP_ORIGINALS = False
    photo = issue.photos.get()
    services.redact_photo(
        photo=photo, boxes=[(0, 0, 10, 10)], by=make_staff(department), reason="x"
    )
    photo.refresh_from_db()
    assert photo.original_name == ""


def test_a_box_outside_the_photo_is_refused(issue, department):
    with pytest.raises(ValidationError):
        services.redact_photo(
            photo=issue.photos.get(),
            boxes=[(190, 90, 50, 50)],
            by=make_staff(department),
            reason="x",
        )


def test_staff_mend_an_update_from_the_workbench(client, issue, department):
    comment = services.add_comment(
        issue=issue, author=make_user("n@example.org"), body="My number is 555-0199"
    )
    staff = make_staff(department)
    staff_client = Client()
    staff_client.force_login(staff)
    page = staff_client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content.decode()
    assert f'name="comment_id" value="{comment.pk}"' in page
    response = staff_client.post(
        reverse("admin:issues_issue_work", args=[issue.pk, "edit_text"]),
        {"comment_id": comment.pk, "text": "My number is (removed)", "reason": "phone"},
    )
    assert response.status_code == 302
    public = client.get(issue.get_absolute_url()).content.decode()
    assert "555-0199" not in public and "My number is (removed)" in public
    assert "Edited by moderator" in public
    action = ModerationAction.objects.get(kind="edit_text", comment=comment)
    assert action.before == "My number is 555-0199"


def test_a_mending_form_without_a_reason_is_refused(issue, department):
    staff_client = Client()
    staff_client.force_login(make_staff(department))
    response = staff_client.post(
        reverse("admin:issues_issue_work", args=[issue.pk, "remove_name"]), {"reason": ""}
    )
    assert response.status_code == 400
    issue.refresh_from_db()
    assert not issue.hide_reporter_name


def test_residents_cannot_reach_the_moderation_queue(client, issue):
    client.force_login(make_user("someone@example.org"))
    response = client.get(reverse("admin:issues_abusereport_changelist"))
    assert response.status_code in (302, 403)


def test_bulk_release_from_the_queue(graffiti_held, ward, department):
    held = [make_issue(graffiti_held) for _ in range(2)]
    staff_client = Client()
    staff_client.force_login(make_staff(department))
    queue = staff_client.get(reverse("admin:issues_abusereport_changelist")).content.decode()
    assert "2 held reports" in queue
    response = staff_client.post(
        reverse("admin:issues_abusereport_held"),
        {"issue": [i.pk for i in held], "do": "release"},
    )
    assert response.status_code == 302
    assert not any(i.is_hidden for i in [type(h).objects.get(pk=h.pk) for h in held])


def test_the_queue_counts_only_the_moderators_departments(client, issue, department):
    AbuseReport.objects.create(issue=issue, reason="spam")
    elsewhere = make_staff(Department.objects.create(name="Parks", slug="parks"))
    client.force_login(elsewhere)
    queue = client.get(reverse("admin:issues_abusereport_changelist")).content.decode()
    assert "0 abuse reports waiting" in queue
    client.force_login(make_staff(department))
    queue = client.get(reverse("admin:issues_abusereport_changelist")).content.decode()
    assert "1 abuse report waiting" in queue
