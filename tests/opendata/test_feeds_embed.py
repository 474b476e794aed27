"""Atom feeds per ward and per type, and the embeddable map's framing rules."""

import xml.etree.ElementTree as ET

from django.utils.http import http_date

from issues import services
from issues.models import Issue, Resolution, Status
from tests.factories import make_issue

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(client, url):
    response = client.get(url)
    assert response.status_code == 200
    # An XML type, so a browser applies the feed's stylesheet (issues/opendata/feeds.py).
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own server's output)
    return root, root.findall(f"{ATOM}entry")


def test_new_issues_feed_lists_public_issues_newest_first(client, city):
    root, items = entries(client, "/feeds/issues/new/")
    assert root.tag == f"{ATOM}feed"
    links = [e.find(f"{ATOM}link").get("href") for e in items]
    assert len(links) == 2
    ids = [link.split("/")[-2] for link in links]
    assert set(ids) == {city["public"].public_id, city["closed"].public_id}


def test_ward_and_type_feeds_are_scoped(client, city):
    _root, items = entries(client, "/feeds/wards/42/new/")
    assert [e.find(f"{ATOM}link").get("href").split("/")[-2] for e in items] == [
        city["public"].public_id
    ]
    _root, items = entries(client, "/feeds/types/graffiti/updated/")
    assert [e.find(f"{ATOM}link").get("href").split("/")[-2] for e in items] == [
        city["closed"].public_id
    ]


def test_unknown_ward_or_type_feed_is_404(client, db):
    assert client.get("/feeds/wards/99/new/").status_code == 404
    assert client.get("/feeds/types/nope/new/").status_code == 404


def test_updated_feed_gives_each_change_its_own_entry(client, city, staff_user):
    _root, before = entries(client, "/feeds/issues/updated/")
    ids_before = {e.findtext(f"{ATOM}id") for e in before}
    services.change_status(issue=city["public"], to=Status.IN_PROGRESS, by=staff_user)
    _root, after = entries(client, "/feeds/issues/updated/")
    assert after[0].find(f"{ATOM}link").get("href").split("/")[-2] == city["public"].public_id
    assert after[0].findtext(f"{ATOM}id") not in ids_before


def test_feed_summary_escapes_what_reporters_type(client, graffiti, wards):
    make_issue(graffiti, description="<script>alert(1)</script>")
    response = client.get("/feeds/issues/new/")
    assert b"<script>" not in response.content
    _root, items = entries(client, "/feeds/issues/new/")
    assert "&lt;script&gt;" in items[0].findtext(f"{ATOM}summary")


def test_embed_is_the_only_frameable_page(client, db):
    response = client.get("/embed/", {"status": "open"})
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors *"
    for url in ("/", "/data/", "/feeds/issues/new/"):
        assert client.get(url)["X-Frame-Options"] == "DENY"


def test_embed_carries_filters_to_the_viewport_endpoint(client, wards):
    response = client.get("/embed/", {"status": "open", "ward": "42", "type": "pothole"})
    config = response.context["config"]
    assert config["viewportUrl"] == "/map/issues.geojson"
    assert config["filters"] == {"status": "open", "type": "pothole", "ward": "42"}
    assert config["bounds"][0][0] < 41.88365 < config["bounds"][1][0]
    assert b"leaflet/leaflet.js" in response.content
    assert b"unpkg" not in response.content and b"cdn" not in response.content.lower()


def test_embed_explains_bad_filters(client, db):
    response = client.get("/embed/", {"ward": "x"})
    assert response.status_code == 400
    assert b"x" in response.content


def test_embed_snippet_partial_takes_a_querystring(rf, db):
    from django.template.loader import render_to_string

    request = rf.get("/wards/ward-3/")
    html = render_to_string(
        "opendata/_embed_snippet.html", {"querystring": "ward=3&status=open"}, request=request
    )
    # Shown as text in a textarea: the reader sees and copies <iframe src="...?ward=3&status=open">
    assert '&lt;iframe src="http://testserver/embed/?ward=3&amp;status=open"' in html


def test_feed_entry_reads_its_row_as_before(client, graffiti, staff_user, settings):
    """Issue 19: the feeds read values rows, not model instances, and build no URL per entry.
    The entry must still say what the syndication framework wrote: titles, the resolution and
    the official update in the summary, translated names, and ids readers have stored."""
    graffiti.translations = {"name": {"es": "Pintadas"}}
    graffiti.save(update_fields=["translations"])
    department = graffiti.department
    department.translations = {"name": {"es": "Calles y Limpieza"}}
    department.save(update_fields=["translations"])
    issue = make_issue(graffiti, description="Tag on the wall")  # no wards: in none
    Issue.objects.filter(pk=issue.pk).update(
        address="",
        status=Status.CLOSED,
        resolution=Resolution.REFERRED,
        referred_to="the CTA",
        status_notes="Passed on <today>",
    )
    issue.refresh_from_db()

    response = client.get("/feeds/issues/updated/")
    assert response["Last-Modified"] == http_date(issue.updated_at.timestamp())
    _root, items = entries(client, "/feeds/issues/updated/")
    (entry,) = items
    # No ward and no address: the title has no "where".
    assert entry.findtext(f"{ATOM}title") == "Graffiti Removal (Closed)"
    # The link follows the host asked; the id is SITE_URL's and carries the change time.
    assert entry.find(f"{ATOM}link").get("href") == f"http://testserver/issues/{issue.public_id}/"
    assert entry.findtext(f"{ATOM}id") == (
        f"{settings.SITE_URL}/issues/{issue.public_id}/#updated-{issue.updated_at:%Y%m%dT%H%M%S.%f}"
    )
    summary = entry.findtext(f"{ATOM}summary")
    assert "<p>Tag on the wall</p>" in summary
    assert "<strong>Not the city&#x27;s responsibility</strong>" in summary
    assert "referred to the CTA" in summary
    assert f"Official update from {department.name}:" in summary
    assert "Passed on &lt;today&gt;" in summary  # what staff typed is escaped too
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["Graffiti Removal"]

    _root, items = entries(client, "/feeds/issues/new/")
    assert items[0].findtext(f"{ATOM}id") == f"{settings.SITE_URL}/issues/{issue.public_id}/"

    spanish = client.get("/feeds/issues/new/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Pintadas" in spanish
    assert "Calles y Limpieza" in spanish
