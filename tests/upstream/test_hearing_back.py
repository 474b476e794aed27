"""Hearing back in every form a city offers: mySociety's update feed in JSON and XML, plain
GeoReport requests read by id (from the live city, and from Bloomington's real requests.json),
and the endpoint failing while it is read."""

import json
from pathlib import Path

import pytest

from accounts.services import issue_api_key
from departments.models import IntegrationKey, UpstreamEndpoint
from issues import services
from issues.models import CityUpdate, Notification, Status, StatusChange, UpstreamHealth
from issues.tasks import poll_city_systems
from tests.factories import make_department, make_issue, make_service_type, make_user
from tests.upstream.conftest import Workbench, report, send_due
from tests.upstream.live import FileServer, Rule

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def sent_and_closed_there(ours, city_system, message="Done"):
    (issue,) = report(ours.pothole)
    send_due()
    issue.refresh_from_db()
    Workbench(city_system).close(issue.external_id, message)
    return issue


def test_the_update_feed_in_xml_closes_ours(ours, city_system):
    ours.endpoint.format = "xml"
    ours.endpoint.save()
    issue = sent_and_closed_there(ours, city_system, "Patched (XML)")
    assert issue.external_id
    assert poll_city_systems() == 1
    issue.refresh_from_db()
    assert (issue.status, issue.status_notes) == (Status.CLOSED, "Patched (XML)")


def test_plain_georeport_requests_read_by_id_close_ours(ours, city_system):
    ours.endpoint.fetch_updates = False
    ours.endpoint.save()
    issue = sent_and_closed_there(ours, city_system, "Closed, read from requests")
    assert poll_city_systems() == 1
    issue.refresh_from_db()
    # A CivicFix city puts its resolution before its note in `status_notes` (issue 16).
    assert (issue.status, issue.status_notes) == (
        Status.CLOSED,
        "Fixed: The city fixed this. Closed, read from requests",
    )
    assert poll_city_systems() == 0  # the same status read again is the same update


def test_a_request_closed_here_is_not_reopened_by_the_citys_older_open(ours, city_system):
    ours.endpoint.fetch_updates = False
    ours.endpoint.save()
    (issue,) = report(ours.pothole)
    send_due()
    services.change_status(issue=issue, to=Status.CLOSED, message="Duplicate of another")
    assert poll_city_systems() == 0
    issue.refresh_from_db()
    assert issue.status == Status.CLOSED


def test_bloomingtons_real_requests_close_the_ones_closed_there(db):
    """uReport's requests.json (21 real requests, 3 closed, nulls and zeros for places) read as a
    city system's answer: ours with its closed ids close, the open ones stay as they are."""
    body = (DATA / "open311_requests_bloomington.json").read_bytes()
    requests = json.loads(body)
    server = FileServer({"/crm/open311/v2/requests.json": body})
    try:
        endpoint = UpstreamEndpoint.objects.create(
            name="Bloomington uReport",
            base_url=f"{server.url}/crm/open311/v2/",
            jurisdiction_id="bloomington.in.gov",
        )
        department = make_department("Public Works", upstream=endpoint)
        service_type = make_service_type(department)
        ours = {}
        closed = [r for r in requests if r["status"] == "closed"]
        chosen = {r["service_request_id"]: r for r in requests[:8] + closed}
        for request in chosen.values():
            issue = make_issue(service_type)
            issue.external_source = f"upstream:{endpoint.pk}"
            issue.external_id = request["service_request_id"]
            issue.save(update_fields=["external_source", "external_id"])
            ours[request["service_request_id"]] = (issue, request["status"])
        assert poll_city_systems() == 3
        for issue, status in ours.values():
            issue.refresh_from_db()
            assert issue.status == (Status.CLOSED if status == "closed" else Status.OPEN)
        assert set(
            StatusChange.objects.filter(source="Bloomington uReport").values_list(
                "to_status", flat=True
            )
        ) == {Status.CLOSED}
    finally:
        server.close()


def test_a_city_that_cannot_be_read_counts_as_failing_and_changes_nothing(ours, city_system, proxy):
    issue = sent_and_closed_there(ours, city_system)
    proxy.add(Rule("GET", "/servicerequestupdates", "fail_500", times=5))
    for _ in range(5):
        assert poll_city_systems() == 0
    issue.refresh_from_db()
    assert issue.status == Status.OPEN
    assert UpstreamHealth.objects.get().consecutive_failures == 5
    assert Notification.objects.filter(event="upstream_failing").count() == 1
    assert poll_city_systems() == 1  # it answers again: the close arrives late, not lost
    assert UpstreamHealth.objects.get().consecutive_failures == 0


def test_an_update_pushed_and_then_polled_applies_once(ours, city_system, client):
    """The city's system pushes an update and the poll reads it again (as with FixMyStreet's
    servers that do both): one change."""
    issue = sent_and_closed_there(ours, city_system, "Closed there")
    key, raw = issue_api_key(owner=make_user(), name="City 311")
    IntegrationKey.objects.create(api_key=key, department=ours.streets)
    feed = city_system.get_json("/open311/v2/servicerequestupdates.json")
    (update,) = [u for u in feed if u["service_request_id"] == issue.external_id]
    response = client.post(
        "/open311/v2/servicerequestupdates.json",
        {
            "api_key": raw,
            "service_request_id": issue.external_id,
            "update_id": update["update_id"],
            "status": update["status"],
            "description": update["description"],
        },
    )
    assert response.status_code == 200
    assert poll_city_systems() == 0
    assert CityUpdate.objects.filter(issue=issue).count() == 1
    issue.refresh_from_db()
    assert issue.status == Status.CLOSED


@pytest.mark.parametrize(
    ("word", "before", "after"),
    [
        ("INVESTIGATING", Status.OPEN, Status.ACKNOWLEDGED),
        ("in_progress", Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        ("FIXED", Status.IN_PROGRESS, Status.CLOSED),
        ("NOT_COUNCILS_RESPONSIBILITY", Status.OPEN, Status.CLOSED),
        ("open", Status.CLOSED, Status.OPEN),
        ("open", Status.IN_PROGRESS, Status.IN_PROGRESS),
        ("in progress", Status.CLOSED, Status.OPEN),
        ("investigating", Status.IN_PROGRESS, Status.IN_PROGRESS),
        ("closed", Status.ARCHIVED, Status.ARCHIVED),
    ],
)
def test_the_citys_words_move_our_workflow_only_where_it_allows(service_type, word, before, after):
    issue = make_issue(service_type)
    path = {
        Status.ACKNOWLEDGED: [Status.ACKNOWLEDGED],
        Status.IN_PROGRESS: [Status.IN_PROGRESS],
        Status.CLOSED: [Status.CLOSED],
        Status.ARCHIVED: [Status.CLOSED, Status.ARCHIVED],
    }.get(before, [])
    for step in path:
        services.change_status(issue=issue, to=step)
    services.apply_city_update(
        issue=issue,
        update_key="u1",
        status_word=word,
        text="",
        source="City 311",
        channel="poll",
    )
    issue.refresh_from_db()
    assert issue.status == after
