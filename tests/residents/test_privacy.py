"""Deleting an account keeps the public reports, anonymised, and leaves no contact detail in
pages, exports, Open311 or queued emails; the data download holds everything about the person
and nothing about anyone else."""

import csv
import io
import json

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from issues import services
from issues.models import AreaAlert, Issue, Notification, Status, Subscription, Vote
from issues.notify import subscriptions
from issues.services import alerts as alert_services
from tests.factories import CITY_HALL, make_issue, make_user

pytestmark = pytest.mark.django_db

EMAIL = "rosa.private@example.org"
NAME = "Rosa Parkway"
PHONE = "+1 312 555 0199"


@pytest.fixture
def rosa(service_type):
    person = make_user(EMAIL, display_name=NAME)
    issue = make_issue(
        service_type, reporter=person, reporter_phone=PHONE, description="Deep pothole"
    )
    old = make_issue(service_type, reporter_email=EMAIL, reporter_name=NAME, description="Old")
    other = make_issue(service_type, description="Someone else's")
    services.add_comment(issue=other, author=person, body="Same on my corner")
    services.add_vote(issue=other, user=person)
    subscriptions.follow_issue(issue=other, user=person)
    alert_services.create_alert(
        latitude=CITY_HALL[0], longitude=CITY_HALL[1], radius_m=500, user=person, label="Home"
    )
    return person, issue, old, other


def everything_public(client, issues) -> str:
    """Every public place a reporter's details could leak: pages, exports, Open311, feeds."""
    urls = [
        reverse("issues:home"),
        "/data/issues.csv",
        "/data/issues.geojson",
        "/feeds/issues/new/",
    ]
    urls += ["/open311/v2/requests.json", "/open311/v2/requests.xml"]
    for issue in issues:
        urls += [
            issue.get_absolute_url(),
            f"/open311/v2/requests/{issue.public_id}.json",
            reverse("issues:issue_feed", args=[issue.public_id]),
        ]
    texts = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        texts.append(body.decode())
    return "\n".join(texts)


def test_deleting_keeps_the_reports_and_leaves_no_contact_detail(client, rosa, staff_user):
    person, issue, old, other = rosa
    client.force_login(person)
    # An email about her report is in the outbox when she deletes.
    services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff_user, message="Seen")
    assert Notification.objects.filter(recipient_email=EMAIL).exists()
    votes_before = Issue.objects.get(pk=other.pk).vote_count

    response = client.post(reverse("issues:delete_account"), {"password": "correct-horse-battery"})
    assert response.status_code == 302
    assert not User.objects.filter(email=EMAIL).exists()

    # The reports stay, the comment's text stays, the vote still counts.
    assert Issue.objects.filter(pk__in=[issue.pk, old.pk]).count() == 2
    assert Issue.objects.get(pk=other.pk).vote_count == votes_before
    assert not Vote.objects.filter(issue=other).exists()
    client.logout()
    text = everything_public(client, [issue, old, other])
    assert "Same on my corner" in text and "Deep pothole" in text
    for detail in (EMAIL, NAME, PHONE, "rosa.private"):
        assert detail not in text
    # Nothing queued or kept for her address, no follows, no alerts, no contact on the rows.
    assert not Notification.objects.filter(recipient_email__iexact=EMAIL).exists()
    assert not Subscription.objects.filter(email__iexact=EMAIL).exists()
    assert not AreaAlert.objects.exists()
    for row in Issue.objects.filter(pk__in=[issue.pk, old.pk]):
        assert (row.reporter_id, row.reporter_email, row.reporter_name, row.reporter_phone) == (
            None,
            "",
            "",
            "",
        )
    # A later status change emails nobody about her report.
    before = len(mail.outbox)
    services.change_status(issue=issue, to=Status.CLOSED, by=staff_user, message="Done")
    assert all(EMAIL not in m.to for m in mail.outbox[before:])


def test_wrong_password_deletes_nothing(client, rosa):
    person = rosa[0]
    client.force_login(person)
    response = client.post(reverse("issues:delete_account"), {"password": "nope"})
    assert response.status_code == 400 and "not right" in response.text
    assert User.objects.filter(pk=person.pk).exists()


def test_staff_cannot_delete_themselves_here(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("issues:delete_account"), {"password": "correct-horse-battery"})
    assert response.status_code == 403
    assert User.objects.filter(pk=staff_user.pk).exists()


def test_download_holds_everything_of_mine_and_nothing_of_others(client, rosa, service_type):
    person, issue, old, other = rosa
    stranger = make_user("stranger@example.org", display_name="Stranger Danger")
    services.add_comment(issue=issue, author=stranger, body="Stranger's words")
    client.force_login(person)
    response = client.get(reverse("issues:my_data_json"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == EMAIL
    assert {r["id"] for r in data["reports"]} == {issue.public_id, old.public_id}
    assert PHONE in {r["reporter_phone"] for r in data["reports"]}
    assert [c["body"] for c in data["comments"]] == ["Same on my corner"]
    assert [v["issue"] for v in data["votes"]] == [other.public_id]
    assert {f["issue"] for f in data["follows"]} >= {other.public_id}
    assert [a["label"] for a in data["alerts"]] == ["Home"]
    assert data["emails"]  # the receipts of her reports
    blob = response.content.decode()
    assert "stranger" not in blob.lower() and "Someone else's" not in blob

    rows = list(csv.reader(io.StringIO(client.get(reverse("issues:my_data_csv")).text)))
    assert rows[0] == ["section", "item", "field", "value"]
    assert ["account", "1", "email", EMAIL] in rows
    assert "stranger" not in str(rows).lower()


def test_data_pages_need_sign_in(client):
    for name in ("issues:my_data_json", "issues:my_data_csv", "issues:delete_account"):
        assert client.get(reverse(name)).status_code == 302
