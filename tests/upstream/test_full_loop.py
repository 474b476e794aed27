"""The story the connection exists for: a resident reports here, the city's system receives it with
our answers and gives its number, the city's crew closes it there, our beat job hears it, and the
people following the report are emailed once."""

import urllib.request

import pytest
from django.core import mail

from issues import services
from issues.models import CityUpdate, Status, StatusChange, UpstreamSend
from issues.notify import subscriptions
from issues.tasks import poll_city_systems
from tests.factories import make_user
from tests.upstream.conftest import Workbench, report, send_due

pytestmark = pytest.mark.django_db


def emails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def test_report_reaches_the_city_and_its_closing_reaches_each_follower_once(
    ours, city_system, django_capture_on_commit_callbacks
):
    (issue,) = report(ours.pothole)
    subscriptions.follow_issue(issue=issue, user=make_user("neighbour@example.org"))

    assert send_due() == {"sent": 1}
    issue.refresh_from_db()
    their_id = issue.external_id
    assert their_id and issue.external_source == f"upstream:{ours.endpoint.pk}"
    (theirs,) = city_system.get_json(f"/open311/v2/requests/{their_id}.json")
    assert theirs["service_code"] == "POT"
    assert theirs["lat"] == pytest.approx(issue.latitude)
    assert theirs["address"] == issue.address
    assert issue.public_id in theirs["description"] and "Deep pothole" in theirs["description"]
    # Our answer "l" to SIZE arrived as their HOLE_SIZE "large": their page shows it.
    with urllib.request.urlopen(f"{city_system.url}/issues/{their_id}/", timeout=20) as page:
        assert "How big is the hole?" in (html := page.read().decode()) and "Large" in html

    Workbench(city_system).close(their_id, "Filled by the night crew")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert poll_city_systems() == 1
    issue.refresh_from_db()
    assert issue.status == Status.CLOSED
    change = StatusChange.objects.filter(issue=issue).latest("pk")
    assert (change.to_status, change.message, change.source, change.changed_by) == (
        Status.CLOSED,
        "Filled by the night crew",
        "City 311",
        None,
    )
    assert len(emails_to("neighbour@example.org")) == 1
    assert len(emails_to("resident0@example.org")) == 1
    assert "Filled by the night crew" in emails_to("neighbour@example.org")[0].body

    # Beat runs again, and again: the same update changes nothing and tells nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert poll_city_systems() == 0
        assert poll_city_systems() == 0
    assert len(emails_to("neighbour@example.org")) == 1
    assert StatusChange.objects.filter(issue=issue).count() == 2  # reported, closed
    # Nothing we heard was sent back to the city.
    assert UpstreamSend.objects.filter(issue=issue).count() == 1


def test_a_public_comment_here_reaches_the_city_and_is_not_heard_back_as_theirs(
    ours, city_system, resident, django_capture_on_commit_callbacks
):
    (issue,) = report(ours.pothole)
    send_due()
    issue.refresh_from_db()
    services.add_comment(issue=issue, author=resident, body="It is getting deeper")
    assert send_due() == {"sent": 1}
    update = UpstreamSend.objects.get(issue=issue, kind="update")
    assert update.remote_id.startswith("s")
    # In the city's CivicFix it is a note on the request, from our integration key.
    feed = city_system.get_json("/open311/v2/servicerequestupdates.json")
    notes = [u for u in feed if u["service_request_id"] == issue.external_id]
    assert [(u["update_id"], u["description"]) for u in notes] == [
        (update.remote_id, "It is getting deeper")
    ]
    # Our beat reads the city's feed: our own comment is not applied to us as the city's.
    with django_capture_on_commit_callbacks(execute=True):
        assert poll_city_systems() == 0
    assert StatusChange.objects.filter(issue=issue).count() == 1
    assert CityUpdate.objects.get(issue=issue).channel == CityUpdate.Channel.ECHO


def test_a_status_change_here_moves_the_citys_request_too(ours, city_system, staff_user):
    ours.streets.staff.add(staff_user)
    (issue,) = report(ours.pothole)
    send_due()
    services.change_status(issue=issue, to=Status.IN_PROGRESS, by=staff_user, message="On it")
    assert send_due() == {"sent": 1}
    issue.refresh_from_db()
    feed = city_system.get_json("/open311/v2/servicerequestupdates.json")
    mine = [u for u in feed if u["service_request_id"] == issue.external_id]
    assert [(u["status"], u["description"]) for u in mine] == [("IN_PROGRESS", "On it")]


def test_the_city_reference_is_on_the_issue_page_and_finds_it_in_the_tracker(
    ours, client, city_system
):
    (issue,) = report(ours.pothole)
    send_due()
    issue.refresh_from_db()
    page = client.get(issue.get_absolute_url()).content.decode()
    assert "City reference" in page and issue.external_id in page
    response = client.get("/track/", {"id": issue.external_id})
    assert response.status_code == 302 and response["Location"] == issue.get_absolute_url()


def test_the_city_reference_finds_the_issue_in_the_staff_queue(ours, client, staff_user):
    ours.streets.staff.add(staff_user)
    issues = report(ours.pothole, 2)
    send_due()
    issues[0].refresh_from_db()
    client.force_login(staff_user)
    listing = client.get("/admin/issues/issue/", {"q": issues[0].external_id}).content.decode()
    assert issues[0].public_id in listing and issues[1].public_id not in listing
    sent = client.get("/admin/issues/issue/", {"city": "sent"}).content.decode()
    assert issues[0].public_id in sent and issues[1].public_id in sent
