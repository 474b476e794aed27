"""The outbox: who hears about what, written as Notification rows inside the event's transaction.

Services call `queue_event`; it decides the recipients, renders each email and writes one row per
recipient (a unique key per event and recipient makes a second row impossible). Delivery is only
scheduled when the transaction commits, and a dead broker only delays it: beat re-queues pending rows.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from issues.models import EmailOptOut, Issue, Notification, NotificationEvent, Subscription

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "civicfix.unsubscribe"

_local = threading.local()


@contextmanager
def suppressed():
    """Write history without telling anyone: demo data and imports of a city's past."""
    previous = getattr(_local, "suppressed", False)
    _local.suppressed = True
    try:
        yield
    finally:
        _local.suppressed = previous


def is_suppressed() -> bool:
    return getattr(_local, "suppressed", False)


@dataclass(frozen=True)
class Recipient:
    email: str
    user: object | None = None
    subscription: Subscription | None = None


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_token(*, email: str, scope: str, target_id: int | None = None) -> str:
    """A signed, sign-in-free token: scope is 'issue', 'ward' or 'all'."""
    return signing.dumps({"e": email.lower(), "s": scope, "t": target_id}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> dict:
    return signing.loads(token, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, email: str, scope: str, target_id: int | None = None) -> str:
    token = unsubscribe_token(email=email, scope=scope, target_id=target_id)
    return absolute(reverse("notifications:unsubscribe", kwargs={"token": token}))


def _issue_followers(issue: Issue) -> list[Recipient]:
    subs = Subscription.objects.filter(issue=issue).select_related("user")
    return [Recipient(email=s.address, user=s.user, subscription=s) for s in subs]


def _ward_watchers(issue: Issue) -> list[Recipient]:
    if not issue.ward_id:
        return []
    subs = Subscription.objects.filter(ward_id=issue.ward_id).select_related("user")
    return [Recipient(email=s.address, user=s.user, subscription=s) for s in subs]


def _department_contact(department) -> list[Recipient]:
    if department and department.notify_new_issues and department.contact_email:
        return [Recipient(email=department.contact_email)]
    return []


def _allowed(recipients: list[Recipient], *, actor=None, personal: bool = True) -> list[Recipient]:
    """Drop the actor, opted-out addresses, people who turned updates off, and repeats."""
    actor_email = (getattr(actor, "email", "") or "").lower() if actor else ""
    emails = {r.email.lower() for r in recipients if r.email}
    opted_out = set(EmailOptOut.objects.filter(email__in=emails).values_list("email", flat=True))
    seen: set[str] = set()
    result = []
    for r in recipients:
        email = (r.email or "").lower()
        if not email or email in seen or email == actor_email or email in opted_out:
            continue
        if personal and r.user is not None and (not r.user.is_active or not r.user.notify_updates):
            continue
        seen.add(email)
        result.append(r)
    return result


def queue_event(event: str, *, issue: Issue | None = None, actor=None, **context) -> list[int]:
    """Write the outbox rows for an event and schedule their delivery on commit."""
    if is_suppressed():
        return []
    plans: list[tuple[str, list[Recipient], str]] = []
    if event == NotificationEvent.ISSUE_CREATED:
        plans.append((event, _allowed(_issue_followers(issue), actor=None), f"{issue.pk}"))
        plans.append(
            (
                NotificationEvent.WARD_NEW_ISSUE,
                _allowed(_ward_watchers(issue), actor=actor),
                f"{issue.pk}",
            )
        )
        plans.append(
            (
                NotificationEvent.DEPARTMENT_NEW_ISSUE,
                _allowed(_department_contact(issue.department), personal=False),
                f"{issue.pk}",
            )
        )
    elif event == NotificationEvent.STATUS_CHANGED:
        change = context["status_change"]
        plans.append((event, _allowed(_issue_followers(issue), actor=actor), f"{change.pk}"))
    elif event == NotificationEvent.COMMENT_ADDED:
        comment = context["comment"]
        plans.append((event, _allowed(_issue_followers(issue), actor=actor), f"{comment.pk}"))
    elif event == NotificationEvent.DEPARTMENT_TRANSFER:
        change = context["status_change"]
        plans.append(
            (
                event,
                _allowed(_department_contact(change.to_department), actor=actor, personal=False),
                f"{change.pk}",
            )
        )
    else:
        raise ValueError(f"queue_event does not handle {event!r}; use the task that owns it")

    ids: list[int] = []
    for plan_event, recipients, ref in plans:
        for recipient in recipients:
            row = write_row(
                event=plan_event,
                ref=ref,
                recipient=recipient,
                issue=issue,
                context={**context, "issue": issue, "actor": actor},
            )
            if row is not None:
                ids.append(row.pk)
    schedule_delivery(ids)
    return ids


def write_row(
    *, event: str, ref: str, recipient: Recipient, issue=None, ward=None, context: dict
) -> Notification | None:
    """Render and store one email. Returns None if that event already has a row for them."""
    email = recipient.email.lower()
    dedupe_key = f"{event}:{ref}:{email}"[:200]
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    scope, target = (
        ("issue", issue.pk) if issue is not None else ("ward", getattr(ward, "pk", None))
    )
    if event in (NotificationEvent.DEPARTMENT_NEW_ISSUE, NotificationEvent.DEPARTMENT_TRANSFER):
        scope, target = "all", None
    elif event == NotificationEvent.WARD_NEW_ISSUE and issue is not None:
        scope, target = "ward", issue.ward_id
    unsubscribe = unsubscribe_url(email=email, scope=scope, target_id=target)
    ctx = {
        **context,
        "recipient": recipient,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "issue_url": absolute(issue.get_absolute_url()) if issue is not None else "",
        "unsubscribe_url": unsubscribe,
        "unsubscribe_all_url": unsubscribe_url(email=email, scope="all"),
    }
    subject = " ".join(render_to_string(f"emails/{event}_subject.txt", ctx).split())
    body_text = render_to_string(f"emails/{event}.txt", ctx)
    body_html = render_to_string(f"emails/{event}.html", ctx)
    return Notification.objects.create(
        event=event,
        dedupe_key=dedupe_key,
        recipient_email=email,
        recipient_user=recipient.user,
        issue=issue,
        ward=ward or (issue.ward if issue is not None else None),
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        unsubscribe_url=unsubscribe,
    )


def schedule_delivery(ids: list[int]) -> None:
    """Hand the rows to a worker once the transaction commits. A dead broker is not an error
    here: the rows are stored, and beat's re-queue delivers them when it is back."""
    if not ids:
        return

    def _send() -> None:
        from issues.tasks import send_notifications

        try:
            send_notifications.delay(ids)
        except Exception:
            log.warning("Broker unavailable; %d notification(s) left pending", len(ids))

    transaction.on_commit(_send)
