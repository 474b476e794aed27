"""POST requests: key, validation exactly as the web form, photos, privacy, rate limit."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import ApiKey
from issues.models import Issue, Source
from tests.factories import CITY_HALL, LAKE_MICHIGAN

URL = "/open311/v2/requests.json"


def form(key, **extra):
    data = {
        "api_key": key.raw,
        "service_code": "pothole",
        "lat": str(CITY_HALL[0]),
        "long": str(CITY_HALL[1]),
        "attribute[SIZE]": "large",
        "description": "Deep hole",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.pgbouncer  # the smoke set run through PgBouncer (.ci/run)
def test_creates_an_issue_and_answers_a_one_element_array(client, pothole, api_key, wards):
    response = client.post(URL, form(api_key, email="Rosa@Example.org", first_name="Rosa"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == [
        {
            "service_request_id": body[0]["service_request_id"],
            "service_notice": "The city will inspect within 7 days.",
            "account_id": None,
        }
    ]
    issue = Issue.objects.get(public_id=body[0]["service_request_id"])
    assert issue.source == Source.OPEN311
    assert issue.attributes == {"SIZE": "large"}
    assert issue.reporter_email == "rosa@example.org"
    assert issue.reporter_name == "Rosa"
    assert issue.ward is not None and not issue.needs_triage


def test_key_usage_is_counted(client, pothole, api_key, wards):
    client.post(URL, form(api_key))
    client.post(URL, form(api_key, **{"attribute[SIZE]": None}))  # refused, but still a use
    api_key.refresh_from_db()
    assert api_key.request_count == 2
    assert api_key.last_used_at is not None


def test_api_key_in_the_query_string_is_accepted(client, pothole, api_key, wards):
    data = form(api_key)
    raw = data.pop("api_key")
    response = client.post(f"{URL}?api_key={raw}", data)
    assert response.status_code == 200


@pytest.mark.parametrize("raw", [None, "", "wrong-key"])
def test_missing_or_bad_key_is_403(client, pothole, api_key, raw):
    data = form(api_key, api_key=raw)
    response = client.post(URL, data)
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403
    assert not Issue.objects.exists()


def test_revoked_key_is_403(client, pothole, api_key):
    ApiKey.objects.filter(pk=api_key.pk).update(active=False)
    assert client.post(URL, form(api_key)).status_code == 403


def test_errors_are_xml_for_the_xml_suffix(client, pothole, api_key):
    response = client.post("/open311/v2/requests.xml", form(api_key, api_key="nope"))
    assert response.status_code == 403
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == "errors" and root.findtext("error/code") == "403"


def test_created_xml_is_service_requests_request(client, pothole, api_key, wards):
    response = client.post("/open311/v2/requests.xml", form(api_key))
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id")


def test_unknown_service_code_is_404_and_missing_is_400(client, pothole, api_key):
    assert client.post(URL, form(api_key, service_code="nope")).status_code == 404
    assert client.post(URL, form(api_key, service_code=None)).status_code == 400


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"attribute[SIZE]": None}, "attribute[SIZE]"),
        ({"attribute[SIZE]": "gigantic"}, "gigantic"),
        ({"attribute[NOPE]": "x"}, "NOPE"),
        ({"attribute[DEPTH]": "deep"}, "number"),
        ({"description": "x" * 4001}, "4000"),
        ({"lat": None, "long": None}, "location"),
        ({"long": None}, "together"),
        ({"lat": "91"}, "lat"),
        ({"lat": "inf"}, "lat"),
        ({"lat": "north"}, "lat"),
        ({"email": "not-an-address"}, "email"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"lat": None, "long": None, "address_id": "123"}, "address_id"),
        # PostgreSQL cannot store NUL: refused with a reason, never a database error (500).
        ({"description": "deep\x00hole"}, "Null characters"),
        ({"first_name": "Ro\x00sa"}, "Null characters"),
        ({"attribute[SIZE]": "large\x00"}, "null character"),
    ],
)
def test_invalid_requests_are_400_with_reasons(client, pothole, api_key, extra, needle):
    response = client.post(URL, form(api_key, **extra))
    assert response.status_code == 400, response.content
    descriptions = " ".join(e["description"] for e in response.json())
    assert needle in descriptions
    assert not Issue.objects.exists()


def test_multivaluelist_takes_repeated_bracket_keys(client, pothole, api_key, wards):
    data = form(api_key)
    data["attribute[WHERE][]"] = ["curb", "lane"]
    response = client.post(URL, data)
    assert response.status_code == 200, response.content
    assert Issue.objects.get().attributes["WHERE"] == ["lane", "curb"]


def test_address_string_without_a_point_is_kept(client, pothole, api_key):
    response = client.post(
        URL, form(api_key, lat=None, long=None, address_string="121 N LaSalle St")
    )
    assert response.status_code == 200
    issue = Issue.objects.get()
    assert issue.address == "121 N LaSalle St" and issue.latitude is None


def test_point_in_no_ward_is_kept_and_flagged_for_triage(client, pothole, api_key, wards):
    response = client.post(
        URL, form(api_key, lat=str(LAKE_MICHIGAN[0]), long=str(LAKE_MICHIGAN[1]))
    )
    assert response.status_code == 200
    issue = Issue.objects.get()
    assert issue.ward is None and issue.needs_triage


def test_media_file_goes_through_the_photo_pipeline(client, pothole, api_key, wards):
    data = form(api_key)
    data["media"] = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(URL, data)
    assert response.status_code == 200, response.content
    issue = Issue.objects.get()
    assert issue.photos.count() == 1
    listed = client.get(f"/open311/v2/requests/{issue.public_id}.json").json()[0]
    assert listed["media_url"].startswith("http://testserver/media/photos/")


def test_a_text_file_as_media_is_400_and_nothing_is_stored(client, pothole, api_key):
    data = form(api_key)
    data["media"] = SimpleUploadedFile("p.jpg", b"not a picture", content_type="image/jpeg")
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "p.jpg" in response.json()[0]["description"]
    assert not Issue.objects.exists()


def test_media_url_is_kept(client, pothole, api_key, wards):
    url = "https://img.example.org/pothole.jpg"
    client.post(URL, form(api_key, media_url=url))
    assert Issue.objects.get().media_url == url


def test_json_body_is_refused_with_a_400(client, pothole, api_key):
    response = client.post(URL, {"api_key": api_key.raw}, content_type="application/json")
    assert response.status_code == 400
    assert "form" in response.json()[0]["description"]


def test_post_is_csrf_exempt(pothole, api_key, wards):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, form(api_key)).status_code == 200


def test_rate_limit_per_key_is_429(client, pothole, api_key, wards, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "open311_post": (2, 3600)}
    assert client.post(URL, form(api_key)).status_code == 200
    assert client.post(URL, form(api_key)).status_code == 200
    response = client.post(URL, form(api_key))
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert response.json()[0]["code"] == 429
    assert Issue.objects.count() == 2


def test_private_contact_details_never_come_back(client, pothole, api_key, wards):
    response = client.post(
        URL,
        form(
            api_key,
            email="hidden@example.org",
            phone="312-555-0100",
            first_name="Hedda",
            last_name="Hidden",
        ),
    )
    public_id = response.json()[0]["service_request_id"]
    for suffix in ("json", "xml"):
        text = client.get(
            f"/open311/v2/requests/{public_id}.{suffix}", {"extensions": "true"}
        ).content.decode()
        for secret in ("hidden@example.org", "312-555-0100", "Hedda", "Hidden"):
            assert secret not in text
