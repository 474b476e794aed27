"""Delivery: each row sent at most once, temporary failures retried with backoff, permanent ones
marked failed and re-sendable, rows withdrawn when sending them would now leak or annoy, and a dead
broker delaying mail without losing any."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.celery import app
from issues import services
from issues.models import EmailOptOut, Notification, NotificationState, Status
from issues.notify import delivery, drafts, recipients, rendering, subscriptions, withdrawal
from tests.notify.backends import ScriptedBackend, refused, server_gone
from tests.notify.conftest import fifty_events
from tests.notify.smtp_sink import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def scripted(settings):
    settings.EMAIL_BACKEND = "tests.notify.backends.ScriptedBackend"
    ScriptedBackend.script = []
    ScriptedBackend.opened = 0
    yield ScriptedBackend
    ScriptedBackend.script = []


@pytest.fixture
def pending(issue, follower, staff_user):
    """Two pending rows (reporter and follower) whose delivery has not run."""
    services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff_user, message="Booked")
    rows = list(Notification.objects.filter(issue=issue).order_by("recipient_email"))
    assert [r.state for r in rows] == [NotificationState.PENDING] * 2
    return rows


def test_a_row_is_sent_once_however_often_it_is_delivered(pending):
    row = pending[0]
    assert delivery.deliver(row.pk) == NotificationState.SENT
    assert delivery.deliver(row.pk) == "skipped"
    delivery.deliver_many([row.pk, row.pk])
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1 and row.sent_at is not None


def test_a_batch_shares_one_smtp_connection(pending, scripted):
    counts = delivery.deliver_many([r.pk for r in pending])
    assert counts == {NotificationState.SENT: 2}
    assert scripted.opened == 1


def test_temporary_failure_is_retried_later_with_backoff(pending, scripted):
    row = pending[0]
    scripted.script = [server_gone()]
    assert delivery.deliver(row.pk) == NotificationState.PENDING
    row.refresh_from_db()
    assert row.attempts == 1
    assert "SMTPServerDisconnected" in row.last_error
    wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=40) < wait < timedelta(seconds=80)
    assert delivery.deliver(row.pk) == "skipped"  # not due yet

    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.requeue_pending(older_than_seconds=0) == 2  # eager: sends both now
    row.refresh_from_db()
    assert row.state == NotificationState.SENT and row.attempts == 2
    assert len(mail.outbox) == 2


def test_backoff_doubles_and_is_capped():
    firsts = [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 4)]
    assert all(lo * 0.8 <= s <= lo * 1.2 for s, lo in zip(firsts, (60, 120, 240, 480), strict=True))
    assert delivery.backoff(30).total_seconds() <= 6 * 3600 * 1.2


def test_refused_address_fails_for_good_and_can_be_resent(pending, scripted):
    row = pending[0]
    scripted.script = [refused(row.recipient_email)]
    assert delivery.deliver(row.pk) == NotificationState.FAILED
    row.refresh_from_db()
    assert "550" in row.last_error
    assert delivery.requeue_pending(older_than_seconds=0) == 1  # only the other row
    assert Notification.objects.get(pk=row.pk).state == NotificationState.FAILED

    assert delivery.resend(Notification.objects.filter(pk=row.pk)) == 1
    delivery.deliver(row.pk)
    row.refresh_from_db()
    assert row.state == NotificationState.SENT and row.last_error == ""


def test_too_many_temporary_failures_end_in_failed(pending, scripted, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    row = pending[0]
    scripted.script = [server_gone(), server_gone()]
    assert delivery.deliver(row.pk) == NotificationState.PENDING
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliver(row.pk) == NotificationState.FAILED


def test_unexpected_errors_are_counted_not_left_pending_forever(pending, scripted):
    row = pending[0]
    scripted.script = [RuntimeError("backend bug")]
    assert delivery.deliver(row.pk) == NotificationState.PENDING
    row.refresh_from_db()
    assert row.attempts == 1 and "backend bug" in row.last_error


def test_is_permanent_knows_refusals_from_hiccups():
    import smtplib

    assert delivery.is_permanent(refused("a@example.org", 550))
    assert not delivery.is_permanent(refused("a@example.org", 450))
    assert not delivery.is_permanent(smtplib.SMTPResponseException(421, b"try later"))
    assert delivery.is_permanent(smtplib.SMTPDataError(554, b"rejected as spam"))
    assert not delivery.is_permanent(smtplib.SMTPSenderRefused(550, b"bad sender", "x"))
    assert not delivery.is_permanent(smtplib.SMTPAuthenticationError(535, b"bad login"))
    assert not delivery.is_permanent(ConnectionRefusedError())


def test_opt_out_after_queueing_withdraws_the_row(pending):
    EmailOptOut.objects.create(email=pending[0].recipient_email)
    delivery.deliver_many([r.pk for r in pending])
    pending[0].refresh_from_db()
    assert pending[0].state == NotificationState.WITHDRAWN
    assert pending[0].last_error.startswith(withdrawal.WITHDRAWN)
    assert [m.to for m in mail.outbox] == [[pending[1].recipient_email]]


def test_hiding_a_comment_before_delivery_withdraws_its_emails(issue, follower, staff_user):
    comment = services.add_comment(issue=issue, author=follower, body="Buy cheap watches")
    services.set_hidden(target=comment, hidden=True, by=staff_user, reason="Spam")
    ids = list(Notification.objects.filter(issue=issue).values_list("pk", flat=True))
    assert ids
    delivery.deliver_many(ids)
    assert mail.outbox == []


def test_hiding_the_issue_before_delivery_keeps_only_the_reporters_email(
    pending, issue, staff_user
):
    services.set_hidden(target=issue, hidden=True, by=staff_user, reason="Abusive photo")
    delivery.deliver_many([r.pk for r in pending])
    assert [m.to for m in mail.outbox] == [["resident@example.org"]]


def test_unfollowing_before_delivery_withdraws_the_update(pending, issue, follower):
    subscriptions.unfollow_issue(issue=issue, user=follower)
    delivery.deliver_many([r.pk for r in pending])
    assert [m.to for m in mail.outbox] == [["resident@example.org"]]


def test_unwatching_the_ward_before_delivery_withdraws_the_new_issue_email(
    service_type, resident, wards
):
    from issues.models import NotificationEvent
    from tests.factories import CITY_HALL, make_issue, make_user

    neighbour = make_user("neighbour@example.org")
    subscriptions.watch_ward(ward=wards[42], user=neighbour)
    make_issue(service_type, point=CITY_HALL, reporter=resident)  # on_commit not run: pending
    row = Notification.objects.get(event=NotificationEvent.WARD_NEW_ISSUE)
    subscriptions.unsubscribe(email=neighbour.email, scope="ward", target_id=wards[42].pk)
    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    assert mail.outbox == []


def test_turning_the_department_feed_off_before_delivery_withdraws_its_new_issue_email(
    service_type, resident, wards
):
    from issues.models import NotificationEvent
    from tests.factories import CITY_HALL, make_issue

    make_issue(service_type, point=CITY_HALL, reporter=resident)  # on_commit not run: pending
    row = Notification.objects.get(event=NotificationEvent.DEPARTMENT_NEW_ISSUE)
    department = service_type.department
    subscriptions.unsubscribe(
        email=department.contact_email, scope="department", target_id=department.pk
    )
    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    assert mail.outbox == []


def test_requeue_skips_fresh_rows_and_does_not_republish_a_backlog_every_run(pending):
    assert delivery.requeue_pending() == 0  # younger than OUTBOX_REQUEUE_AFTER_SECONDS
    app.conf.task_always_eager = False  # publish nowhere useful: count hand-overs only
    published = []
    original = delivery.publish
    delivery.publish = lambda ids: published.append(list(ids)) or True
    try:
        assert delivery.requeue_pending(older_than_seconds=0) == 2
        assert delivery.requeue_pending(older_than_seconds=0) == 0  # pushed back, not re-sent
    finally:
        delivery.publish = original
    assert published == [[r.pk for r in sorted(pending, key=lambda r: (r.created_at, r.pk))]]


def reset_broker_connections() -> None:
    """Drop Celery's cached broker connections so the next publish uses the current broker_url
    (what a forked worker does, celery.app.base.Celery._after_fork). Not force_close_all(): kombu
    keeps pools per URL in a global registry and would hand the closed one back."""
    app._pool = None
    app.amqp._producer_pool = None
    delivery._broker_down_until = 0.0


@pytest.fixture
def dead_broker(settings):
    """Celery pointed at a closed local port, as when Redis is down; restored afterwards."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_broker_connections()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    reset_broker_connections()


def test_broker_outage_delays_mail_and_loses_none(
    service_type,
    resident,
    follower,
    staff_user,
    wards,
    dead_broker,
    settings,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        fifty_events(
            service_type=service_type, reporter=resident, follower=follower, staff=staff_user
        )
    assert mail.outbox == []
    assert set(Notification.objects.values_list("state", flat=True)) == {"pending"}
    expected = Notification.objects.count()
    # 20 receipts + 20 to the department + 15 comments to the reporter + 15 closings to two people
    assert expected == 20 + 20 + 15 + 30

    # The broker is back: beat's re-queue hands everything over (eager here; a real worker in
    # tests/notify/test_worker_integration.py).
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    reset_broker_connections()
    assert delivery.requeue_pending(older_than_seconds=0) == expected
    assert delivery.requeue_pending(older_than_seconds=0) == 0
    assert len(mail.outbox) == expected
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == expected
    assert not Notification.objects.exclude(state=NotificationState.SENT).exists()


def test_admins_see_failures_and_send_them_again_from_the_workbench(
    client, admin_user, pending, scripted, django_capture_on_commit_callbacks
):
    row = pending[0]
    scripted.script = [refused(row.recipient_email)]
    delivery.deliver(row.pk)
    client.force_login(admin_user)
    listing = client.get("/admin/issues/notification/?state__exact=failed")
    assert listing.status_code == 200 and row.recipient_email in listing.text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/issues/notification/",
            {"action": "resend", "_selected_action": [row.pk]},
            follow=True,
        )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.state == NotificationState.SENT
    assert [m.to for m in mail.outbox] == [[row.recipient_email]]


def test_hotspot_alerts_honour_the_aldermans_and_the_departments_choice(department, wards):
    from issues.models import NotificationEvent
    from tests.factories import make_user

    alderman = make_user("ald@city.example", notify_ward_digest=False)

    def hotspot_row(email, user=None):
        return Notification.objects.create(
            event=NotificationEvent.HOTSPOT,
            dedupe_key=f"hotspot:k:{email}",
            recipient_email=email,
            recipient_user=user,
            subject="Hotspot",
            body_text="5 reports",
        )

    to_alderman = hotspot_row(alderman.email, alderman)
    to_department = hotspot_row(department.contact_email)
    department.notify_new_issues = False
    department.save()
    assert delivery.deliver(to_alderman.pk) == NotificationState.WITHDRAWN
    assert delivery.deliver(to_department.pk) == NotificationState.WITHDRAWN
    assert mail.outbox == []


def test_hotspot_unsubscribe_links_stop_ward_mail_or_the_department_feed(service_type):
    from issues.models import NotificationEvent

    def scope(recipient):
        draft = drafts.Draft(
            event=NotificationEvent.HOTSPOT,
            ref="k",
            recipient=recipient,
            context={"service_type": service_type},
        )
        return rendering._default_scope(draft)

    contact = recipients.Recipient(email="streets@city.example")
    alderman = recipients.Recipient(email="ald@city.example", user=object())
    assert scope(contact) == ("department", service_type.department_id)
    assert scope(alderman) == ("digest", None)
