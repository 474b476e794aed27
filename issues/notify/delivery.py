"""Delivering outbox rows: at most once per row, retried with backoff, never lost.

`schedule_delivery` hands new rows to a worker when their transaction commits (`publish`, through
the Celery task below); beat's re-queue (`requeue_pending`) hands over whatever a dead broker or
worker left pending.

`deliver_many` claims up to CLAIM rows in one locking SELECT (skipping rows another worker
holds), renders the intents among them (issues/notify/rendering.py), sends them over one SMTP
connection and marks the sent ones in one UPDATE, all in one transaction, so two workers cannot
both send a row. Temporary SMTP failures are
retried with exponential backoff; permanent ones (the server refuses the address) are marked failed
and shown in the admin, where staff can re-send them.

The one gap no outbox closes without the mail server's help: if the process dies after the SMTP
server accepted a message but before the database commit, that row is sent again after the
re-queue. Everything else (broker down, worker killed before sending, SMTP down) only delays mail.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
import time
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import console, dummy, locmem
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from issues.models import Notification, NotificationEvent, NotificationState
from issues.notify.background import BackgroundSender
from issues.notify.recipients import opt_outs
from issues.notify.rendering import RENDERED_FIELDS, load_references, render_intent
from issues.notify.withdrawal import WITHDRAWN, visible_items_only, withdrawn_reason

log = logging.getLogger(__name__)

BATCH = 100
# Rows one worker claims, sends and marks in one transaction: a crash resends at most these.
CLAIM = 50
# After a failed publish, this process stops trying the broker for a while: every request would
# otherwise wait for a connection timeout, and the rows are safe in the outbox anyway.
BROKER_PAUSE_SECONDS = 15

_broker_down_until = 0.0


def build_message(row: Notification, connection=None) -> EmailMultiAlternatives:
    headers = {
        "X-CivicFix-Event": row.event,
        # Autoresponders (holiday replies) must not answer a notification (RFC 3834).
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if row.issue_id:
        # Every email about one issue refers to the same (never sent) root message, so mail
        # clients show an issue's updates as one conversation.
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        thread = f"<issue.{row.issue.public_id}@{host}>"
        headers["References"] = thread
        headers["In-Reply-To"] = thread
    if row.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
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
    """True when sending again cannot help: the server refused the address or the message.

    Refusals of our sender address and authentication failures are configuration problems that
    an operator fixes, so those keep retrying; 500-504 are protocol errors, not verdicts."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600 and exc.smtp_code not in (500, 501, 502, 503, 504)
    # A header Django refuses (BadHeaderError) or text that cannot be encoded never gets better.
    return isinstance(exc, ValueError | UnicodeError)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes (capped at 6 hours), with jitter so a recovered server is not hit by
    every retry in the same second."""
    seconds = min(60 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def deliver(notification_id: int, connection=None) -> str:
    """Send one pending row. Returns its state afterwards ('skipped' if not due or held)."""
    session = _Session(connection)
    try:
        return _deliver_batch([notification_id], session).get(notification_id, "skipped")
    finally:
        if connection is None:
            session.close()


def deliver_many(ids: Iterable[int]) -> dict[str, int]:
    """Send rows over one SMTP connection (a new one after any failure, since the server may have
    dropped it), CLAIM at a time. Returns how many ended in each state."""
    ids = list(dict.fromkeys(ids))
    counts: dict[str, int] = {}
    session = _Session(get_connection(fail_silently=False))
    try:
        for start in range(0, len(ids), CLAIM):
            chunk = ids[start : start + CLAIM]
            outcome = _deliver_batch(chunk, session)
            for notification_id in chunk:
                state = outcome.get(notification_id, "skipped")
                counts[state] = counts.get(state, 0) + 1
    finally:
        session.close()
    return counts


def _claim(ids: list[int], now) -> list[Notification]:
    """Lock the due pending rows among `ids`, skipping rows another worker holds (it sends them)."""
    return list(
        # of=self: PostgreSQL cannot lock the nullable side of the issue join.
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=ids, state=NotificationState.PENDING)
        .filter(Q(attempts=0) | Q(next_attempt_at__lte=now))
        .select_related("issue", "issue__reporter", "recipient_user")
        .annotate(opted_out=Exists(opt_outs().filter(address=OuterRef("recipient_email"))))
        .order_by("pk")
    )


def _deliver_batch(ids: list[int], session: _Session) -> dict[int, str]:
    """Claim the rows in one locking SELECT, render and send each, and mark the sent ones in one
    UPDATE, all in one transaction. The lock is what stops a second worker; a crash after a send
    and before the commit sends that batch's rows again (at least once, never lost)."""
    with transaction.atomic():
        now = timezone.now()
        sent: list[Notification] = []
        rows = _claim(ids, now)
        loaded = load_references(rows)
        outcome = {row.pk: _deliver_row(row, session, now, sent, loaded) for row in rows}
        _mark_sent(sent, now)
    return outcome


def _deliver_row(
    row: Notification, session: _Session, now, sent: list[Notification], loaded: dict
) -> str:
    """Render and send one claimed row; a sent row is appended to `sent` (marked by the caller),
    any other outcome is saved here. `loaded`: what the batch's intents name, read at once."""
    # Asked before rendering: a withdrawn row (hidden issue, deleted comment, unsubscribed
    # address) costs no template, and an intent whose comment was deleted is withdrawn, not failed.
    reason = withdrawn_reason(row)
    if reason:
        # A row that could not be rendered failed (someone must fix the template); every other
        # reason is a choice someone made, and the row is withdrawn, not failed.
        unrendered = not row.body_text and not row.render_context
        row.state = NotificationState.FAILED if unrendered else NotificationState.WITHDRAWN
        row.last_error = WITHDRAWN + reason
        row.save(update_fields=["state", "last_error"])
        return row.state
    rendered = list(RENDERED_FIELDS) if render_intent(row, loaded) else []
    if row.state == NotificationState.FAILED:  # could not be rendered
        row.save(update_fields=[*rendered, "state", "last_error"])
        return row.state
    if _recheck_listed_issues(row) and not rendered:
        rendered = list(RENDERED_FIELDS)
    try:
        session.send(build_message(row, connection=session.connection))
    except Exception as exc:
        session.close()
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if is_permanent(exc) or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            row.state = NotificationState.FAILED
            log.warning("Notification %s failed for good: %s", row.pk, row.last_error)
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            log.info("Notification %s will be retried: %s", row.pk, row.last_error)
        row.save(update_fields=[*rendered, "attempts", "last_error", "state", "next_attempt_at"])
        if row.state == NotificationState.PENDING:
            _schedule_retry(row)
        return row.state
    row.rendered_now = bool(rendered)
    sent.append(row)
    return NotificationState.SENT


def _recheck_listed_issues(row: Notification) -> bool:
    """A digest's entries for issues hidden since it was written are taken out now, just before
    sending; True if the bodies changed (stored with the row, so the outbox shows what went)."""
    text, html = visible_items_only(row.body_text, row.body_html)
    if (text, html) == (row.body_text, row.body_html):
        return False
    row.body_text, row.body_html = text, html
    return True


def _mark_sent(rows: list[Notification], now) -> None:
    if not rows:
        return
    # Account emails carry live sign-in links (verification, password reset): once sent, the
    # outbox keeps that it went and its subject, not the link. Rows rendered just now keep what
    # was sent.
    for row in rows:
        if row.event == NotificationEvent.ACCOUNT:
            row.body_text, row.body_html, row.render_context = "", "", {}
    kept = [r for r in rows if r.rendered_now or r.event == NotificationEvent.ACCOUNT]
    if kept:
        Notification.objects.bulk_update(kept, list(RENDERED_FIELDS))
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
        state=NotificationState.SENT, sent_at=now, last_error="", attempts=F("attempts") + 1
    )
    for row in rows:
        row.state, row.sent_at, row.last_error = NotificationState.SENT, now, ""
        row.attempts += 1


class _Session:
    """One SMTP connection for a run of sends, opened when first needed (a batch of rows that are
    all withdrawn needs no session) and again after a failure (the server may have dropped it).
    With no connection, each message opens its own (Django's default)."""

    def __init__(self, connection):
        self.connection = connection
        self.opened = False

    def send(self, message: EmailMultiAlternatives) -> None:
        if self.connection is not None and not self.opened:
            self.opened = _open_quietly(self.connection)
        message.send(fail_silently=False)

    def close(self) -> None:
        if self.connection is not None:
            _close_quietly(self.connection)
        self.opened = False


def _open_quietly(connection) -> bool:
    # If the server is down, the send itself fails next and the row records why.
    try:
        connection.open()
    except Exception:
        return False
    return True


def _close_quietly(connection) -> None:
    # A dead connection has nothing left to close.
    with contextlib.suppress(Exception):
        connection.close()


def _schedule_retry(row: Notification) -> None:
    def _send() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # In-process: never recurse here. The background sender's sweep (or, with a local
            # backend, `requeue_pending` by hand) picks it up when due.
            return
        try:
            send_notifications.apply_async(args=[[row.pk]], eta=row.next_attempt_at)
        except Exception:
            log.warning("Broker unavailable; retry of %s left to the re-queue", row.pk)

    transaction.on_commit(_send)


def requeue_pending(older_than_seconds: int | None = None, limit: int = 5000) -> int:
    """Hand every due pending row to a worker again (the broker was down, a worker died).

    A row that has never been tried is pushed back by the re-queue interval as it is handed over,
    so a backlog bigger than a worker clears in a minute is not queued again every minute.
    Returns the number of rows handed over."""
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
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    handed = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        Notification.objects.filter(pk__in=batch, attempts=0).update(
            next_attempt_at=now + timedelta(seconds=max(age, 60))
        )
        if not publish(batch):
            # Undo the push-back, so the next run tries these again straight away.
            Notification.objects.filter(pk__in=batch, attempts=0).update(next_attempt_at=now)
            break
        handed += len(batch)
    return handed


def resend(rows) -> int:
    """Admin action: put failed rows back in the queue and hand them to a worker."""
    ids = list(rows.filter(state=NotificationState.FAILED).values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(
        state=NotificationState.PENDING, next_attempt_at=timezone.now(), attempts=0, last_error=""
    )
    schedule_delivery(ids)
    return len(ids)


# Handing rows to workers ----------------------------------------------------------------------


# Backends that write on this machine (the console, a file, memory in tests) cannot hang.
# filebased.EmailBackend is a console.EmailBackend.
LOCAL_EMAIL_BACKENDS = (console.EmailBackend, locmem.EmailBackend, dummy.EmailBackend)


def sends_in_background() -> bool:
    """No broker (tasks run eagerly, in the process that asks) and mail leaves the machine: rows
    go to the background sender, never through a resident's request (background.py)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    return not issubclass(import_string(settings.EMAIL_BACKEND), LOCAL_EMAIL_BACKENDS)


background = BackgroundSender(
    send=lambda ids: deliver_many(ids),
    sweep=lambda: requeue_pending(),
    active=sends_in_background,
)


def publish(ids: list[int]) -> bool:
    """Hand rows to a worker now (or, without a broker, to the background sender). False (and a
    log line) when the broker is unreachable: the rows stay pending and beat's re-queue
    delivers them once it is back."""
    global _broker_down_until
    if sends_in_background():
        background.hand_over(ids)
        return True
    try:
        send_notifications.delay(ids)
    except Exception:
        _broker_down_until = time.monotonic() + BROKER_PAUSE_SECONDS
        log.warning("Broker unavailable; %d notification(s) left pending", len(ids), exc_info=True)
        return False
    _broker_down_until = 0.0
    return True


def schedule_delivery(ids: list[int]) -> None:
    """Hand the rows to a worker once the transaction commits (never before: a worker must not
    look for rows that are not committed yet, or that a rollback removes). A dead broker is not
    an error here."""
    if not ids:
        return
    ids = list(ids)

    def _send() -> None:
        if time.monotonic() < _broker_down_until:
            log.info("Broker recently down; %d notification(s) left to the re-queue", len(ids))
            return
        for start in range(0, len(ids), BATCH):
            if not publish(ids[start : start + BATCH]):
                return

    transaction.on_commit(_send)


@shared_task(name="issues.tasks.send_notifications", ignore_result=True)
def send_notifications(ids: list[int]) -> dict[str, int]:
    """The worker's entry point: send these outbox rows. The row, not the task, remembers what
    was sent, so a task delivered twice by the broker sends nothing twice. (Named under
    issues.tasks, where the other jobs are, so queued messages keep their name.)"""
    return deliver_many(ids)
