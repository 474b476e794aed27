"""The open data page names its licence, counts its rows, says when it last changed, defines the
dashboards' figures and shows example calls."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from issues import services
from issues.models import Status
from tests.dashboards.conftest import load_some_wards
from tests.factories import make_issue, make_service_type


def test_licence_rows_last_update_and_definitions(client, db, department, settings):
    pothole = make_service_type(department, code="pothole", name="Pothole")
    issues = [
        make_issue(pothole, requested_at=timezone.now() - timedelta(days=d)) for d in (1, 2, 3)
    ]
    services.change_status(issue=issues[0], to=Status.CLOSED)
    hidden = make_issue(pothole)
    services.set_hidden(target=hidden, hidden=True, by=None, reason="Spam")

    response = client.get("/data/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Creative Commons Attribution 4.0 International (CC BY 4.0)" in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in html
    assert response.context["rows_total"] == 3  # the hidden one is not public data
    assert (response.context["rows_open"], response.context["rows_closed"]) == (2, 1)
    assert "3 public requests: 2 open, 1 closed." in html
    latest = max(i.refresh_from_db() or i.updated_at for i in issues)
    assert response.context["last_updated"] == latest
    assert 'id="definitions"' in html and "Median days to fix" in html
    assert "A hotspot is a cluster of reports of one type" in html
    assert "/data/issues.csv?status=open&amp;type=pothole" in html


def test_a_city_sets_its_own_licence(client, db, settings):
    settings.OPEN_DATA_LICENCE = "Open Data Commons Public Domain Dedication and License (PDDL)"
    settings.OPEN_DATA_LICENCE_URL = "https://opendatacommons.org/licenses/pddl/"
    html = client.get("/data/").content.decode()
    assert "Public Domain Dedication and License" in html
    assert "No requests yet." in html


def test_feeds_name_their_stylesheet(client, db):
    body = client.get("/feeds/issues/new/").content.decode()
    assert '<?xml-stylesheet href="/static/feeds/atom.xsl"' in body
    assert 'type="text/xsl"' in body
    assert body.index("<?xml-stylesheet") < body.index("<feed")


def test_embed_has_a_legend_says_what_it_shows_and_fits_the_city(client, db, department):
    wards = load_some_wards()
    make_service_type(department, code="pothole", name="Pothole")
    response = client.get("/embed/?type=pothole&status=open")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="embed-legend"' in html
    for label in ("Open", "Acknowledged", "In progress", "Closed"):
        assert f"</span>{label}</li>" in html
    assert "Pothole · open only" in html
    # No ward chosen: the map fits every ward (the city's whole extent), not a fixed view.
    south = min(w.min_lat for w in wards)
    assert response.context["config"]["bounds"][0][0] == south
    ward = client.get(f"/embed/?ward={wards[0].number}")
    assert ward.context["config"]["bounds"][0][0] == wards[0].min_lat
    assert f"Ward {wards[0].number}" in ward.content.decode()
