"""Hostile filter values are explained, never a 500, on every page that shares IssueFilters."""

import pytest

from issues.filters import IssueFilters

HUGE = "99999999999999999999"


def test_huge_ward_number_is_refused_with_a_message():
    f = IssueFilters.from_params({"ward": f"3,{HUGE}"})
    assert f.wards == [3]
    assert HUGE in f.errors["ward"]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/data/issues.csv",
        "/data/issues.geojson",
        "/embed/",
        "/map/issues.geojson?bbox=-88,41.6,-87.5,42.1&zoom=11&",
    ],
)
def test_pages_answer_a_huge_ward_without_a_server_error(client, db, url):
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}ward={HUGE}")
    assert response.status_code < 500
    if response.streaming:
        b"".join(response.streaming_content)  # the stream itself must not fail halfway


def test_open311_post_with_nul_in_service_code_is_a_404(client, db):
    from accounts.models import ApiKey
    from tests.factories import make_user

    _key, raw = ApiKey.issue(owner=make_user(), name="app")
    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": raw, "service_code": "pot\x00hole", "lat": "41.88", "long": "-87.63"},
    )
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


HOSTILE_DATES = [
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "1899-12-31",
    "2026-02-30",
    "2026-13-01",
    "99999999",
    "-1",
    "2026-05-01\x00",
    "\x00",
]
FILTER_URLS = [
    "/",
    "/data/issues.csv",
    "/data/issues.geojson",
    "/embed/",
    "/map/issues.geojson?bbox=-88,41.6,-87.5,42.1&zoom=11",
    "/map/issues.geojson?bbox=-88,41.6,-87.5,42.1&zoom=18",
]


@pytest.mark.parametrize("url", FILTER_URLS)
@pytest.mark.parametrize("param", ["start", "end", "closed_start", "closed_end"])
def test_hostile_dates_in_every_public_filter_url_are_explained_not_a_500(client, db, url, param):
    from tests.factories import make_department, make_issue, make_service_type

    make_issue(make_service_type(make_department()))
    sep = "&" if "?" in url else "?"
    for value in HOSTILE_DATES:
        response = client.get(f"{url}{sep}{param}={value}")
        assert response.status_code < 500, (url, param, value)
        if response.streaming:
            b"".join(response.streaming_content)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1899-12-31"])
def test_a_date_outside_the_years_is_dropped_with_a_reason(value):
    f = IssueFilters.from_params({"start": value, "end": value})
    assert f.start is None and f.end is None
    assert "outside the years 1900 to 2999" in f.errors["start"]


def test_dates_at_the_edges_are_kept():
    f = IssueFilters.from_params({"start": "1900-01-01", "end": "2999-12-31"})
    assert (f.start.year, f.end.year) == (1900, 2999) and not f.errors


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/types/pot%00hole/new/",
        "/feeds/types/pot%00hole/updated/",
        "/issues/AB%00CD/",
        "/adopters/AB%00/",
        "/wards/ward%00/",
        "/assets/lights/x%00/",
        "/fixed/tok%00en/yes/",
    ],
)
def test_nul_in_any_path_is_a_404(client, db, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_errors_raised_before_a_view_answer_in_the_api_format(client, db, fmt):
    missing = client.get(f"/open311/v2/requests/AB%00CD.{fmt}")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json" if fmt == "json" else "text/xml")
    # More fields than Django reads (DATA_UPLOAD_MAX_NUMBER_FIELDS): refused before the view.
    body = "&".join(f"f{n}=x" for n in range(1100))
    broken = client.generic(
        "POST",
        f"/open311/v2/requests.{fmt}",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert broken.status_code == 400
    assert b"<html" not in broken.content.lower()
    if fmt == "json":
        assert broken.json()[0]["code"] == 400
    else:
        assert b"<errors>" in broken.content
