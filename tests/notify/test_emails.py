"""What an email looks like: both parts from templates, absolute links, the public id in the
subject, one recipient, unsubscribe headers, and nothing private about anyone else."""

import re

import pytest
from django.core import mail

from issues import services
from issues.models import Notification, NotificationEvent, Status
from issues.notify import delivery, drafts, events, links, recipients, rendering, subscriptions
from tests.factories import make_issue, make_service_type, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous_issue(service_type, wards):
    with events.suppressed():
        return make_issue(
            service_type,
            reporter_name="Private Person",
            reporter_email="private.person@example.org",
            reporter_phone="+1 312 555 0199",
        )


def test_status_email_has_both_parts_absolute_links_and_the_id_in_the_subject(
    issue, staff_user, deliver, settings
):
    _, sent = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)
    message = sent[0]
    assert message.subject == f"[{issue.public_id}] Pothole in Street: closed"
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    page = f"{settings.SITE_URL}/issues/{issue.public_id}/"
    assert page in message.body and f'href="{page}"' in html
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(settings.SITE_URL) for link in links)


def test_each_message_has_one_recipient_and_one_click_unsubscribe_headers(
    issue, follower, staff_user, deliver, settings
):
    _, sent = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)
    assert len(sent) == 2
    for message in sent:
        assert len(message.to) == 1 and not message.cc and not message.bcc
        header = message.extra_headers["List-Unsubscribe"]
        assert header.startswith(f"<{settings.SITE_URL}/unsubscribe/") and header.endswith("/>")
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
        other = ({"resident@example.org", "follower@example.org"} - set(message.to)).pop()
        assert other not in message.body and other not in message.alternatives[0][0]
        assert other not in message.message().as_string()


def test_anonymous_reporters_details_never_reach_other_people(anonymous_issue, staff_user, deliver):
    person = make_user("neighbour@example.org")
    subscriptions.follow_issue(issue=anonymous_issue, user=person)
    _, sent = deliver(services.add_comment, issue=anonymous_issue, author=person, body="Me too")
    _, more = deliver(
        services.change_status, issue=anonymous_issue, to=Status.CLOSED, by=staff_user
    )
    to_neighbour = [m for m in sent + more if m.to == ["neighbour@example.org"]]
    assert to_neighbour
    for message in to_neighbour:
        whole = message.message().as_string() + message.alternatives[0][0]
        for secret in ("Private Person", "private.person", "555 0199"):
            assert secret not in whole


def test_internal_notes_text_never_appears_in_any_email(issue, follower, staff_user, deliver):
    deliver(services.add_comment, issue=issue, author=staff_user, body="SECRET-NOTE", internal=True)
    deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)
    assert mail.outbox
    assert all("SECRET-NOTE" not in m.message().as_string() for m in mail.outbox)


def test_user_text_is_escaped_in_html_and_plain_in_subjects(resident, wards, deliver):
    rats = make_service_type(name="Rats & Mice <yard>")
    issue, _ = deliver(
        make_issue, rats, reporter=resident, description="<script>alert(1)</script> & co"
    )
    row = Notification.objects.get(issue=issue, event=NotificationEvent.DEPARTMENT_NEW_ISSUE)
    assert row.subject == f"[{issue.public_id}] New Rats & Mice <yard> report for {rats.department}"
    assert "<script>" not in row.body_html and "&lt;script&gt;" in row.body_html
    assert "<script>alert(1)</script> & co" in row.body_text


def test_comment_email_names_the_author_publicly_never_by_address(issue, follower, deliver):
    _, sent = deliver(services.add_comment, issue=issue, author=follower, body="Still there")
    assert "Fran commented" in sent[0].body
    assert "follower@example.org" not in sent[0].body


def test_receipt_tells_the_reporter_the_id_and_where_to_follow_it(
    service_type, resident, wards, deliver
):
    issue, sent = deliver(make_issue, service_type, reporter=resident)
    receipt = next(m for m in sent if m.to == ["resident@example.org"])
    assert issue.public_id in receipt.subject and issue.public_id in receipt.body
    assert "we have your report" in receipt.subject


def test_unsubscribe_links_match_what_the_email_is_about(issue, wards, deliver, resident):
    subscriptions.watch_ward(ward=wards[42], email="watcher@example.org")
    issue, _ = deliver(make_issue, issue.service_type, reporter=resident)
    scopes = {}
    for row in Notification.objects.filter(issue=issue):
        token = row.unsubscribe_url.rstrip("/").rsplit("/", 1)[1]
        scopes[row.event] = links.read_unsubscribe_token(token)["s"]
    assert scopes == {
        NotificationEvent.ISSUE_CREATED: "issue",
        NotificationEvent.DEPARTMENT_NEW_ISSUE: "department",
        NotificationEvent.WARD_NEW_ISSUE: "ward",
    }


def test_emails_about_one_issue_thread_together(issue, staff_user, deliver):
    _, first = deliver(services.change_status, issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    _, second = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)
    thread = f"<issue.{issue.public_id}@127.0.0.1>"
    for message in first + second:
        assert message.extra_headers["References"] == thread
        assert message.extra_headers["In-Reply-To"] == thread


def test_a_broken_template_never_refuses_the_event(issue):

    draft = drafts.Draft(
        event="no_such_event",  # no templates exist for it
        ref="1",
        recipient=recipients.Recipient(email="someone@example.org"),
        issue=issue,
    )
    (row_id,) = drafts.write_rows([draft])
    row = Notification.objects.get(pk=row_id)
    assert row.state == "failed" and row.last_error.startswith(rendering.NOT_RENDERED)
    # Re-sending it from the admin cannot send an empty email.
    delivery.resend(Notification.objects.filter(pk=row_id))
    delivery.deliver(row_id)
    row.refresh_from_db()
    assert row.state == "failed" and "could not be rendered" in row.last_error
    assert mail.outbox == []
