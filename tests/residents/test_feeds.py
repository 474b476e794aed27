"""Atom feeds: per issue, ward, type, area and alert; valid Atom, public facts only, readable in a
browser through the XSL stylesheet."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from issues import services
from issues.models import Status
from issues.notify import events
from issues.services import alerts as alert_services
from tests.factories import CITY_HALL, make_issue, make_service_type, make_user

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def assert_valid_atom(response) -> ET.Element:
    """The RFC 4287 musts a reader relies on: feed id/title/updated/author, each entry's
    id/title/updated/link, ids unique, dates in RFC 3339."""
    assert response.status_code == 200
    # application/xml, so a browser applies the stylesheet (issues/opendata/atom.py says why).
    assert response["Content-Type"].startswith("application/xml")
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert '<?xml-stylesheet href="/static/feeds/atom.xsl"' in body
    assert 'type="text/xsl"' in body.split("?>")[1]
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}").text
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    ids = []
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text, name
        assert entry.find(f"{ATOM}link").get("href").startswith("http")
        assert "T" in entry.find(f"{ATOM}updated").text
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids))
    return root


def titles(root) -> list[str]:
    return [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]


@pytest.fixture
def reports(service_type, wards):
    with events.suppressed():
        near = make_issue(service_type, point=CITY_HALL, address="1 Near St")
        far = make_issue(service_type, point=(41.95, -87.70), address="9 Far Ave")
        hidden = make_issue(service_type, point=CITY_HALL, address="5 Hidden Rd")
        hidden.is_hidden = True
        hidden.save(update_fields=["is_hidden"])
    return near, far, hidden


@pytest.fixture
def wards(db):
    from departments.models import Ward
    from tests.factories import square_boundary

    return {
        42: Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    }


def test_issue_feed_has_its_public_history_only(client, reports, staff_user, resident):
    near = reports[0]
    with events.suppressed():
        services.add_comment(issue=near, author=resident, body="Still deep")
        services.add_comment(issue=near, author=staff_user, body="SECRET note", internal=True)
        services.change_status(issue=near, to=Status.CLOSED, by=staff_user, message="Filled")
    root = assert_valid_atom(client.get(reverse("issues:issue_feed", args=[near.public_id])))
    text = ET.tostring(root, encoding="unicode")
    assert "Still deep" in text and "Filled" in text and "SECRET" not in text


def test_hidden_issue_has_no_feed(client, reports):
    assert client.get(reverse("issues:issue_feed", args=[reports[2].public_id])).status_code == 404


def test_ward_feed_lists_the_wards_public_reports(client, reports):
    root = assert_valid_atom(client.get(reverse("opendata:ward_feed_new", args=[42])))
    found = " ".join(titles(root))
    assert "1 Near St" in found and "9 Far Ave" not in found and "Hidden" not in found


def test_type_feed_lists_only_that_type(client, reports, service_type):
    other = make_service_type(service_type.department)
    root = assert_valid_atom(
        client.get(reverse("opendata:type_feed_new", args=[other.service_code]))
    )
    assert titles(root) == []
    root = assert_valid_atom(
        client.get(reverse("opendata:type_feed_new", args=[service_type.service_code]))
    )
    assert len(titles(root)) == 2


def test_area_feed_is_a_circle(client, reports):
    url = reverse("issues:area_feed") + f"?lat={CITY_HALL[0]}&lon={CITY_HALL[1]}&radius=500"
    found = " ".join(titles(assert_valid_atom(client.get(url))))
    assert "1 Near St" in found and "9 Far Ave" not in found and "Hidden" not in found


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Give lat and lon"),
        ("?lat=x&lon=1", "Give lat and lon"),
        ("?lat=91&lon=1", "between -90 and 90"),
        ("?lat=41.8&lon=-87.6&radius=50", "between 200 and 5000"),
        ("?lat=41.8&lon=-87.6&type=nope", "No service type"),
    ],
)
def test_area_feed_bad_input_is_a_clear_400(client, query, message):
    response = client.get(reverse("issues:area_feed") + query)
    assert response.status_code == 400 and message in response.text


def test_alert_feed_follows_the_alert(client, reports):
    alert = alert_services.create_alert(
        latitude=CITY_HALL[0], longitude=CITY_HALL[1], radius_m=200, user=make_user()
    )
    root = assert_valid_atom(client.get(reverse("issues:alert_feed", args=[alert.token])))
    assert len(titles(root)) == 1
    assert client.get(reverse("issues:alert_feed", args=["unknown"])).status_code == 404


def test_stylesheet_is_served_and_is_xslt(client):
    from django.contrib.staticfiles import finders

    path = finders.find("feeds/atom.xsl")
    root = ET.parse(path).getroot()  # noqa: S314
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"


def test_what_a_reporter_types_is_never_markup_in_a_feed(client, service_type, wards):
    with events.suppressed():
        issue = make_issue(service_type, description="<script>alert(1)</script> & more")
    response = client.get(reverse("issues:area_feed") + f"?lat={CITY_HALL[0]}&lon={CITY_HALL[1]}")
    root = assert_valid_atom(response)
    summary = root.find(f"{ATOM}entry/{ATOM}summary").text
    assert "<script>" not in summary and "&lt;script&gt;" in summary
    assert issue.public_id in " ".join(titles(root))
