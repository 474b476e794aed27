"""Who hears about what: each event's recipients, exclusions and unsubscribes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues import services
from issues.models import EmailOptOut, Notification, NotificationEvent, Status
from issues.notify import events, subscriptions
from tests.factories import CITY_HALL, make_department, make_issue, make_staff, make_user
from tests.notify.conftest import addresses, rows_for

pytestmark = pytest.mark.django_db


def test_status_change_reaches_reporter_and_followers_with_the_public_message(
    issue, follower, staff_user, deliver
):
    _, sent = deliver(
        services.change_status,
        issue=issue,
        to=Status.ACKNOWLEDGED,
        by=staff_user,
        message="A crew is booked for Tuesday.",
    )
    assert addresses(sent) == ["follower@example.org", "resident@example.org"]
    assert all("A crew is booked for Tuesday." in m.body for m in sent)


def test_status_change_never_goes_to_the_person_who_made_it(issue, follower, department, deliver):
    worker = make_staff(department, email="crew@city.example")
    subscriptions.follow_issue(issue=issue, user=worker)
    _, sent = deliver(services.change_status, issue=issue, to=Status.IN_PROGRESS, by=worker)
    assert "crew@city.example" not in addresses(sent)
    assert addresses(sent) == ["follower@example.org", "resident@example.org"]


def test_anonymous_reporter_with_email_is_told_and_without_email_is_not(
    service_type, staff_user, wards, deliver
):
    with events.suppressed():
        with_email = make_issue(service_type, reporter_email="Anon@Example.org")
        without = make_issue(service_type)
    _, sent = deliver(services.change_status, issue=with_email, to=Status.CLOSED, by=staff_user)
    assert addresses(sent) == ["anon@example.org"]
    _, sent = deliver(services.change_status, issue=without, to=Status.CLOSED, by=staff_user)
    assert sent == []


def test_people_who_turned_updates_off_or_left_are_not_emailed(issue, staff_user, deliver):
    quiet = make_user("quiet@example.org", notify_updates=False)
    gone = make_user("gone@example.org", is_active=False)
    for person in (quiet, gone):
        subscriptions.follow_issue(issue=issue, user=person)
    # An address-only follow by someone whose account says "no updates" is honoured too.
    subscriptions.follow_issue(issue=issue, email="QUIET@example.org")
    _, sent = deliver(services.change_status, issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    assert addresses(sent) == ["resident@example.org"]


def test_opted_out_addresses_and_unfollowed_issues_get_nothing(
    issue, follower, staff_user, resident, deliver
):
    EmailOptOut.objects.create(email="follower@example.org")
    subscriptions.unfollow_issue(issue=issue, user=resident)
    _, sent = deliver(services.change_status, issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    assert sent == []
    assert not rows_for(issue).exists()


def test_one_email_per_address_even_when_following_twice(issue, follower, staff_user, deliver):
    subscriptions.follow_issue(issue=issue, email="follower@example.org")
    _, sent = deliver(services.change_status, issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    assert addresses(sent) == ["follower@example.org", "resident@example.org"]


def test_public_comment_reaches_reporter_and_followers_except_its_author(
    issue, follower, resident, deliver
):
    _, sent = deliver(services.add_comment, issue=issue, author=follower, body="Still there today")
    assert addresses(sent) == ["resident@example.org"]
    _, sent = deliver(services.add_comment, issue=issue, author=resident, body="Thanks")
    assert addresses(sent) == ["follower@example.org"]
    assert "Thanks" in sent[0].body and "Rosa" in sent[0].body


def test_internal_notes_never_leave_the_staff(issue, follower, staff_user, deliver):
    _, sent = deliver(
        services.add_comment,
        issue=issue,
        author=staff_user,
        body="Reporter sounds cross, call them",
        internal=True,
    )
    assert sent == []
    assert not Notification.objects.filter(body_text__contains="sounds cross").exists()


def test_new_issue_tells_reporter_department_and_ward_watchers_once_each(
    service_type, resident, wards, deliver
):
    ward42, ward1 = wards[42], wards[1]
    neighbour = make_user("neighbour@example.org")
    alderman = make_user("ald42@city.example")
    ward42.aldermen.add(alderman)
    subscriptions.watch_ward(ward=ward42, user=neighbour)
    subscriptions.watch_ward(ward=ward42, user=alderman)
    subscriptions.watch_ward(ward=ward42, email="block-club@example.org")
    subscriptions.watch_ward(ward=ward42, user=resident)  # the reporter watches too: one email
    subscriptions.watch_ward(ward=ward1, email="elsewhere@example.org")

    issue, sent = deliver(make_issue, service_type, point=CITY_HALL, reporter=resident)

    by_event = {}
    for row in Notification.objects.filter(issue=issue).order_by("recipient_email"):
        by_event.setdefault(row.event, []).append(row.recipient_email)
    assert by_event == {
        NotificationEvent.ISSUE_CREATED: ["resident@example.org"],
        NotificationEvent.DEPARTMENT_NEW_ISSUE: [service_type.department.contact_email],
        NotificationEvent.WARD_NEW_ISSUE: [
            "ald42@city.example",
            "block-club@example.org",
            "neighbour@example.org",
        ],
    }
    assert len(sent) == 5
    assert "elsewhere@example.org" not in addresses(sent)


def test_department_without_contact_or_opted_out_of_new_issues_gets_nothing(
    resident, wards, deliver
):
    from tests.factories import make_service_type

    silent = make_service_type(make_department(contact_email=""))
    unwilling = make_service_type(make_department(notify_new_issues=False))
    for service_type in (silent, unwilling):
        _, sent = deliver(make_issue, service_type, reporter=resident)
        assert addresses(sent) == ["resident@example.org"]


def test_hotspot_alert_skips_a_department_that_turned_its_feed_off(wards):
    from issues.models import HotspotAlert
    from issues.notify.hotspots import recipients_for
    from tests.factories import make_service_type

    unwilling = make_service_type(make_department(notify_new_issues=False))
    alert = HotspotAlert(service_type=unwilling, ward=None)
    # No row at all: a row written only to be withdrawn at delivery shows up as a failure.
    assert recipients_for(alert) == []


def test_transfer_tells_the_receiving_department_not_the_followers(
    issue, follower, staff_user, deliver
):
    water = make_department("Water Management", contact_email="water@city.example")
    _, sent = deliver(
        services.transfer_issue,
        issue=issue,
        to_department=water,
        by=staff_user,
        message="It is a water main, not a pothole.",
    )
    assert addresses(sent) == ["water@city.example"]
    assert "water main" in sent[0].body
    assert "/admin/issues/issue/" in sent[0].body  # staff get a workbench link


def test_hidden_issue_only_reaches_its_reporter(issue, follower, staff_user, deliver):
    services.set_hidden(target=issue, hidden=True, by=staff_user, reason="Duplicate of another")
    _, sent = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)
    assert addresses(sent) == ["resident@example.org"]


def test_suppressed_history_and_imports_tell_nobody(service_type, resident, wards):
    with events.suppressed():
        issue = make_issue(service_type, reporter=resident)
        services.change_status(issue=issue, to=Status.CLOSED)
    imported = make_issue(service_type, reporter_email="someone@example.org", source="import")
    assert not Notification.objects.filter(issue__in=[issue, imported]).exists()


def test_the_same_event_queued_twice_writes_one_row_per_recipient(issue, follower, staff_user):
    change = services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    again = events.queue_event(
        NotificationEvent.STATUS_CHANGED, issue=issue, actor=staff_user, status_change=change
    )
    assert again == []
    assert rows_for(issue, NotificationEvent.STATUS_CHANGED).count() == 2


def test_queueing_for_many_followers_takes_a_constant_number_of_queries(issue, staff_user):
    def queries_for_a_change(to: str) -> int:
        by = type(staff_user).objects.get(pk=staff_user.pk)  # no role cache from a prior call
        with CaptureQueriesContext(connection) as captured:
            services.change_status(issue=issue, to=to, by=by)
        return len(captured)

    subscriptions.follow_issue(issue=issue, email="first@example.org")
    few = queries_for_a_change(Status.ACKNOWLEDGED)
    for n in range(40):
        subscriptions.follow_issue(issue=issue, email=f"f{n}@example.org")
    many = queries_for_a_change(Status.IN_PROGRESS)
    assert many == few
    assert rows_for(issue, NotificationEvent.STATUS_CHANGED).count() == 2 + 42


def test_an_opt_out_typed_with_capitals_still_counts(issue, follower, staff_user, deliver):
    EmailOptOut.objects.create(email="Follower@Example.ORG")  # entered by staff in the admin
    _, sent = deliver(services.change_status, issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    assert addresses(sent) == ["resident@example.org"]
