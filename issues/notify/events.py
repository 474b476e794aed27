"""Events on an issue and who is told: services call `queue_event` inside the event's
transaction; it picks the recipients, writes one outbox row each (issues/notify/drafts.py) and
schedules delivery for when the transaction commits (issues/notify/delivery.py). A dead broker only
delays the mail: beat re-queues pending rows.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.urls import NoReverseMatch, reverse

from issues.models import STAFF_EVENTS, Issue, NotificationEvent, Status
from issues.notify.areas import instant_recipients
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.links import absolute, not_fixed_url
from issues.notify.recipients import (
    Recipient,
    allowed,
    department_contact,
    issue_followers,
    reporter_only,
    ward_watchers,
)
from issues.selectors import reporter_may_reopen

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


def _admin_url(issue: Issue) -> str:
    try:
        return absolute(reverse("admin:issues_issue_change", args=[issue.pk]))
    except NoReverseMatch:
        return ""


def _created(issue: Issue, ctx: dict, add, *, actor) -> list[Draft]:
    """A new report: the receipt, the department, the ward's watchers (each address once); the
    area alerts' drafts are returned, the rest go through `add`."""
    reporter = allowed(issue_followers(issue), actor=None)
    add(NotificationEvent.ISSUE_CREATED, reporter, f"{issue.pk}")
    taken = [r.email for r in reporter]
    department = allowed(department_contact(issue.department), personal=False, exclude=taken)
    add(
        NotificationEvent.DEPARTMENT_NEW_ISSUE,
        department,
        f"{issue.pk}",
        ("department", issue.department_id),
    )
    if issue.is_hidden:
        return []
    taken += [r.email for r in department]
    watchers = allowed(ward_watchers(issue), actor=actor, personal=False, exclude=taken)
    add(NotificationEvent.WARD_NEW_ISSUE, watchers, f"{issue.pk}", ("ward", issue.ward_id))
    taken += [r.email for r in watchers]
    return _area_drafts(issue, ctx, actor=actor, exclude=taken, ref=f"{issue.pk}")


def recipients_for(event: str, *, issue: Issue, actor=None, **context) -> list[Draft]:
    """Who is told about an event on an issue, as drafts (nothing written). The rules:

    - issue created: a receipt to the reporter, the department's contact address (if it wants
      them), and everyone watching the ward; one email per address even if they are several.
    - status changed / public comment: the reporter and every follower, never the actor.
    - transfer: the receiving department's contact address.
    A hidden issue only ever reaches its reporter and its department.
    """
    drafts: list[Draft] = []
    ctx = {**context, "issue": issue, "actor": actor}

    def add(plan_event: str, recipients: list[Recipient], ref: str, scope=None) -> None:
        plan_ctx = ctx
        if recipients and plan_event in STAFF_EVENTS:
            plan_ctx = {**ctx, "admin_url": _admin_url(issue)}
        drafts.extend(
            Draft(
                event=plan_event,
                ref=ref,
                recipient=r,
                issue=issue,
                context=plan_ctx,
                unsubscribe_scope=scope,
            )
            for r in recipients
        )

    if event == NotificationEvent.ISSUE_CREATED:
        drafts.extend(_created(issue, ctx, add, actor=actor))
    elif event in (NotificationEvent.STATUS_CHANGED, NotificationEvent.COMMENT_ADDED):
        anchor = context[
            "status_change" if event == NotificationEvent.STATUS_CHANGED else "comment"
        ]
        if getattr(anchor, "is_internal", False) or getattr(anchor, "is_hidden", False):
            return []  # internal notes and hidden comments never leave the staff
        followers = issue_followers(issue)
        if issue.is_hidden:
            followers = reporter_only(issue, followers)
        told = allowed(followers, actor=actor)
        closing = event == NotificationEvent.STATUS_CHANGED and _is_closing(anchor)
        if closing:
            ctx.update(_closing_context(issue, anchor))
        add(event, told, f"{anchor.pk}")
        if closing:
            _offer_not_fixed(drafts, issue)
        if (
            event == NotificationEvent.STATUS_CHANGED
            and anchor.from_status == Status.CLOSED
            and anchor.to_status == Status.OPEN
        ):
            _add_reopened(add, issue, anchor=anchor, actor=actor, taken=[r.email for r in told])
        if not issue.is_hidden:
            drafts.extend(
                _area_drafts(
                    issue,
                    {**ctx, "kind": event},
                    actor=actor,
                    exclude=[r.email for r in told],
                    ref=f"{event}:{anchor.pk}",
                    updates=True,
                )
            )
    elif event == NotificationEvent.DEPARTMENT_TRANSFER:
        change = context["status_change"]
        contact = allowed(department_contact(change.to_department), actor=actor, personal=False)
        add(event, contact, f"{change.pk}", ("department", change.to_department_id))
    else:
        raise ValueError(f"queue_event does not handle {event!r}; use the job that owns it")
    return drafts


def _is_closing(change) -> bool:
    return change.to_status == Status.CLOSED and change.from_status != Status.CLOSED


def _closing_context(issue: Issue, change) -> dict:
    """What a closing email shows besides the resolution and the message: the "after" photos,
    as links through the checked /media/ door, never a hidden one, and none for a hidden issue
    (its photos are served to the workbench only)."""
    if issue.is_hidden:
        return {"after_photos": []}
    photos = [p for p in change.photos.all() if not p.is_hidden]
    return {
        "after_photos": [
            {"url": absolute(p.image.url), "thumbnail_url": absolute(p.thumbnail.url)}
            for p in photos
        ]
    }


def _offer_not_fixed(drafts: list[Draft], issue: Issue) -> None:
    """The reporter's copy of a closing email carries a signed "Not fixed?" link, while the
    reporter may still reopen (issues/selectors/residents.py); everyone else is pointed to the
    page's "still there" update. Each draft gets its own context: the link names the address."""
    own = (issue.contact_email or "").lower()
    if not own or not reporter_may_reopen(issue):
        return
    for draft in drafts:
        if draft.event == NotificationEvent.STATUS_CHANGED and draft.recipient.email.lower() == own:
            draft.context = {**draft.context, "not_fixed_url": not_fixed_url(issue, own)}


def _add_reopened(add, issue: Issue, *, anchor, actor, taken: list[str]) -> None:
    """A reopening is work again: the department and the assignee hear of it, not only the
    followers (`taken`, already told)."""
    contact = allowed(
        department_contact(issue.department), actor=actor, personal=False, exclude=taken
    )
    add(
        NotificationEvent.ISSUE_REOPENED,
        contact,
        f"{anchor.pk}",
        ("department", issue.department_id),
    )
    taken += [r.email for r in contact]
    assignee = (
        [Recipient(email=issue.assignee.email, user=issue.assignee)]
        if (issue.assignee_id and issue.assignee.email)
        else []
    )
    add(
        NotificationEvent.ISSUE_REOPENED,
        allowed(assignee, actor=actor, personal=False, exclude=taken),
        f"{anchor.pk}",
    )


def _area_drafts(
    issue: Issue, ctx: dict, *, actor, exclude: list[str], ref: str, updates: bool = False
) -> list[Draft]:
    """Emails to the people whose alert area holds the issue (issues/notify/areas.py), one per
    address, never to someone already told about this event another way."""
    matched = instant_recipients(issue, updates=updates)
    if not matched:
        return []
    told = {
        r.email
        for r in allowed(
            [m.recipient for m in matched], actor=actor, personal=False, exclude=exclude
        )
    }
    return [
        Draft(
            event=NotificationEvent.AREA_ALERT,
            ref=ref,
            recipient=m.recipient,
            issue=issue,
            context={**ctx, "alert": m.alert},
            unsubscribe_scope=("alert", m.alert.pk),
        )
        for m in matched
        if m.recipient.email in told
    ]


def queue_event(event: str, *, issue: Issue | None = None, actor=None, **context) -> list[int]:
    """Write the outbox rows for an event and schedule their delivery on commit. The rows are
    intents: the worker renders them, so the request that caused the event does not."""
    if is_suppressed():
        return []
    drafts = recipients_for(event, issue=issue, actor=actor, **context)
    ids = write_rows(drafts, defer=True)
    schedule_delivery(ids)
    return ids
