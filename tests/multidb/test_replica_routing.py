"""Reads and writes against a real streaming replica (DATABASE_REPLICA_URL; .ci/replica makes
one): public reads go to the replica, writes and the writer's reads to the primary, and lag
(replay paused on the replica) shows only where it is accepted."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import issue_api_key
from config.dbrouting import PIN_COOKIE, RequestRouting, _routing
from issues.models import Issue
from tests.factories import CITY_HALL, make_issue, make_user
from tests.multidb.conftest import NO_REPLICA, REPLICA_URL, replica_caught_up, replication_paused
from tests.pages.conftest import pothole, report_data  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.skipif(not REPLICA_URL, reason=NO_REPLICA),
    pytest.mark.replica,
    # Committed rows (transaction=True): a replica sees only what the primary committed.
    pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, "replica"]),
]


def tables(captured) -> str:
    return " ".join(query["sql"] for query in captured.captured_queries)


def test_a_public_page_is_read_from_the_replica(client, replica, service_type):
    issue = make_issue(service_type, description="Read me from the replica")
    replica_caught_up()
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        response = client.get(issue.get_absolute_url())
        api = client.get(f"/open311/v2/requests/{issue.public_id}.json")
    assert response.status_code == 200
    assert "Read me from the replica" in response.content.decode()
    assert api.status_code == 200 and api.json()[0]["service_request_id"] == issue.public_id
    assert '"issues_issue"' in tables(on_replica)
    assert on_primary.captured_queries == []


def test_a_write_goes_to_the_primary_and_pins_the_writer(client, replica, pothole):  # noqa: F811
    _key, raw = issue_api_key(owner=make_user("developer@example.org"), name="Test app")
    with replication_paused():
        response = client.post(
            "/open311/v2/requests.json",
            {
                "api_key": raw,
                "service_code": "pothole",
                "lat": str(CITY_HALL[0]),
                "long": str(CITY_HALL[1]),
                "attribute[SIZE]": "large",
                "description": "Posted while the replica lags",
            },
        )
        assert response.status_code == 200, response.content
        public_id = response.json()[0]["service_request_id"]
        assert Issue.objects.using(DEFAULT_DB_ALIAS).filter(public_id=public_id).exists()
        assert not Issue.objects.using("replica").filter(public_id=public_id).exists()
        assert response.cookies[PIN_COOKIE]["max-age"] == 15
        # The same client (it kept the cookie) reads its new request back from the primary.
        again = client.get(f"/open311/v2/requests/{public_id}.json")
        assert again.status_code == 200 and again.json()[0]["service_request_id"] == public_id


def test_the_reporter_sees_their_new_report_at_once_while_the_replica_lags(
    client,
    replica,
    pothole,  # noqa: F811
    chicago_wards,
):
    stranger = Client()
    with replication_paused():
        response = client.post(reverse("issues:report"), report_data(pothole))
        assert response.status_code == 302
        issue = Issue.objects.get()
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert issue.public_id in page.content.decode()
        # Someone else, during the lag, reads the replica: not there yet. Accepted.
        assert stranger.get(issue.get_absolute_url()).status_code == 404
        # A browser holding only the pin cookie (no session) reads the primary too.
        pinned = Client()
        pinned.cookies[PIN_COOKIE] = "1"
        assert pinned.get(issue.get_absolute_url()).status_code == 200
    replica_caught_up()
    assert stranger.get(issue.get_absolute_url()).status_code == 200


def test_staff_screens_read_the_primary(client, replica, service_type, admin_user):
    client.force_login(admin_user)
    with replication_paused():
        issue = make_issue(service_type, description="Fresh for the workbench")
        page = client.get(reverse("admin:issues_issue_change", args=[issue.pk]))
        assert page.status_code == 200
        assert "Fresh for the workbench" in page.content.decode()
        # The public page, for an anonymous reader, lags.
        assert Client().get(issue.get_absolute_url()).status_code == 404


def test_reads_inside_a_transaction_or_after_a_write_go_to_the_primary(replica, service_type):
    token = _routing.set(RequestRouting(public_read=True))
    try:
        with replication_paused():
            issue = make_issue(service_type)
            # make_issue wrote inside this "request": what follows reads the primary.
            assert Issue.objects.filter(pk=issue.pk).exists()
            _routing.set(RequestRouting(public_read=True))
            assert not Issue.objects.filter(pk=issue.pk).exists()  # the lagging replica
            with transaction.atomic():
                assert Issue.objects.filter(pk=issue.pk).exists()
    finally:
        _routing.reset(token)


def test_without_a_request_everything_reads_the_primary(replica, service_type):
    with replication_paused():
        issue = make_issue(service_type)
        assert Issue.objects.filter(pk=issue.pk).exists()
