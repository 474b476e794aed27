"""Writing emails into the outbox: a draft (event, reference, recipient, context) is rendered
from templates/emails/ and stored as one Notification row, unique per event and recipient.

Events (issues/notify/events.py), digests, follow-ups and hotspot alerts all write through
`write_rows`, then hand the new rows to `delivery.schedule_delivery`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.utils import translation

from issues.models import Issue, Notification, NotificationEvent, NotificationState
from issues.notify.links import absolute, unsubscribe_url
from issues.notify.recipients import Recipient, language_for

log = logging.getLogger(__name__)

NOT_RENDERED = "Not rendered: "


@dataclass
class Draft:
    """One email to write: the event, a reference that makes it unique, who, and what to render."""

    event: str
    ref: str
    recipient: Recipient
    issue: Issue | None = None
    ward: object | None = None
    context: dict = field(default_factory=dict)
    unsubscribe_scope: tuple[str, int | None] | None = None


def dedupe_key(event: str, ref: str, email: str) -> str:
    key = f"{event}:{ref}:{email.lower()}"
    if len(key) <= 200:
        return key
    # Truncating could make two long addresses collide; a digest of the address cannot.
    return f"{event}:{ref}:{hashlib.sha256(email.lower().encode()).hexdigest()}"[:200]


def _default_scope(draft: Draft) -> tuple[str, int | None]:
    if draft.unsubscribe_scope is not None:
        return draft.unsubscribe_scope
    if draft.event == NotificationEvent.HOTSPOT:
        # Alerts go to the department's address and the ward's aldermen, not to followers: the
        # link stops the department's feed, or the alderman's ward mail.
        service_type = draft.context.get("service_type")
        if draft.recipient.user is None and service_type is not None:
            return ("department", service_type.department_id)
        return ("digest", None)
    if draft.issue is not None:
        return ("issue", draft.issue.pk)
    if draft.ward is not None:
        return ("ward", draft.ward.pk)
    return ("all", None)


def render(draft: Draft, email: str) -> Notification:
    scope, target = _default_scope(draft)
    unsubscribe = unsubscribe_url(email=email, scope=scope, target_id=target)
    issue = draft.issue
    ctx = {
        "issue": issue,
        "ward": draft.ward,
        **draft.context,
        "recipient": draft.recipient,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "issue_url": absolute(issue.get_absolute_url()) if issue is not None else "",
        "unsubscribe_url": unsubscribe,
        "unsubscribe_scope": scope,
        "unsubscribe_all_url": (
            unsubscribe if scope == "all" else unsubscribe_url(email=email, scope="all")
        ),
    }
    row = Notification(
        event=draft.event,
        dedupe_key=dedupe_key(draft.event, draft.ref, email),
        recipient_email=email,
        recipient_user=draft.recipient.user,
        issue=issue,
        ward=draft.ward or (issue.ward if issue is not None and issue.ward_id else None),
        unsubscribe_url=unsubscribe,
    )
    try:
        # In the recipient's language, whoever caused the email (issues/notify/recipients.py).
        with translation.override(language_for(draft.recipient, issue)):
            subject = " ".join(render_to_string(f"emails/{draft.event}_subject.txt", ctx).split())
            row.subject = subject[:255]
            row.body_text = render_to_string(f"emails/{draft.event}.txt", ctx)
            row.body_html = render_to_string(f"emails/{draft.event}.html", ctx)
    except DatabaseError:
        raise  # the transaction is broken: the event must fail as a whole
    except Exception as exc:
        # A broken template must not refuse a resident's report or a status change: the event is
        # stored, and the failed row (visible in the admin) says which email could not be made.
        log.exception("Could not render %s email for %s", draft.event, email)
        row.subject, row.body_text, row.body_html = (f"({draft.event})", "", "")
        row.state = NotificationState.FAILED
        row.last_error = f"{NOT_RENDERED}{type(exc).__name__}: {exc}"[:2000]
    return row


def write_rows(drafts: Iterable[Draft]) -> list[int]:
    """Render and store many emails in two queries; returns the ids of the new rows.

    Rows whose key already exists are skipped, and a concurrent writer of the same key loses
    quietly (ON CONFLICT DO NOTHING), so the event's transaction never fails over a duplicate.
    """
    drafts = [d for d in drafts if d.recipient.email]
    if not drafts:
        return []
    keyed = {dedupe_key(d.event, d.ref, d.recipient.email): d for d in drafts}
    existing = set(
        Notification.objects.filter(dedupe_key__in=keyed).values_list("dedupe_key", flat=True)
    )
    rows = [render(d, d.recipient.email.lower()) for k, d in keyed.items() if k not in existing]
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows])
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def write_row(
    *,
    event: str,
    ref: str,
    recipient: Recipient,
    issue=None,
    ward=None,
    context: dict,
    unsubscribe_scope: tuple[str, int | None] | None = None,
) -> Notification | None:
    """Render and store one email. Returns None if that event already has a row for them.

    The unsubscribe link stops that issue's mail when there is an issue, else that ward's, else
    everything; `unsubscribe_scope` ("digest", None), ("department", id), ... says otherwise.
    """
    draft = Draft(
        event=event,
        ref=ref,
        recipient=recipient,
        issue=issue,
        ward=ward,
        context=context,
        unsubscribe_scope=unsubscribe_scope,
    )
    ids = write_rows([draft])
    return Notification.objects.get(pk=ids[0]) if ids else None
