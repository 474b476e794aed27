"""Closing emails say what was done (resolution, the official message, the after photo through the
checked media door) and give the reporter a signed, expiring "Not fixed?" link whose GET only asks
and whose POST reopens once; followers are pointed to the page's "still there" update instead."""

import re

import pytest
from django.core import signing
from django.urls import reverse

from issues import services
from issues.models import NotificationEvent, Photo, ReporterAction, Status
from issues.notify import events, links, subscriptions
from issues.photos import prepare_photo
from tests.factories import make_issue, make_user
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db

NOT_FIXED = re.compile(r"https?://[^\s\"<>]+/not-fixed/[^\s\"<>/]+/")


@pytest.fixture
def own(service_type, resident):
    with events.suppressed():
        return make_issue(service_type, reporter=resident, description="Pothole on Main")


@pytest.fixture
def follower(own):
    user = make_user(email="neighbour@example.net", display_name="Nell")
    subscriptions.follow_issue(issue=own, user=user)
    return user


def _close(deliver, issue, by, **kwargs):
    _, sent = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=by, **kwargs)
    issue.refresh_from_db()
    return sent


def _mail_to(sent, email):
    (message,) = [m for m in sent if email in m.to]
    html = message.alternatives[0][0] if message.alternatives else ""
    return message, html


def test_fixed_closing_email_has_resolution_message_after_photo_and_not_fixed_link(
    own, resident, follower, staff_user, deliver
):
    staff_user.display_name = "Sam Staffer"
    staff_user.save()
    sent = _close(
        deliver,
        own,
        staff_user,
        resolution="fixed",
        message="Patched with hot asphalt.",
        photos=[prepare_photo(upload("after.jpg", jpeg_bytes()))],
    )
    message, html = _mail_to(sent, resident.email)
    photo = Photo.objects.get(issue=own, status_change__isnull=False)
    for part in (message.body, html):
        assert "The city fixed this." in part
        assert "Patched with hot asphalt." in part
        assert photo.image.url in part  # the checked /media/ door, never a signed store URL
        assert "Report it again" not in part and "report it again" not in part
        assert "Sam" not in part and "Staffer" not in part  # the department speaks
        assert NOT_FIXED.search(part)
    assert photo.thumbnail.url in html
    assert "unsubscribe" in message.body.lower() and "/unsubscribe/" in html
    # The follower is pointed at the page's "still there", never given the reporter's link.
    other, other_html = _mail_to(sent, follower.email)
    assert not NOT_FIXED.search(other.body) and not NOT_FIXED.search(other_html)
    assert "#still-there" in other.body


def test_duplicate_and_referred_closing_emails_say_so(service_type, resident, staff_user, deliver):
    with events.suppressed():
        original = make_issue(service_type, description="The first report")
        dup = make_issue(service_type, reporter=resident, description="Same hole")
        referred = make_issue(service_type, reporter=resident, description="Power line")
    _, sent = deliver(services.mark_duplicate, issue=dup, original=original, by=staff_user)
    # The merge moved the reporter's follow to the original in the same transaction: the
    # closing email is still theirs, and is sent (it was once withdrawn as "stopped following").
    message, html = _mail_to(sent, resident.email)
    assert original.public_id in message.body and original.get_absolute_url() in html
    assert "Duplicate" in message.body and NOT_FIXED.search(message.body)
    assert dup.notifications.get(
        event=NotificationEvent.STATUS_CHANGED, recipient_email=resident.email
    ).sent_at

    sent = _close(deliver, referred, staff_user, resolution="referred", referred_to="ComEd")
    message, html = _mail_to(sent, resident.email)
    for part in (message.body, html):
        assert "Not the city's responsibility" in part.replace("&#x27;", "'")
        assert "ComEd" in part
        assert NOT_FIXED.search(part)
        assert "after photo" not in part.lower()  # none was attached


def _link(sent, email) -> str:
    message, _ = _mail_to(sent, email)
    return NOT_FIXED.search(message.body).group(0)


def test_not_fixed_link_get_changes_nothing_and_post_reopens_once(
    client, own, resident, staff_user, deliver
):
    services.assign_issue(issue=own, assignee=staff_user, by=staff_user)
    url = _link(_close(deliver, own, staff_user, resolution="fixed"), resident.email)
    page = client.get(url)
    assert page.status_code == 200 and "Reopen it" in page.text
    assert 'method="post"' in page.text
    own.refresh_from_db()
    assert own.status == Status.CLOSED  # a GET only asks

    response, sent = deliver(client.post, url, {"note": "Still a crater"})
    assert response.status_code == 200 and "Reopened" in response.text
    own.refresh_from_db()
    assert own.status == Status.OPEN
    reopened = [m for m in sent if "reopened" in m.subject]
    assert sorted(a for m in reopened for a in m.to) == sorted(
        [own.department.contact_email, staff_user.email]
    )
    assert own.notifications.filter(event=NotificationEvent.ISSUE_REOPENED).count() == 2

    # Closed again: the old link is for the old closing; the new closing email has no link,
    # because the reporter has used their one reopening.
    sent = _close(deliver, own, staff_user, resolution="fixed")
    message, _ = _mail_to(sent, resident.email)
    assert not NOT_FIXED.search(message.body) and "#still-there" in message.body
    again = client.post(url)
    assert again.status_code == 409 and "cannot be reopened" in again.text
    own.refresh_from_db()
    assert own.status == Status.CLOSED
    assert ReporterAction.objects.filter(issue=own, kind="reopened").count() == 1


def test_tampered_and_expired_links_are_a_clear_4xx(
    client, own, resident, staff_user, deliver, monkeypatch
):
    url = _link(_close(deliver, own, staff_user, resolution="fixed"), resident.email)
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = reverse(
        "issues:not_fixed", args=[token[:-3] + ("abc" if token[-3:] != "abc" else "abd")]
    )
    response = client.post(tampered)
    assert response.status_code == 400 and "damaged" in response.text
    forged = reverse("issues:not_fixed", args=[signing.dumps({"i": own.pk, "e": resident.email})])
    assert client.get(forged).status_code == 400

    # A link signed REPORTER_REOPEN_DAYS + 1 days ago (the clock moved back while signing).
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 15 * 86400)
    old = links.not_fixed_url(own, resident.email)
    monkeypatch.setattr(signing.time, "time", real_time)
    for method in (client.get, client.post):
        response = method(old)
        assert response.status_code == 400 and "too old" in response.text
    own.refresh_from_db()
    assert own.status == Status.CLOSED


def test_a_link_sent_to_another_address_cannot_reopen(client, own, resident, staff_user, deliver):
    _close(deliver, own, staff_user, resolution="fixed")
    response = client.post(links.not_fixed_url(own, "someone@else.example"))
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.status == Status.CLOSED


def test_reopening_is_rate_limited_like_comments(client, own, resident, staff_user, settings):
    with events.suppressed():
        services.change_status(issue=own, to=Status.CLOSED, by=staff_user, resolution="fixed")
    own.refresh_from_db()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": (0, 3600)}
    assert client.post(links.not_fixed_url(own, resident.email)).status_code == 429
    client.force_login(resident)
    response = client.post(reverse("issues:reopen_report", args=[own.public_id]))
    assert response.status_code == 429
    own.refresh_from_db()
    assert own.status == Status.CLOSED
