"""An event's emails are written as intents in the request and rendered by the worker: the
request renders no email template, the worker's rows say exactly what rendering them at once
would have said, and two workers delivering the same batch send each email once."""

from __future__ import annotations

import re
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext

from issues import services
from issues.models import (
    Notification,
    NotificationEvent,
    NotificationState,
    Photo,
    Status,
    StatusChange,
)
from issues.notify import delivery, events, rendering, subscriptions, withdrawal
from issues.photos import prepare_photo
from tests.factories import make_issue, make_user
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_templates_rendered():
    """Names of the email templates rendered while the test runs."""
    names: list[str] = []

    def seen(sender, template, context, **kwargs):
        if (template.name or "").startswith("emails/"):
            names.append(template.name)

    template_rendered.connect(seen)
    yield names
    template_rendered.disconnect(seen)


def _without_tokens(text: str) -> str:
    # Signed links carry the second they were signed in; the rest must be the same.
    return re.sub(r"/unsubscribe/[^/\"\s]+/", "/unsubscribe/TOKEN/", text)


def test_a_report_writes_intent_rows_and_renders_no_email_in_the_request(
    service_type, resident, wards, email_templates_rendered, django_capture_on_commit_callbacks
):
    subscriptions.watch_ward(ward=wards[42], email="watcher@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issue = make_issue(service_type, reporter=resident)
    rows = list(Notification.objects.filter(issue=issue))
    assert len(rows) == 3  # receipt, department, watcher
    assert email_templates_rendered == []
    assert all(r.body_text == "" and r.subject == "" and r.render_context for r in rows)
    assert all(r.state == NotificationState.PENDING for r in rows)

    for callback in callbacks:  # the commit hands the rows to the (eager) worker
        callback()
    assert email_templates_rendered  # the worker rendered them
    sent = Notification.objects.filter(issue=issue, state=NotificationState.SENT)
    assert sent.count() == 3 and not sent.filter(body_text="").exists()
    assert not sent.exclude(render_context={}).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient_email for r in rows)


def test_the_worker_renders_what_the_request_would_have(
    issue, follower, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change = services.change_status(
            issue=issue, to=Status.CLOSED, by=staff_user, message="Filled & rolled <flat>"
        )
    drafts = events.recipients_for(
        NotificationEvent.STATUS_CHANGED, issue=issue, actor=staff_user, status_change=change
    )
    expected = {d.recipient.email: rendering.render(d, d.recipient.email) for d in drafts}
    for callback in callbacks:
        callback()
    rows = Notification.objects.filter(issue=issue, event=NotificationEvent.STATUS_CHANGED)
    assert {r.recipient_email for r in rows} == set(expected) and len(expected) == 2
    for row in rows:
        want = expected[row.recipient_email]
        assert row.state == NotificationState.SENT
        assert row.subject == want.subject
        assert _without_tokens(row.body_text) == _without_tokens(want.body_text)
        assert _without_tokens(row.body_html) == _without_tokens(want.body_html)
        assert (
            row.unsubscribe_url.split("/unsubscribe/")[0]
            == want.unsubscribe_url.split("/unsubscribe/")[0]
        )


def test_a_closing_with_an_after_photo_renders_no_email_in_the_request(
    issue, follower, staff_user, email_templates_rendered, django_capture_on_commit_callbacks
):
    # The closing email's photo links are plain data: they were once refused as a "reference",
    # so every status change's emails were rendered inside the staff member's request.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.change_status(
            issue=issue,
            to=Status.CLOSED,
            by=staff_user,
            message="Patched.",
            photos=[prepare_photo(upload("after.jpg", jpeg_bytes()))],
        )
    rows = list(Notification.objects.filter(issue=issue, event=NotificationEvent.STATUS_CHANGED))
    assert len(rows) == 2 and email_templates_rendered == []
    assert all(r.body_text == "" and r.render_context for r in rows)
    (links,) = {str(r.render_context["context"]["after_photos"]) for r in rows}
    photo = Photo.objects.get(issue=issue, status_change__isnull=False)
    assert photo.image.url in links

    for callback in callbacks:
        callback()
    for row in Notification.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.state == NotificationState.SENT
        assert photo.image.url in row.body_text and photo.thumbnail.url in row.body_html


def test_an_intent_whose_comment_was_deleted_is_withdrawn_without_rendering(
    issue, follower, wards, email_templates_rendered
):
    comment = services.add_comment(issue=issue, author=make_user(), body="Still there")
    row = Notification.objects.get(
        issue=issue, event=NotificationEvent.COMMENT_ADDED, recipient_email=follower.email
    )
    assert row.render_context
    comment.delete()
    email_templates_rendered.clear()
    # Someone chose to delete it: nothing for the outbox's failures, and no template rendered.
    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    row.refresh_from_db()
    assert row.last_error == withdrawal.WITHDRAWN + "the comment was hidden or deleted."
    assert email_templates_rendered == [] and mail.outbox == []


def test_an_intent_whose_subject_is_gone_fails_with_a_reason_instead_of_sending(
    issue, follower, staff_user, settings
):
    (row_id,) = [
        pk
        for pk in _pending_status_rows(issue, staff_user, settings, followers=0)
        if Notification.objects.get(pk=pk).recipient_email == issue.contact_email
    ]
    StatusChange.objects.filter(issue=issue).delete()
    assert delivery.deliver(row_id) == NotificationState.FAILED
    row = Notification.objects.get(pk=row_id)
    assert row.last_error.startswith(rendering.NOT_RENDERED) and mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_batch_send_each_email_exactly_once(issue, staff_user, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL (set DATABASE_URL=postgres://...)")
    settings.EMAIL_BACKEND = "tests.notify.backends.SlowBackend"
    for i in range(6):
        subscriptions.follow_issue(issue=issue, user=make_user(f"f{i}@example.org"))
    settings.CELERY_TASK_ALWAYS_EAGER = False  # rows stay pending: the two workers below send
    delivery.publish, publish = (lambda ids: True), delivery.publish
    try:
        services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    finally:
        delivery.publish = publish
    ids = list(Notification.objects.filter(issue=issue).values_list("pk", flat=True))
    assert len(ids) == 7  # reporter and six followers
    mail.outbox.clear()
    counts, start = [], threading.Barrier(2)

    def worker(order):
        try:
            start.wait()
            counts.append(delivery.deliver_many(order))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(order,)) for order in (ids, list(reversed(ids)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Notification.objects.filter(pk__in=ids).values_list("recipient_email", flat=True)
    )
    assert sum(c.get(NotificationState.SENT, 0) for c in counts) == 7
    rows = Notification.objects.filter(pk__in=ids)
    assert set(rows.values_list("state", "attempts")) == {(NotificationState.SENT, 1)}


def _pending_status_rows(issue, staff_user, settings, followers: int) -> list[int]:
    for i in range(followers):
        subscriptions.follow_issue(issue=issue, user=make_user(f"n{followers}-{i}@example.org"))
    settings.CELERY_TASK_ALWAYS_EAGER = False  # rows stay pending: the test delivers them
    delivery.publish, publish = (lambda ids: True), delivery.publish
    try:
        services.change_status(
            issue=issue, to=Status.ACKNOWLEDGED, by=staff_user, message="On the list"
        )
    finally:
        delivery.publish = publish
    return list(
        Notification.objects.filter(
            issue=issue, event=NotificationEvent.STATUS_CHANGED, state=NotificationState.PENDING
        ).values_list("pk", flat=True)
    )


def test_rendering_a_batch_of_intents_reads_what_they_name_once_not_once_per_row(
    service_type, resident, staff_user, settings
):

    def queries_to_deliver(followers: int) -> int:
        issue = make_issue(service_type, reporter=resident)
        ids = _pending_status_rows(issue, staff_user, settings, followers)
        assert len(ids) == followers + 1  # and the reporter
        with CaptureQueriesContext(connection) as ctx:
            counts = delivery.deliver_many(ids)
        assert counts == {NotificationState.SENT: followers + 1}
        # Each row's "still following?" check (issues/notify/withdrawal.py) is one query a row
        # of its own; what is counted here is what rendering reads.
        return sum("issues_subscription" not in q["sql"] for q in ctx.captured_queries)

    few, many = queries_to_deliver(3), queries_to_deliver(30)
    assert many == few, f"{few} queries for 4 rows, {many} for 31"
