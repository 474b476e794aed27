"""Delivering outbox rows: exactly once, retried with backoff, never lost.

`deliver` takes the row under a lock (skipping rows another worker holds), sends it, and marks it
sent in the same transaction, so two workers cannot both send it. Temporary SMTP failures are
retried with exponential backoff; permanent ones (the server refuses the address) are marked failed
and shown in the admin, where staff can re-send them.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from issues.models import Notification, NotificationState

log = logging.getLogger(__name__)


def build_message(row: Notification, connection=None) -> EmailMultiAlternatives:
    headers = {}
    if row.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    headers["X-CivicFix-Event"] = row.event
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient_email],  # one recipient per message: nobody sees another's address
        headers=headers,
        connection=connection,
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def is_permanent(exc: Exception) -> bool:
    """5xx answers about the recipient are final; everything else may pass."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600 and exc.smtp_code not in (500, 502, 503, 504)
    return False


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def deliver(notification_id: int, connection=None) -> str:
    """Send one pending row. Returns its state afterwards ('skipped' if not due or held)."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, state=NotificationState.PENDING)
            .first()
        )
        if row is None:
            return "skipped"
        now = timezone.now()
        if row.next_attempt_at > now and row.attempts > 0:
            return "skipped"
        row.attempts += 1
        try:
            build_message(row, connection=connection).send(fail_silently=False)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if is_permanent(exc) or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                row.state = NotificationState.FAILED
                log.warning("Notification %s failed for good: %s", row.pk, row.last_error)
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                log.info("Notification %s will be retried: %s", row.pk, row.last_error)
            row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            if row.state == NotificationState.PENDING:
                _schedule_retry(row)
            return row.state
        row.state = NotificationState.SENT
        row.sent_at = now
        row.last_error = ""
        row.save(update_fields=["attempts", "state", "sent_at", "last_error"])
        return row.state


def _schedule_retry(row: Notification) -> None:
    def _send() -> None:
        from issues.tasks import send_notifications

        if settings.CELERY_TASK_ALWAYS_EAGER:
            return  # in-process: beat's re-queue picks it up when due; never recurse here
        try:
            send_notifications.apply_async(args=[[row.pk]], eta=row.next_attempt_at)
        except Exception:
            log.warning("Broker unavailable; retry of %s left to the re-queue", row.pk)

    transaction.on_commit(_send)


def requeue_pending(older_than_seconds: int | None = None) -> int:
    """Hand every due pending row to a worker again (broker was down, a worker died)."""
    from issues.tasks import send_notifications

    age = (
        settings.OUTBOX_REQUEUE_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    )
    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            state=NotificationState.PENDING,
            next_attempt_at__lte=now,
            created_at__lte=now - timedelta(seconds=age),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:5000]
    )
    for start in range(0, len(ids), 100):
        send_notifications.delay(ids[start : start + 100])
    return len(ids)


def resend(rows) -> int:
    """Admin action: put failed rows back in the queue."""
    count = rows.filter(state=NotificationState.FAILED).update(
        state=NotificationState.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    return count
