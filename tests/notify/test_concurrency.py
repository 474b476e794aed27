"""Two workers on one row at the same moment: the row lock lets exactly one send it.

PostgreSQL only: SQLite has no row locks (it serialises whole-database writes instead)."""

import threading

import pytest
from django.core import mail
from django.db import connection, connections

from issues import services
from issues.models import Notification, NotificationState, Status
from issues.notify import delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_delivering_the_same_row_send_it_once(issue, staff_user, settings):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL (set DATABASE_URL=postgres://...)")
    settings.EMAIL_BACKEND = "tests.notify.backends.SlowBackend"
    services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    row = Notification.objects.get(issue=issue)
    # With autocommit the eager on-commit delivery already sent it: make it pending again.
    Notification.objects.filter(pk=row.pk).update(state=NotificationState.PENDING, attempts=0)
    mail.outbox.clear()
    results, start = [], threading.Barrier(2)

    def worker():
        try:
            start.wait()
            results.append(delivery.deliver(row.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [NotificationState.SENT, "skipped"]
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.state == NotificationState.SENT and row.attempts == 1
