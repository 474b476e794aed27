"""Reporting through the HTML form: every validation path, photos made by Pillow, duplicates."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from issues.models import Issue, Notification, NotificationEvent, Photo
from tests.factories import CITY_HALL, OUTSIDE_CITY, make_issue, make_user
from tests.pages.conftest import jpeg_bytes, jpeg_with_gps, png_bomb, report_data, upload

URL = reverse("issues:report")
pytestmark = pytest.mark.django_db


def test_form_groups_types_and_renders_the_chosen_types_questions(client, pothole, graffiti):
    response = client.get(URL, {"type": "pothole", "latitude": "41.88", "longitude": "-87.63"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<optgroup label="Streets &amp; Sidewalks">' in html
    assert '<optgroup label="Sanitation">' in html
    assert "About how big is it?" in html
    assert 'name="attribute[SIZE]"' in html and 'type="radio"' in html
    assert 'name="attribute[DEPTH]"' in html and 'type="number"' in html
    assert 'value="41.88"' in html


@pytest.mark.pgbouncer  # the smoke set run through PgBouncer (.ci/run)
def test_anonymous_report_with_answer_and_photo_lands_on_its_page(client, pothole, chicago_wards):
    data = report_data(pothole, photos=[upload("pothole.jpg", jpeg_bytes())])
    response = client.post(URL, data)
    issue = Issue.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{issue.get_absolute_url()}?new=1"
    assert issue.attributes == {"SIZE": "large"}
    assert issue.reporter_email == "pat@example.net"
    assert issue.ward.number == 42
    assert issue.photos.count() == 1
    # The confirmation email is an outbox row, written with the issue.
    assert Notification.objects.filter(
        event=NotificationEvent.ISSUE_CREATED, recipient_email="pat@example.net", issue=issue
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert issue.public_id in page
    assert issue.photos.get().thumbnail.url in page
    assert "Your service request id is" in page


def test_stored_photo_has_no_exif_and_no_gps(client, pothole, chicago_wards):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test image has GPS
    client.post(URL, report_data(pothole, photos=[upload("gps.jpg", original)]))
    photo = Photo.objects.get()
    for stored in (photo.image, photo.thumbnail):
        with stored.open("rb") as fh:
            img = Image.open(io.BytesIO(fh.read()))
            exif = img.getexif()
            assert len(exif) == 0
            assert not exif.get_ifd(0x8825)
            assert "exif" not in img.info


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bomb.png", png_bomb(), "too large"),
        ("notes.jpg", b"this is a shopping list, not a photo", "not a picture we can read"),
        ("empty.jpg", b"", "empty"),
    ],
)
def test_bad_photo_is_refused_by_name_and_nothing_typed_is_lost(
    client, pothole, chicago_wards, name, data, reason
):
    response = client.post(URL, report_data(pothole, photos=[upload(name, data)]))
    html = response.content.decode()
    assert response.status_code == 400
    assert name in html and reason in html
    assert "A deep pothole by the bus stop" in html
    assert 'value="pat@example.net"' in html
    assert 'value="large" checked' in html
    assert not Issue.objects.exists()


def test_oversize_photo_is_refused(client, pothole, chicago_wards, settings):
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    big = jpeg_bytes() + b"\0" * (1024 * 1024)
    response = client.post(URL, report_data(pothole, photos=[upload("huge.jpg", big)]))
    assert response.status_code == 400
    assert "huge.jpg" in response.content.decode() and "at most 1 MB" in response.content.decode()
    assert not Issue.objects.exists()


def test_more_than_five_photos_are_refused(client, pothole, chicago_wards):
    photos = [upload(f"p{i}.jpg", jpeg_bytes()) for i in range(6)]
    response = client.post(URL, report_data(pothole, photos=photos))
    assert response.status_code == 400
    assert "At most 5 photos" in response.content.decode()


def test_accepted_photos_are_kept_when_something_else_is_wrong(client, pothole, chicago_wards):
    first = client.post(
        URL, report_data(pothole, email="", photos=[upload("keep.jpg", jpeg_bytes())])
    )
    html = first.content.decode()
    assert first.status_code == 400
    assert "This field is required" in html
    token = html.split('name="kept_photo" value="')[1].split('"')[0]
    second = client.post(URL, report_data(pothole, kept_photo=token))
    assert second.status_code == 302
    assert Issue.objects.get().photos.count() == 1


def test_point_outside_the_city_is_refused_with_a_message_that_says_so(
    client, pothole, chicago_wards
):
    response = client.post(URL, report_data(pothole, point=OUTSIDE_CITY))
    assert response.status_code == 400
    assert "outside Chicago" in response.content.decode()
    assert not Issue.objects.exists()


def test_address_alone_is_enough_without_the_map(client, pothole, chicago_wards):
    response = client.post(URL, report_data(pothole, point=None, address="1060 W Addison St"))
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.latitude is None and issue.needs_triage


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"latitude": "", "longitude": "", "address": ""}, "Say where the problem is"),
        ({"longitude": ""}, "Give both latitude and longitude"),
        ({"latitude": "123"}, "less than or equal to 90"),
        ({"latitude": "north"}, "Enter a number"),
        ({"email": ""}, "This field is required"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"service_code": "no-such-type"}, "Select a valid choice"),
        ({"attribute[SIZE]": ""}, "needs an answer"),
        ({"attribute[SIZE]": "enormous"}, "is not one of the choices"),
        ({"attribute[DEPTH]": "deep"}, "must be a number"),
        ({"description": "x" * 4001}, "at most 4000 characters"),
    ],
)
def test_each_validation_path_explains_itself_and_keeps_the_rest(
    client, pothole, chicago_wards, changes, message
):
    response = client.post(URL, report_data(pothole, **changes))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Please check your report" in html
    assert 'value="Pat Reporter"' in html
    assert not Issue.objects.exists()


def test_errors_are_tied_to_their_fields(client, pothole, chicago_wards):
    html = client.post(URL, report_data(pothole, email="")).content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert 'id="id_email_error"' in html


def test_signed_in_reporter_needs_no_contact_fields(client, pothole, chicago_wards, resident):
    client.force_login(resident)
    response = client.post(
        URL, report_data(pothole, name=None, email=None, phone=None, hide_name="on")
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.reporter == resident and issue.reporter_email == ""
    assert issue.subscriptions.filter(user=resident).exists()
    page = client.get(issue.get_absolute_url()).content.decode()
    assert "by a resident" in page and "Rosa" not in page


def test_honeypot_refuses_bots(client, pothole, chicago_wards):
    response = client.post(URL, report_data(pothole, website="http://spam.example"))
    assert response.status_code == 400
    assert not Issue.objects.exists()


def test_rate_limit_answers_429_and_keeps_what_was_typed(client, pothole, chicago_wards, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (1, 3600)}
    assert client.post(URL, report_data(pothole)).status_code == 302
    response = client.post(URL, report_data(pothole, description="Second one, please keep me"))
    html = response.content.decode()
    assert response.status_code == 429
    assert "Too many reports for now" in html
    assert "Second one, please keep me" in html
    assert Issue.objects.count() == 1


def test_nearby_open_issue_of_the_same_type_is_offered_before_submitting(
    client, pothole, chicago_wards
):
    existing = make_issue(pothole, point=CITY_HALL, attributes={"SIZE": ["small"]})
    near = (CITY_HALL[0] + 0.0002, CITY_HALL[1])  # about 22 m north
    first = client.post(URL, report_data(pothole, point=near))
    html = first.content.decode()
    assert first.status_code == 200
    assert "Is this it?" in html and existing.public_id in html
    assert Issue.objects.count() == 1
    # Saying it is a different problem sends the report.
    second = client.post(URL, report_data(pothole, point=near, not_duplicate="1"))
    assert second.status_code == 302
    assert Issue.objects.count() == 2


def test_nearby_check_ignores_other_types_closed_issues_and_far_ones(
    client, pothole, graffiti, chicago_wards, staff_user
):
    from issues import services

    make_issue(graffiti, point=CITY_HALL)
    closed = make_issue(pothole, point=CITY_HALL, attributes={"SIZE": ["small"]})
    services.change_status(issue=closed, to="closed", by=staff_user)
    make_issue(pothole, point=(CITY_HALL[0] + 0.002, CITY_HALL[1]), attributes={"SIZE": ["small"]})
    response = client.post(URL, report_data(pothole))
    assert response.status_code == 302


def test_live_nearby_fragment(client, pothole):
    issue = make_issue(pothole, point=CITY_HALL, attributes={"SIZE": ["small"]})
    url = reverse("issues:report_nearby")
    response = client.get(
        url, {"type": "pothole", "latitude": CITY_HALL[0], "longitude": CITY_HALL[1]}
    )
    assert response.status_code == 200 and issue.public_id in response.content.decode()
    assert (
        client.get(url, {"type": "pothole", "latitude": "x", "longitude": "1"}).status_code == 400
    )
    assert client.get(url, {"type": "nope", "latitude": "1", "longitude": "1"}).status_code == 400


def test_questions_fragment_for_a_type(client, pothole):
    url = reverse("issues:report_questions")
    response = client.get(url, {"type": "pothole"})
    assert response.status_code == 200 and "About how big is it?" in response.content.decode()
    assert client.get(url, {"type": "no-such"}).status_code == 400


def test_without_javascript_choosing_a_type_shows_its_questions_and_keeps_input(client, pothole):
    data = report_data(pothole, choose_type="1", photos=[upload("early.jpg", jpeg_bytes())])
    del data["attribute[SIZE]"]
    response = client.post(URL, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "About how big is it?" in html
    assert "A deep pothole by the bus stop" in html
    assert 'name="kept_photo"' in html
    assert "errorlist" not in html
    assert not Issue.objects.exists()


def test_script_in_every_field_is_escaped_everywhere(client, chicago_wards, department):
    from tests.factories import make_attribute, make_service_type

    evil = "<script>alert(1)</script>"
    service_type = make_service_type(department, code="evil", name="Evil")
    make_attribute(service_type, "NOTE", "string", description="Note")
    user = make_user(display_name=evil)
    response = client.post(
        URL,
        {
            "service_code": "evil",
            "latitude": str(CITY_HALL[0]),
            "longitude": str(CITY_HALL[1]),
            "address": evil,
            "description": evil,
            "name": evil,
            "email": "x@example.net",
            "phone": evil,
            "attribute[NOTE]": evil,
        },
    )
    issue = Issue.objects.get()
    client.force_login(user)
    client.post(reverse("issues:comment", args=[issue.public_id]), {"body": evil})
    pages = [
        client.get(issue.get_absolute_url()),
        client.get(reverse("issues:home")),
        client.get(reverse("issues:profile")),
        client.post(URL, {"service_code": "evil", "description": evil, "address": evil}),
    ]
    assert response.status_code == 302
    for page in pages:
        html = page.content.decode()
        assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].content.decode()


def test_a_refused_form_lists_every_problem_at_once(client, pothole, chicago_wards):
    response = client.post(URL, report_data(pothole, email="", **{"attribute[SIZE]": ""}))
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required" in html
    assert '<a href="#id_attr_SIZE_0">About how big is it?</a>' in html


def test_staff_enter_a_callers_report_for_them(client, pothole, chicago_wards, staff_user):
    """A phone call taken by staff: the caller is the reporter and hears about progress."""
    client.force_login(staff_user)
    form = client.get(URL).content.decode()
    assert "Caller&#x27;s email" in form or "Caller's email" in form
    response = client.post(
        URL, report_data(pothole, name="Caller Carla", email="carla@example.net")
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.source == "staff"
    assert issue.reporter is None
    assert (issue.reporter_name, issue.reporter_email) == ("Caller Carla", "carla@example.net")
    assert Notification.objects.filter(
        issue=issue, event=NotificationEvent.ISSUE_CREATED, recipient_email="carla@example.net"
    ).exists()
    assert not Notification.objects.filter(recipient_email=staff_user.email).exists()


def test_staff_report_of_their_own_outside_the_wards_is_kept_for_triage(
    client, pothole, chicago_wards, staff_user
):
    client.force_login(staff_user)
    response = client.post(
        URL, report_data(pothole, point=OUTSIDE_CITY, name=None, email=None, phone=None)
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert (issue.source, issue.reporter, issue.needs_triage) == ("staff", staff_user, True)
