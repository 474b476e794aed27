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
