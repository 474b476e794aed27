"""Anonymous reports of a type that asks for it are published only once their address follows
the emailed link; until then nobody else hears of them, and unconfirmed ones expire."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from departments.models import Ward
from issues import selectors, services, tasks
from issues.models import Issue, NotificationEvent, Photo
from issues.photos import prepare_photo
from tests.factories import CITY_HALL, make_issue, square_boundary
from tests.pages.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def wards(db):
    return Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))


@pytest.fixture
def sensitive(service_type):
    service_type.confirm_anonymous = True
    service_type.save(update_fields=["confirm_anonymous"])
    return service_type


def confirm_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/confirm/\S+/)", message.body).group(1)


def test_anonymous_report_waits_hidden_and_only_the_reporter_is_emailed(client, sensitive, deliver):
    issue, sent = deliver(make_issue, sensitive, reporter_email="anon@example.org")
    # Withheld like a private or held type's report, with its own reason: not in the
    # moderators' queue of held reports, since only its reporter can release it.
    assert issue.is_hidden and issue.withheld == "unconfirmed"
    assert issue not in selectors.held_issues()
    assert [m.to for m in sent] == [["anon@example.org"]]
    assert "Confirm your report" in sent[0].subject
    assert not issue.notifications.filter(event=NotificationEvent.DEPARTMENT_NEW_ISSUE).exists()
    assert client.get(issue.get_absolute_url()).status_code == 404

    path = confirm_path(sent[0])
    assert client.get(path).status_code == 200  # a scanner's GET publishes nothing
    issue.refresh_from_db()
    assert issue.is_hidden

    response, sent = deliver(client.post, path)
    assert response.status_code == 302
    issue.refresh_from_db()
    assert not issue.is_hidden and issue.withheld == ""
    assert sensitive.department.contact_email in [a for m in sent for a in m.to]
    assert client.get(issue.get_absolute_url()).status_code == 200
    # A second click is harmless.
    assert client.post(path).status_code == 302


def test_email_is_required_for_such_types(sensitive):
    with pytest.raises(ValidationError, match="need an email address"):
        make_issue(sensitive)


def test_signed_in_reports_and_other_types_publish_at_once(sensitive, service_type, resident):
    assert not make_issue(sensitive, reporter=resident).is_hidden
    other = type(service_type).objects.create(
        service_code="plain", name="Plain", department=service_type.department, sla_hours=1
    )
    assert not make_issue(other, reporter_email="anon@example.org").is_hidden


def test_unconfirmed_reports_expire(sensitive, django_capture_on_commit_callbacks):
    old = make_issue(sensitive, reporter_email="a@example.org")
    fresh = make_issue(sensitive, reporter_email="b@example.org")
    Issue.objects.filter(pk=old.pk).update(requested_at=timezone.now() - timedelta(hours=49))
    assert tasks.expire_unconfirmed_reports.delay().get() >= 1
    assert not Issue.objects.filter(pk=old.pk).exists()
    assert Issue.objects.filter(pk=fresh.pk).exists()


def test_an_expired_reports_photo_files_go_with_it(
    sensitive, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    upload = SimpleUploadedFile("hole.jpg", jpeg_bytes(), content_type="image/jpeg")
    old = make_issue(sensitive, reporter_email="a@example.org", photos=[prepare_photo(upload)])
    photo = Photo.objects.get(issue=old)
    files = [tmp_path / photo.image.name, tmp_path / photo.thumbnail.name]
    assert all(path.exists() for path in files)
    Issue.objects.filter(pk=old.pk).update(requested_at=timezone.now() - timedelta(hours=49))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_unconfirmed() == 1
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not any(path.exists() for path in files)


def test_a_moderated_report_is_not_published_by_the_link(client, sensitive, staff_user, deliver):
    issue, sent = deliver(make_issue, sensitive, reporter_email="anon@example.org")
    services.set_hidden(target=issue, hidden=True, by=staff_user, reason="Abusive")
    response = client.post(confirm_path(sent[0]))
    assert response.status_code == 400
    issue.refresh_from_db()
    assert issue.is_hidden and issue.hidden_reason == "Abusive"


def test_forged_link_is_refused(client):
    response = client.get(reverse("issues:confirm_report", kwargs={"token": "forged"}))
    assert response.status_code == 400


def test_report_form_says_check_your_email(client, sensitive, wards):
    data = {
        "service_code": sensitive.service_code,
        "latitude": "41.88365",
        "longitude": "-87.63201",
        "address": "121 N LaSalle St",
        "description": "Something sensitive",
        "email": "pat@example.net",
        "not_duplicate": "1",
    }
    response = client.post(reverse("issues:report"), data)
    assert response.status_code == 200, response.content[:500]
    assert "Check your email to publish your report" in response.text
    assert Issue.objects.get().is_hidden
