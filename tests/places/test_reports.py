"""Reports with only a typed address are placed when they are made (the web form, an Open311
POST with address_string alone); when nothing matches they are kept for triage, with the
reason written for staff."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.services import issue_api_key
from issues.models import Comment, Issue
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def report(service_type, **extra) -> dict:
    data = {
        "service_code": service_type.service_code,
        "latitude": "",
        "longitude": "",
        "address": "",
        "description": "A deep pothole",
        "name": "Pat Reporter",
        "email": "pat@example.net",
    }
    data.update(extra)
    return data


def test_a_typed_intersection_alone_is_placed_warded_and_kept(client, gazetteer, service_type):
    response = client.post("/report/", report(service_type, address="Ashland and Addison"))
    assert response.status_code == 302, response.content.decode()[:2000]
    issue = Issue.objects.get()
    assert issue.ward.number == 47 and not issue.needs_triage
    assert (issue.latitude, issue.longitude) == (41.94699, -87.66886)
    assert issue.address == "Ashland and Addison"  # what the person typed is kept


def test_a_typed_house_number_is_placed_on_the_grid(client, gazetteer, service_type):
    client.post("/report/", report(service_type, address="1600 N Milwaukee Ave"))
    issue = Issue.objects.get()
    assert issue.ward is not None and abs(issue.latitude - 41.910) < 0.001


def test_an_address_that_matches_nothing_is_kept_for_triage_with_the_reason(
    client, gazetteer, service_type
):
    response = client.post("/report/", report(service_type, address="Behind the old mill"))
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.latitude is None and issue.needs_triage
    note = Comment.objects.get(issue=issue)
    assert note.is_internal and "Behind the old mill" in note.body
    assert "place it on the map" in note.body


def test_an_open311_post_with_only_an_address_string_is_placed(client, gazetteer, service_type):
    _key, raw = issue_api_key(owner=make_user("dev@example.org"), name="App")
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": raw,
            "service_code": service_type.service_code,
            "address_string": "N Milwaukee Ave at W North Ave",
            "description": "Streetlight out",
            "email": "rosa@example.org",
        },
    )
    assert response.status_code == 200, response.content
    issue = Issue.objects.get()
    assert issue.ward is not None and not issue.needs_triage
    got = client.get(f"/open311/v2/requests/{issue.public_id}.json").json()[0]
    assert got["address"] == "N Milwaukee Ave at W North Ave"
    assert float(got["lat"]) == pytest.approx(issue.latitude)


def test_an_imported_row_with_only_an_address_is_placed(gazetteer, service_type, tmp_path):
    path = tmp_path / "requests.json"
    rows = [
        {
            "service_request_id": "R1",
            "service_code": service_type.service_code,
            "service_name": service_type.name,
            "status": "open",
            "address": "Kedzie & North",
            "requested_datetime": "2025-05-01T14:00:00Z",
        },
        {
            "service_request_id": "R2",
            "service_code": service_type.service_code,
            "service_name": service_type.name,
            "status": "open",
            "address": "Nowhere Lane and Elsewhere Court",
            "requested_datetime": "2025-05-01T14:00:00Z",
        },
    ]
    path.write_text(json.dumps(rows))
    out = StringIO()
    call_command(
        "import_311", str(path), "--format", "open311", "--rejects", str(tmp_path / "r.csv"),
        "--no-progress", stdout=out,
    )  # fmt: skip
    placed = Issue.objects.get(external_id="R1")
    assert placed.ward.number == 26 and not placed.needs_triage
    kept = Issue.objects.get(external_id="R2")
    assert kept.latitude is None and kept.needs_triage
