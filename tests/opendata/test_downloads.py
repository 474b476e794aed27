"""CSV and GeoJSON downloads: streamed, filtered like the map, public columns only."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from issues.models import Issue
from issues.notify import events
from tests.factories import make_issue


def body(response) -> str:
    assert response.streaming, "downloads must stream"
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(client, **params):
    response = client.get("/data/issues.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(body(response).lstrip("\ufeff"))))


@pytest.mark.pgbouncer  # the smoke set run through PgBouncer (.ci/run)
def test_csv_has_documented_columns_and_public_rows(client, city):
    from issues.opendata.exports import COLUMNS

    rows = csv_rows(client)
    assert list(rows[0].keys()) == [c.name for c in COLUMNS]
    assert {r["service_request_id"] for r in rows} == {
        city["public"].public_id,
        city["closed"].public_id,
    }
    public = next(r for r in rows if r["service_request_id"] == city["public"].public_id)
    assert public["status"] == "acknowledged" and public["status_group"] == "open"
    assert public["ward"] == "42"
    assert public["requested_datetime"].endswith(("-05:00", "-06:00"))


def test_csv_uses_the_map_filters(client, city):
    assert [r["service_request_id"] for r in csv_rows(client, status="closed")] == [
        city["closed"].public_id
    ]
    assert [r["service_request_id"] for r in csv_rows(client, type="pothole")] == [
        city["public"].public_id
    ]
    assert [r["service_request_id"] for r in csv_rows(client, ward="47")] == [
        city["closed"].public_id
    ]
    Issue.objects.filter(pk=city["closed"].pk).update(
        requested_at=timezone.now() - timedelta(days=40)
    )
    recent = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert [r["service_request_id"] for r in csv_rows(client, start=recent)] == [
        city["public"].public_id
    ]
    assert [r["service_request_id"] for r in csv_rows(client, end=recent)] == [
        city["closed"].public_id
    ]


def test_bad_filters_are_a_400_that_says_why(client, db):
    for url in ("/data/issues.csv", "/data/issues.geojson"):
        response = client.get(url, {"ward": "north", "start": "soon"})
        assert response.status_code == 400
        text = response.content.decode()
        assert "north" in text and "soon" in text


def test_csv_defuses_spreadsheet_formulas(client, graffiti, wards):
    make_issue(graffiti, description='=HYPERLINK("http://evil.example","click")')
    row = csv_rows(client)[0]
    assert row["description"].startswith("'=")


def test_geojson_is_a_feature_collection_with_points_and_null_geometry(client, city, graffiti):
    no_point = make_issue(graffiti, point=None, address="2 N State St")
    response = client.get("/data/issues.geojson")
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(body(response))
    assert data["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in data["features"]}
    public = by_id[city["public"].public_id]
    assert public["geometry"] == {
        "type": "Point",
        "coordinates": [city["public"].longitude, city["public"].latitude],
    }
    assert public["properties"]["url"].endswith(f"/issues/{city['public'].public_id}/")
    assert by_id[no_point.public_id]["geometry"] is None


def test_geojson_of_nothing_is_still_valid(client, db):
    assert json.loads(body(client.get("/data/issues.geojson"))) == {
        "type": "FeatureCollection",
        "features": [],
    }


def test_export_reads_in_a_constant_number_of_queries(
    client, graffiti, wards, django_assert_num_queries
):
    with events.suppressed():
        for _ in range(25):
            make_issue(graffiti)
    # Whether the download is large (issues/opendata/files.py: a LIMITed count), then the rows:
    # on PostgreSQL the COPY after its time zone is set, in a savepoint here (inside the test's
    # transaction), rolled back: SAVEPOINT, set_config, COPY, ROLLBACK TO and RELEASE.
    queries = 6 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(queries):
        assert len(csv_rows(client)) == 25
    with django_assert_num_queries(queries):
        assert len(json.loads(body(client.get("/data/issues.geojson")))["features"]) == 25


def test_data_page_describes_fields_and_links_filtered_downloads(client, city):
    response = client.get("/data/", {"status": "open", "ward": "42"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "service_request_id" in page and "requested_datetime" in page
    assert "/data/issues.csv?status=open&amp;ward=42" in page
    assert "/data/issues.geojson?status=open&amp;ward=42" in page
    assert "/embed/?status=open&amp;ward=42" in page
    assert "/feeds/wards/42/new/" in page


def test_data_page_explains_bad_filters(client, db):
    response = client.get("/data/", {"end": "tomorrow-ish"})
    assert response.status_code == 400
    assert "tomorrow-ish" in response.content.decode()


def test_data_page_advertises_its_feeds(client, db):
    page = client.get("/data/").content.decode()
    assert 'type="application/atom+xml"' in page and "/feeds/issues/new/" in page


@pytest.mark.parametrize(
    ("site_name", "disposition"),
    [
        # ASCII names byte for byte as before (scripts and the docs name these files).
        ("CivicFix", 'attachment; filename="civicfix-issues-{date}.csv"'),
        # Not ASCII: RFC 6266's filename*, which a quoted name cannot carry.
        ("Łódź 311", "attachment; filename*=utf-8''%C5%82%C3%B3d%C5%BA%20311-issues-{date}.csv"),
    ],
)
def test_the_download_is_named_as_rfc_6266_says(client, city, settings, site_name, disposition):
    settings.SITE_NAME = site_name
    response = client.get("/data/issues.csv")
    date = f"{timezone.localdate():%Y-%m-%d}"
    assert response["Content-Disposition"] == disposition.format(date=date)
