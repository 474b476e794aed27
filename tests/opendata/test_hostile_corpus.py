"""The hostile input corpus (tests/data/hostile/) through every door (the report form, the Open311
POST, import_311) and out of every output (pages, Atom, CSV, GeoJSON, Open311 JSON and XML):
never a 500, text stored clean, and every XML document well-formed even for rows stored dirty
before text was cleaned where it enters (docs/security.md)."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.text import clean_text
from issues.models import DESCRIPTION_MAX, Issue
from tests.factories import CITY_HALL, make_issue, make_user

pytestmark = pytest.mark.django_db
HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile"
STRINGS = json.loads((HOSTILE / "strings.json").read_text(encoding="utf-8"))
# What may never be stored: C0 controls but tab and newline, DEL, C1, bidi overrides and isolates.
DIRTY = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
NAMES = sorted(STRINGS)


def _short(text: str, n: int) -> str:
    return text[:n]


def _report_form(pothole, text: str, photos=None) -> dict:
    data = {
        "service_code": pothole.service_code,
        "latitude": str(CITY_HALL[0]),
        "longitude": str(CITY_HALL[1]),
        "address": _short(text, 255),
        "description": text,
        "name": _short(text, 120),
        "email": "pat@example.net",
        "phone": "312-555-0100",
        "attribute[SIZE]": "large",
        "not_duplicate": "1",
    }
    if photos:
        data["photos"] = photos
    return data


def _assert_clean(issue: Issue) -> None:
    for field in ("description", "address", "reporter_name", "reporter_phone"):
        value = getattr(issue, field)
        assert not DIRTY.search(value), (field, value)


@pytest.mark.parametrize("name", NAMES)
def test_report_form_takes_hostile_text_without_a_500_and_stores_it_clean(
    client, pothole, wards, name
):
    response = client.post(reverse("issues:report"), _report_form(pothole, STRINGS[name]))
    assert response.status_code in (200, 302, 400), response.status_code
    for issue in Issue.objects.all():
        _assert_clean(issue)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_takes_hostile_text_without_a_500(client, pothole, api_key, wards, name, fmt):
    text = STRINGS[name]
    data = {
        "api_key": api_key.raw,
        "service_code": "pothole",
        "lat": str(CITY_HALL[0]),
        "long": str(CITY_HALL[1]),
        "attribute[SIZE]": "large",
        "description": text,
        "address_string": _short(text, 255),
        "first_name": _short(text, 50),
        "last_name": _short(text, 50),
        "phone": _short(text, 30),
    }
    response = client.post(f"/open311/v2/requests.{fmt}", data)
    assert response.status_code in (200, 201, 400), response.content[:300]
    if fmt == "xml":
        ET.fromstring(response.content)  # noqa: S314 (our own server's output)
    else:
        json.loads(response.content)
    for issue in Issue.objects.all():
        _assert_clean(issue)


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("pixel_bomb_49mp.png", "at most 40 megapixels"),
        ("script.svg.jpg", "not a picture we can read"),
    ],
)
def test_hostile_files_are_refused_by_both_doors(client, pothole, api_key, wards, filename, reason):
    data = (HOSTILE / filename).read_bytes()
    page = client.post(
        reverse("issues:report"),
        _report_form(pothole, "A hole", [SimpleUploadedFile(filename, data, "image/jpeg")]),
    )
    assert page.status_code == 400 and reason in page.content.decode()
    api = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key.raw,
            "service_code": "pothole",
            "lat": str(CITY_HALL[0]),
            "long": str(CITY_HALL[1]),
            "attribute[SIZE]": "large",
            "media": SimpleUploadedFile(filename, data, "image/jpeg"),
        },
    )
    assert api.status_code == 400 and reason in api.json()[0]["description"]
    assert not Issue.objects.exists()


def test_a_polyglot_jpeg_is_stored_as_pixels_only(client, pothole, wards):
    data = (HOSTILE / "polyglot_jpeg_html.jpg").read_bytes()
    upload = SimpleUploadedFile("poly.jpg", data, "image/jpeg")
    response = client.post(reverse("issues:report"), _report_form(pothole, "A hole", [upload]))
    assert response.status_code == 302
    [photo] = Issue.objects.get().photos.all()
    with photo.image.open("rb") as stored:
        assert b"<script>" not in stored.read()


def test_import_311_stores_or_rejects_every_hostile_row_and_stores_it_clean(tmp_path, pothole):
    path = tmp_path / "hostile.json"
    rows = [
        {
            "service_request_id": f"H-{n}",
            "service_name": f"Pothole {STRINGS[name][:40]}",
            "description": STRINGS[name],
            "address": STRINGS[name][:200],
            "lat": CITY_HALL[0],
            "long": CITY_HALL[1],
            "requested_datetime": "2025-03-01T10:00:00Z",
            "status": "open",
        }
        for n, name in enumerate(NAMES)
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_311",
        str(path),
        "--format",
        "open311",
        "--rejects",
        str(tmp_path / "rej.csv"),
        stdout=out,
        stderr=io.StringIO(),
    )
    text = out.getvalue()
    assert f"{len(NAMES)} rows read" in text, text
    stored = Issue.objects.count()
    rejects = tmp_path / "rej.csv"  # written only when a row is rejected
    rejected = len(list(csv.DictReader(rejects.open(encoding="utf-8")))) if rejects.exists() else 0
    assert stored + rejected == len(NAMES), text
    for issue in Issue.objects.all():
        _assert_clean(issue)
        assert not DIRTY.search(issue.service_type.name)


@pytest.fixture
def dirty_rows(city, pothole, graffiti):
    """Rows as they were stored before text was cleaned where it enters: written straight to the
    table. PostgreSQL cannot store NUL in text at all, so it is left out there."""
    rows = []
    for name in NAMES:
        text = STRINGS[name]
        if connection.vendor == "postgresql":
            text = text.replace("\x00", "")
        issue = make_issue(graffiti, point=CITY_HALL)
        Issue.objects.filter(pk=issue.pk).update(
            description=text[:DESCRIPTION_MAX],
            address=text[:255],
            status_notes=text[:DESCRIPTION_MAX],
            reporter_name=text[:120],
        )
        rows.append(issue)
    return rows


def _outputs(rows) -> list[tuple[str, str]]:
    """Every public output that shows issue text, with how to read it."""
    first = rows[0]
    urls = [
        ("/", "html"),
        ("/?status=open", "html"),
        (reverse("issues:detail", args=[first.public_id]), "html"),
        (reverse("wards:detail", args=[first.ward.slug]), "html"),
        (reverse("wards:open_issues", args=[first.ward.slug]), "json"),
        (reverse("opendata:embed"), "html"),
        (reverse("opendata:issues_csv"), "csv"),
        (reverse("opendata:issues_geojson"), "json"),
        (reverse("issues:viewport") + "?bbox=-88.5,41.5,-87,42.5&zoom=18", "json"),
        ("/open311/v2/requests.json", "json"),
        ("/open311/v2/requests.xml", "xml"),
        ("/open311/v2/servicerequestupdates.json", "json"),
        ("/open311/v2/servicerequestupdates.xml", "xml"),
        ("/open311/v2/services.xml", "xml"),
        ("/feeds/issues/new/", "xml"),
        ("/feeds/issues/updated/", "xml"),
        ("/feeds/wards/42/new/", "xml"),
        ("/feeds/wards/42/updated/", "xml"),
        ("/feeds/types/graffiti/new/", "xml"),
        ("/feeds/types/graffiti/updated/", "xml"),
    ]
    for issue in rows:
        urls.append((f"/open311/v2/requests/{issue.public_id}.xml", "xml"))
        urls.append((f"/open311/v2/requests/{issue.public_id}.json", "json"))
        urls.append((reverse("issues:detail", args=[issue.public_id]), "html"))
    return urls


def test_every_output_survives_rows_stored_dirty(client, dirty_rows):
    failures = []
    for url, kind in _outputs(dirty_rows):
        response = client.get(url)
        if response.status_code != 200:
            failures.append((url, response.status_code))
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        try:
            if kind == "xml":
                ET.fromstring(body)  # noqa: S314 (our own server's output)
            elif kind == "json":
                json.loads(body)
            elif kind == "csv":
                list(csv.reader(io.StringIO(body.decode("utf-8"))))
            else:
                body.decode("utf-8")
        except (ET.ParseError, ValueError) as exc:
            failures.append((url, str(exc)))
    assert not failures


def test_a_vertical_tab_no_longer_takes_the_feeds_down(client, city, pothole):
    issue = make_issue(pothole, point=CITY_HALL, description="ok", attributes={"SIZE": ["large"]})
    Issue.objects.filter(pk=issue.pk).update(description="a\x0bb\x1bc", address="Main\x0bSt")
    for url in ("/feeds/issues/new/", "/feeds/issues/updated/", "/feeds/types/pothole/new/"):
        response = client.get(url)
        assert response.status_code == 200
        feed = ET.fromstring(response.content)  # noqa: S314 (our own server's output)
        assert "abc" in ET.tostring(feed, encoding="unicode")


def test_text_is_cleaned_once_where_it_enters(client, pothole, wards, staff_user):
    from issues import services

    issue = services.create_issue(
        service_type=pothole,
        latitude=CITY_HALL[0],
        longitude=CITY_HALL[1],
        address="121\x0bN\x1b LaSalle\u202e",
        description="line one\x0bline two\r\nthree\x07",
        attributes={"SIZE": ["large"]},
        reporter_name="Pat\x1b[31m",
    )
    assert issue.address == "121 N LaSalle"
    assert issue.description == "line one\nline two\nthree"
    assert issue.reporter_name == "Pat[31m"
    comment = services.add_comment(issue=issue, author=make_user(), body="hi\x1b\x0bthere")
    assert comment.body == "hi\nthere"


@pytest.mark.parametrize(
    ("raw", "multiline", "clean"),
    [
        ("a\x00b\x1bc\x7fd\x9be", True, "abcde"),
        ("a\x0bb\x0cc\r\nd\re\u2028f", True, "a\nb\nc\nd\ne\nf"),
        ("  a\tb\nc  ", False, "a b c"),
        ("\u202eabc\u202c \u2066x\u2069", True, "abc x"),
        ("lone \ud800 surrogate", True, "lone  surrogate"),
        ("\u05e9\u05dc\u05d5\u05dd \u200f", True, "\u05e9\u05dc\u05d5\u05dd \u200f"),
        (None, True, ""),
    ],
)
def test_clean_text(raw, multiline, clean):
    assert clean_text(raw, multiline=multiline) == clean
