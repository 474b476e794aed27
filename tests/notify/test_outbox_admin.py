"""The admin's outbox: an email withdrawn on purpose (its issue hidden, its recipient
unsubscribed) shows and counts as withdrawn, never as failed, and is not offered for re-sending."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues.models import EmailOptOut, Notification, NotificationEvent, NotificationState
from issues.notify import delivery
from tests.factories import make_issue

pytestmark = pytest.mark.django_db

OUTBOX = "/admin/issues/notification/"


def test_a_withdrawn_email_shows_and_counts_as_withdrawn(client, admin_user, service_type):
    make_issue(service_type)  # on_commit not run here: its emails stay pending
    row = Notification.objects.get(event=NotificationEvent.DEPARTMENT_NEW_ISSUE)
    EmailOptOut.objects.create(email=row.recipient_email)
    assert delivery.deliver(row.pk) == NotificationState.WITHDRAWN
    client.force_login(admin_user)

    page = client.get(OUTBOX).content.decode()

    assert "Withdrawn (1)" in page and "Failed (0)" in page
    assert "the address unsubscribed from everything." in page  # why, in its own column
    failed = client.get(OUTBOX, {"state": "failed"}).content.decode()
    assert row.recipient_email not in failed
    withdrawn = client.get(OUTBOX, {"state": "withdrawn"}).content.decode()
    assert row.recipient_email in withdrawn
    assert delivery.resend(Notification.objects.filter(pk=row.pk)) == 0


def test_a_template_that_cannot_render_still_counts_as_failed(service_type):
    make_issue(service_type)
    row = Notification.objects.get(event=NotificationEvent.DEPARTMENT_NEW_ISSUE)
    # As rendering leaves a row it could not render: no body, and nothing left to render from
    # (an intent, with its render_context, is rendered by the worker instead).
    Notification.objects.filter(pk=row.pk).update(body_text="", render_context={})

    assert delivery.deliver(row.pk) == NotificationState.FAILED


def test_a_filtered_outbox_page_counts_its_rows_once_and_not_the_whole_table_again(
    client, admin_user
):
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(OUTBOX, {"state": "failed"}).status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1, counts  # the filtered page's own; the facets are the other counts
