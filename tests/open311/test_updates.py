"""mySociety's update extension on our side: the public feed (GET servicerequestupdates, JSON and
XML) and the push a department's own system makes (POST, with an integration key)."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import issue_api_key
from departments.models import IntegrationKey
from issues import services
from issues.models import CityUpdate, Status, StatusChange
from issues.notify import subscriptions
from tests.factories import make_department, make_issue, make_user
from tests.open311.conftest import HIDDEN_TEXT, SECRET_NOTE

pytestmark = pytest.mark.django_db

FEED = "/open311/v2/servicerequestupdates"


@pytest.fixture
def integration(department):
    """An integration key of the issues' department, as its own system holds it."""
    key, raw = issue_api_key(owner=make_user("crm@city.example"), name="Streets CRM")
    IntegrationKey.objects.create(api_key=key, department=department)
    key.raw = raw
    return key


def push(client, key, **form):
    data = {"api_key": key.raw if key else "", **form}
    return client.post(f"{FEED}.json", data)


# -- the feed --------------------------------------------------------------------------------


def test_feed_lists_status_changes_and_public_comments_oldest_first(client, city, staff_user):
    public = city["public"]
    services.add_comment(issue=public, author=staff_user, body="Cones placed")
    body = client.get(f"{FEED}.json").json()
    mine = [u for u in body if u["service_request_id"] == public.public_id]
    assert [(u["status"], u["description"]) for u in mine] == [
        ("INVESTIGATING", "Crew on the way"),
        ("INVESTIGATING", "Cones placed"),
    ]
    assert all(u["update_id"][0] in "sc" and u["updated_datetime"] for u in mine)
    times = [u["updated_datetime"] for u in body]
    assert times == sorted(times)


def test_feed_never_shows_internal_notes_hidden_issues_or_the_submission(client, city):
    text = client.get(f"{FEED}.json").content.decode()
    assert SECRET_NOTE not in text
    assert city["hidden"].public_id not in text
    body = client.get(f"{FEED}.json").json()
    # Each issue's submission is its request, not an update; the closed one has one update.
    assert [u["status"] for u in body if u["service_request_id"] == city["closed"].public_id] == [
        "CLOSED"
    ]


def test_feed_window_filters_on_the_updates_time(client, city):
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert client.get(f"{FEED}.json", {"start_date": later}).json() == []
    earlier = (timezone.now() - timedelta(days=1)).isoformat()
    assert client.get(f"{FEED}.json", {"end_date": earlier}).json() == []
    assert len(client.get(f"{FEED}.json", {"page_size": "1"}).json()) == 1


def test_feed_in_xml_has_the_extension_shape(client, city):
    response = client.get(f"{FEED}.xml")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own server's output)
    assert root.tag == "service_request_updates"
    first = root.find("request_update")
    assert {e.tag for e in first} == {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
    }


def test_feed_refuses_an_unreadable_date_with_a_400(client, city):
    response = client.get(f"{FEED}.json", {"start_date": "yesterday"})
    assert response.status_code == 400
    assert "start_date" in response.json()[0]["description"]


# -- the push --------------------------------------------------------------------------------


def test_push_closes_the_issue_and_tells_its_followers_once(
    client, city, integration, django_capture_on_commit_callbacks
):
    public = city["public"]
    follower = make_user("neighbour@example.org")
    subscriptions.follow_issue(issue=public, user=follower)
    mail.outbox.clear()
    form = {
        "service_request_id": public.public_id,
        "update_id": "crm-77",
        "status": "CLOSED",
        "description": "Filled by crew 4",
    }
    with_emails = []
    for _ in range(2):  # the same update twice
        with django_capture_on_commit_callbacks(execute=True):
            response = push(client, integration, **form)
        assert response.status_code == 200, response.content
        with_emails.append(len(mail.outbox))
    public.refresh_from_db()
    assert public.status == Status.CLOSED
    change = StatusChange.objects.filter(issue=public).latest("pk")
    assert (change.source, change.message, change.changed_by) == (
        "Streets CRM",
        "Filled by crew 4",
        None,
    )
    assert response.json() == [{"update_id": f"s{change.pk}"}]
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert "neighbour@example.org" in recipients
    assert len(recipients) == len(set(recipients))  # once each, the repeat sent nothing
    assert with_emails[0] == with_emails[1]
    assert CityUpdate.objects.filter(issue=public, channel="push").count() == 1


def test_push_finds_the_issue_by_the_citys_own_id(client, city, integration):
    public = city["public"]
    public.external_source, public.external_id = "upstream:1", "CRM-123"
    public.save(update_fields=["external_source", "external_id"])
    response = push(
        client, integration, service_request_id="CRM-123", update_id="9", status="in_progress"
    )
    assert response.status_code == 200
    public.refresh_from_db()
    assert public.status == Status.IN_PROGRESS


def test_push_with_a_note_and_no_new_status_records_the_note(client, city, integration):
    public = city["public"]
    response = push(
        client,
        integration,
        service_request_id=public.public_id,
        update_id="n1",
        status="open",
        description="Scheduled for Tuesday",
    )
    assert response.status_code == 200
    public.refresh_from_db()
    assert public.status == Status.ACKNOWLEDGED  # "open" only ever reopens
    note = StatusChange.objects.filter(issue=public).latest("pk")
    assert (note.from_status, note.to_status, note.message) == (
        "acknowledged",
        "acknowledged",
        "Scheduled for Tuesday",
    )


@pytest.mark.parametrize("who", ["nobody", "resident", "other department", "wrong key"])
def test_push_without_the_departments_integration_key_is_refused_and_changes_nothing(
    client, city, who
):
    public = city["public"]
    key = None
    if who == "resident":
        key, raw = issue_api_key(owner=make_user(), name="Resident's app")
        key.raw = raw
    elif who == "other department":
        key, raw = issue_api_key(owner=make_user(), name="Water CRM")
        IntegrationKey.objects.create(api_key=key, department=make_department("Water"))
        key.raw = raw
    elif who == "wrong key":
        key = type("Key", (), {"raw": "not-a-key"})()
    before = StatusChange.objects.count()
    response = push(
        client,
        key,
        service_request_id=public.public_id,
        update_id="x1",
        status="closed",
        description="closed by an outsider",
    )
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403
    public.refresh_from_db()
    assert public.status == Status.ACKNOWLEDGED
    assert StatusChange.objects.count() == before
    assert not CityUpdate.objects.exists()


def test_push_of_an_unknown_request_is_a_404(client, city, integration):
    response = push(
        client, integration, service_request_id="ZZZZ-ZZZZ", update_id="1", status="closed"
    )
    assert response.status_code == 404


def test_push_with_missing_or_unreadable_fields_says_which(client, city, integration):
    response = push(client, integration, service_request_id=city["public"].public_id)
    assert response.status_code == 400
    text = " ".join(e["description"] for e in response.json())
    assert "update_id" in text and "status" in text
    response = push(
        client,
        integration,
        service_request_id=city["public"].public_id,
        update_id="1",
        status="teleported",
    )
    assert response.status_code == 400 and "teleported" in response.json()[0]["description"]


def test_push_to_a_hidden_issue_still_works_for_its_department(client, city, integration):
    hidden = city["hidden"]
    response = push(
        client, integration, service_request_id=hidden.public_id, update_id="h", status="closed"
    )
    assert response.status_code == 200
    hidden.refresh_from_db()
    assert hidden.status == Status.CLOSED
    assert HIDDEN_TEXT not in response.content.decode()


def test_an_issue_made_through_the_push_keys_department_can_be_reopened_by_it(
    client, integration, service_type
):
    issue = make_issue(service_type)
    services.change_status(issue=issue, to=Status.CLOSED)
    later = (timezone.now() + timedelta(seconds=1)).isoformat()
    response = push(
        client,
        integration,
        service_request_id=issue.public_id,
        update_id="r",
        status="OPEN",
        updated_datetime=later,
    )
    assert response.status_code == 200
    issue.refresh_from_db()
    assert issue.status == Status.OPEN


def test_a_pushed_note_is_emailed_as_news_not_as_a_change(
    client, city, integration, django_capture_on_commit_callbacks
):
    public = city["public"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        push(
            client,
            integration,
            service_request_id=public.public_id,
            update_id="n2",
            status="open",
            description="Materials ordered",
        )
    (email,) = mail.outbox
    assert "News about" in email.body and "still acknowledged" in email.body
    assert "Materials ordered" in email.body and "is now" not in email.body


@pytest.mark.parametrize(
    "path", ["/open311/v2/servicerequestupdates.json", "/open311/v2/requests.json"]
)
def test_a_date_with_an_offset_the_database_cannot_hold_is_read_in_utc(client, city, path):
    # Python accepts offsets up to 23:59; PostgreSQL refuses past 15:59 (schemathesis found it).
    response = client.get(path, {"end_date": "2000-01-01T13:08:36.06905+18:23"})
    assert response.status_code == 200
    assert response.json() == []
