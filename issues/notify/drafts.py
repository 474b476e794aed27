"""Writing emails into the outbox: a draft (event, reference, recipient, context) becomes one
Notification row, unique per event and recipient, rendered from templates/emails/ now or, for an
event in a resident's request, by the worker (issues/notify/rendering.py).

Events (issues/notify/events.py), digests, follow-ups and hotspot alerts all write through
`write_rows`, then hand the new rows to `delivery.schedule_delivery`.
"""

from __future__ import annotations

from collections.abc import Iterable

from issues.models import Notification
from issues.notify.recipients import Recipient
from issues.notify.rendering import Draft, dedupe_key, intent, render


def write_rows(drafts: Iterable[Draft], *, defer: bool = False) -> list[int]:
    """Store many emails in three queries; returns the ids of the new rows. Rendered now, or
    with `defer` written as intents that the worker renders before sending (the templates,
    links and signatures then cost the request nothing).

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
    make = intent if defer else render
    rows = [make(d, d.recipient.email.lower()) for k, d in keyed.items() if k not in existing]
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
