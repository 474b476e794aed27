"""Residents' "still there" / "it's fixed" updates: anyone signed in, optionally with a photo that
goes through the one photo pipeline (limits, EXIF stripped, thumbnail) and the same moderation (a
hidden photo, or the photo of a hidden update, is never served). Neither changes the status."""

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from issues import services
from issues.models import Comment, NotificationEvent, Photo, Status, UpdateKind
from issues.notify import events
from issues.services import moderation
from tests.factories import make_issue, make_user
from tests.pages.conftest import jpeg_bytes, jpeg_with_gps, png_bomb, upload

pytestmark = pytest.mark.django_db

MEDIA = re.compile(r'(?:src|href)="(/media/[^"]+)"')


@pytest.fixture
def own(service_type, resident):
    with events.suppressed():
        return make_issue(service_type, reporter=resident, description="Pothole on Main")


@pytest.fixture
def closed(own, staff_user):
    with events.suppressed():
        services.change_status(issue=own, to=Status.CLOSED, by=staff_user, resolution="fixed")
    own.refresh_from_db()
    return own


@pytest.fixture
def neighbour_client(client):
    client.force_login(make_user(email="nell@example.net", display_name="Nell"))
    return client


def _post(client, issue, **data):
    return client.post(reverse("issues:resident_update", args=[issue.public_id]), data)


def test_still_there_with_a_photo_is_in_the_timeline_and_the_photo_is_cleaned(
    neighbour_client, closed, resident, deliver
):
    response, sent = deliver(
        _post,
        neighbour_client,
        closed,
        kind="still_there",
        body="Still a crater",
        photo=upload("gps.jpg", jpeg_with_gps()),
    )
    assert response.status_code == 302 and "#comment-" in response.url
    update = Comment.objects.get(issue=closed, kind=UpdateKind.STILL_THERE)
    (photo,) = update.photos.all()
    assert photo.issue_id == closed.pk and photo.thumbnail.name
    stored = Image.open(io.BytesIO(photo.image.read()))
    assert not stored.getexif()  # location and camera data are gone
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED  # an update never changes the status
    assert [m for m in sent if resident.email in m.to]  # followers hear of it like a comment

    page = neighbour_client.get(closed.get_absolute_url())
    assert "says it's still there" in page.text and "Still a crater" in page.text
    assert photo.thumbnail.url in page.text
    neighbour_client.logout()
    assert neighbour_client.get(photo.image.url).status_code == 200


def test_its_fixed_on_an_open_report_is_an_update_not_a_close(neighbour_client, own):
    response = _post(neighbour_client, own, kind="fixed")
    assert response.status_code == 302
    assert Comment.objects.get(issue=own).kind == UpdateKind.FIXED
    own.refresh_from_db()
    assert own.status == Status.OPEN
    assert "says it's fixed" in neighbour_client.get(own.get_absolute_url()).text


def test_its_fixed_on_a_closed_report_is_refused(neighbour_client, closed):
    response = _post(neighbour_client, closed, kind="fixed")
    assert response.status_code == 400
    assert not Comment.objects.filter(issue=closed).exists()
    with pytest.raises(Exception, match="already closed"):
        services.add_resident_update(issue=closed, author=closed.reporter, kind="fixed")


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("bomb.png", png_bomb(), "too large"),
        ("notes.jpg", b"not a picture at all", "not a picture"),
        ("big.jpg", jpeg_bytes(size=(400, 400)), "MB"),
    ],
)
def test_a_bad_photo_is_a_clear_400_and_nothing_is_stored(
    neighbour_client, own, settings, name, data, reason
):
    if name == "big.jpg":
        settings.PHOTO_MAX_BYTES = 1000
    response = _post(neighbour_client, own, kind="still_there", photo=upload(name, data))
    assert response.status_code == 400 and reason in response.text
    assert not Comment.objects.filter(issue=own).exists()
    assert not Photo.objects.filter(issue=own).exists()


def test_a_hidden_update_photo_is_never_served(neighbour_client, own):
    _post(neighbour_client, own, kind="still_there", photo=upload("a.jpg", jpeg_bytes()))
    _post(neighbour_client, own, kind="still_there", photo=upload("b.jpg", jpeg_bytes()))
    first, second = Photo.objects.filter(issue=own, comment__isnull=False).order_by("pk")
    Photo.objects.filter(pk=first.pk).update(is_hidden=True)
    Comment.objects.filter(pk=second.comment_id).update(is_hidden=True)
    neighbour_client.logout()
    page = neighbour_client.get(own.get_absolute_url()).text
    for photo in (first, second):
        assert photo.image.url not in page and photo.thumbnail.url not in page
        assert neighbour_client.get(photo.image.url).status_code == 404
        assert neighbour_client.get(photo.thumbnail.url).status_code == 404
    assert not MEDIA.findall(page)


def test_a_banned_sender_update_and_photo_are_hidden(client, own, admin_user):
    banned = make_user(email="spam@example.net")
    moderation.ban_sender(user=banned, by=admin_user, reason="spam")
    client.force_login(banned)
    _post(client, own, kind="still_there", photo=upload("a.jpg", jpeg_bytes()))
    photo = Photo.objects.get(issue=own, comment__isnull=False)
    assert photo.is_hidden and photo.comment.is_hidden
    client.logout()
    assert client.get(photo.image.url).status_code == 404


def test_updates_need_sign_in_and_are_rate_limited(client, own, settings):
    response = _post(client, own, kind="still_there")
    assert response.status_code == 302 and "login" in response.url
    client.force_login(make_user())
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": (1, 3600)}
    assert _post(client, own, kind="still_there").status_code == 302
    response = _post(client, own, kind="still_there")
    assert response.status_code == 429
    assert Comment.objects.filter(issue=own).count() == 1
    assert not own.notifications.filter(event=NotificationEvent.ISSUE_REOPENED).exists()


def test_a_hidden_updates_photo_is_in_no_list_and_not_in_the_api(neighbour_client, own):
    # The report's own photo is hidden, so the update's would be the first one anywhere.
    Photo.objects.filter(issue=own).update(is_hidden=True)
    _post(neighbour_client, own, kind="still_there", photo=upload("a.jpg", jpeg_bytes()))
    photo = Photo.objects.get(issue=own, comment__isnull=False)
    neighbour_client.logout()
    one = reverse("open311:request", kwargs={"service_request_id": own.public_id, "fmt": "json"})
    # While the update is visible, its photo is the issue's thumbnail and media_url.
    assert photo.thumbnail.url in neighbour_client.get(reverse("issues:home")).text
    assert neighbour_client.get(one).json()[0]["media_url"].endswith(photo.image.url)
    update = photo.comment
    update.is_hidden = True  # as a moderator does, in the admin
    update.save(update_fields=["is_hidden"])
    home = neighbour_client.get(reverse("issues:home")).text
    api = neighbour_client.get(one, {"extensions": "true"}).json()[0]
    assert photo.thumbnail.url not in home
    assert api["media_url"] is None and api["extended_attributes"]["photos"] == []


def test_the_update_photo_picker_offers_what_the_report_form_does(neighbour_client, own):
    # An iPhone photo reads here as on the report form (one pipeline), so the picker offers it.
    page = neighbour_client.get(own.get_absolute_url()).text
    [photo_input] = re.findall(r'<input[^>]*name="photo"[^>]*>', page)
    assert "image/heic" in photo_input and ".heic" in photo_input
