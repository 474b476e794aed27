"""The outbox: who hears about what, written as Notification rows inside the event's transaction.

Services call `queue_event`; it decides the recipients, renders each email and writes one row per
recipient (a unique key per event and recipient makes a second row impossible). Delivery is only
scheduled when the transaction commits, and a dead broker only delays it: beat re-queues pending rows.

Other jobs (the hotspot alerts, digests, follow-ups) write their own rows with `write_row` (or
`write_rows`) and then call `schedule_delivery`; both are a stable public interface.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from departments.models import Department, Ward
from issues.models import (
    EmailOptOut,
    Issue,
    Notification,
    NotificationEvent,
    NotificationState,
    Subscription,
)

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "civicfix.unsubscribe"
NOT_RENDERED = "Not rendered: "
# What an unsubscribe link can stop: one issue, one watched ward, the aldermen's digest, a
# department's feed of new issues, or everything sent to the address.
SCOPES = ("issue", "ward", "digest", "department", "all")

# After a failed publish, this process stops trying the broker for a while: every request would
# otherwise wait for a connection timeout, and the rows are safe in the outbox anyway.
BROKER_PAUSE_SECONDS = 15

_local = threading.local()
_broker_down_until = 0.0


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


@contextmanager
def on_behalf_of(email: str):
    """The system acts for a person (the reporter answering "not fixed"): they caused the event,
    so, like any actor, they are not emailed about it."""
    previous = getattr(_local, "acting_for", "")
    _local.acting_for = (email or "").lower()
    try:
        yield
    finally:
        _local.acting_for = previous


@dataclass(frozen=True)
class Recipient:
    email: str
    user: object | None = None
    subscription: Subscription | None = None


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


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_token(*, email: str, scope: str, target_id: int | None = None) -> str:
    """A signed, sign-in-free token. It never expires: an old email's link must keep working."""
    if scope not in SCOPES:
        raise ValueError(f"unknown unsubscribe scope {scope!r}")
    return signing.dumps({"e": email.lower(), "s": scope, "t": target_id}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> dict:
    """The token's content; raises signing.BadSignature for a forged or mangled token."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("s") not in SCOPES or not data.get("e"):
        raise signing.BadSignature("Not an unsubscribe token.")
    return data


def unsubscribe_url(*, email: str, scope: str, target_id: int | None = None) -> str:
    token = unsubscribe_token(email=email, scope=scope, target_id=target_id)
    return absolute(reverse("notifications:unsubscribe", kwargs={"token": token}))


# Recipients ------------------------------------------------------------------------------------


def opt_outs():
    """Opt-outs by lower-cased `address`: staff may type one in the admin with capitals."""
    return EmailOptOut.objects.annotate(address=Lower("email"))


def _issue_followers(issue: Issue) -> list[Recipient]:
    subs = Subscription.objects.filter(issue=issue).select_related("user").order_by("pk")
    return [Recipient(email=s.address, user=s.user, subscription=s) for s in subs]


def _ward_watchers(issue: Issue) -> list[Recipient]:
    if not issue.ward_id:
        return []
    subs = Subscription.objects.filter(ward_id=issue.ward_id).select_related("user").order_by("pk")
    return [Recipient(email=s.address, user=s.user, subscription=s) for s in subs]


def _department_contact(department) -> list[Recipient]:
    if department and department.notify_new_issues and department.contact_email:
        return [Recipient(email=department.contact_email)]
    return []


def _reporter_only(issue: Issue, recipients: list[Recipient]) -> list[Recipient]:
    """A hidden issue is nobody else's business: only its reporter still hears about it."""
    own = (issue.contact_email or "").lower()
    return [r for r in recipients if own and r.email.lower() == own]


def _allowed(
    recipients: list[Recipient],
    *,
    actor=None,
    personal: bool = True,
    exclude: Iterable[str] = (),
) -> list[Recipient]:
    """Drop the actor, opted-out addresses, inactive accounts, people who turned updates off
    (`personal`: mail about issues they report or follow), addresses in `exclude`, and repeats."""
    skip = {e.lower() for e in exclude if e}
    actor_email = (getattr(actor, "email", "") or "").lower() if actor else ""
    actor_id = getattr(actor, "pk", None) if actor else None
    skip |= {e for e in (actor_email, getattr(_local, "acting_for", "")) if e}
    emails = {r.email.lower() for r in recipients if r.email}
    if not emails:
        return []
    opted_out = set(opt_outs().filter(address__in=emails).values_list("address", flat=True))
    # An address-only follower may also own an account; that account's settings still apply.
    users = get_user_model().objects.filter(email__in=emails)
    unwilling = set(
        users.filter(is_active=False).values_list("email", flat=True)
        if not personal
        else users.exclude(is_active=True, notify_updates=True).values_list("email", flat=True)
    )
    seen: set[str] = set()
    result = []
    for r in recipients:
        email = (r.email or "").lower()
        if not email or email in seen or email in skip or email in opted_out:
            continue
        if email in unwilling or (actor_id is not None and getattr(r.user, "pk", None) == actor_id):
            continue
        if r.user is not None and (
            not r.user.is_active or (personal and not r.user.notify_updates)
        ):
            continue
        seen.add(email)
        result.append(r)
    return result


# Events ------------------------------------------------------------------------------------------

# Mail to a department's own address: it links to the staff workbench, and a hidden issue still
# reaches it (the staff see hidden issues).
STAFF_EVENTS = (NotificationEvent.DEPARTMENT_NEW_ISSUE, NotificationEvent.DEPARTMENT_TRANSFER)


def _admin_url(issue: Issue) -> str:
    try:
        return absolute(reverse("admin:issues_issue_change", args=[issue.pk]))
    except NoReverseMatch:
        return ""


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
        reporter = _allowed(_issue_followers(issue), actor=None)
        add(event, reporter, f"{issue.pk}")
        taken = [r.email for r in reporter]
        department = _allowed(_department_contact(issue.department), personal=False, exclude=taken)
        add(
            NotificationEvent.DEPARTMENT_NEW_ISSUE,
            department,
            f"{issue.pk}",
            ("department", issue.department_id),
        )
        if not issue.is_hidden:
            taken += [r.email for r in department]
            watchers = _allowed(_ward_watchers(issue), actor=actor, personal=False, exclude=taken)
            add(NotificationEvent.WARD_NEW_ISSUE, watchers, f"{issue.pk}", ("ward", issue.ward_id))
    elif event in (NotificationEvent.STATUS_CHANGED, NotificationEvent.COMMENT_ADDED):
        anchor = context[
            "status_change" if event == NotificationEvent.STATUS_CHANGED else "comment"
        ]
        if getattr(anchor, "is_internal", False) or getattr(anchor, "is_hidden", False):
            return []  # internal notes and hidden comments never leave the staff
        followers = _issue_followers(issue)
        if issue.is_hidden:
            followers = _reporter_only(issue, followers)
        add(event, _allowed(followers, actor=actor), f"{anchor.pk}")
    elif event == NotificationEvent.DEPARTMENT_TRANSFER:
        change = context["status_change"]
        contact = _allowed(_department_contact(change.to_department), actor=actor, personal=False)
        add(event, contact, f"{change.pk}", ("department", change.to_department_id))
    else:
        raise ValueError(f"queue_event does not handle {event!r}; use the job that owns it")
    return drafts


def queue_event(event: str, *, issue: Issue | None = None, actor=None, **context) -> list[int]:
    """Write the outbox rows for an event and schedule their delivery on commit."""
    if is_suppressed():
        return []
    drafts = recipients_for(event, issue=issue, actor=actor, **context)
    ids = write_rows(drafts)
    schedule_delivery(ids)
    return ids


# Writing rows ------------------------------------------------------------------------------------


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


def _render(draft: Draft, email: str) -> Notification:
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
    rows = [_render(d, d.recipient.email.lower()) for k, d in keyed.items() if k not in existing]
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


# Delivery ----------------------------------------------------------------------------------------


def publish(ids: list[int]) -> bool:
    """Hand rows to a worker now. False (and a log line) when the broker is unreachable: the
    rows stay pending and beat's re-queue delivers them once it is back."""
    global _broker_down_until
    from issues.tasks import send_notifications

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
        for start in range(0, len(ids), 100):
            if not publish(ids[start : start + 100]):
                return

    transaction.on_commit(_send)


# Unsubscribing -----------------------------------------------------------------------------------


def _subscriptions_of(email: str, **target):
    return Subscription.objects.filter(
        Q(user__isnull=True, email=email) | Q(user__email=email), **target
    )


def unsubscribe(*, email: str, scope: str, target_id: int | None = None) -> int:
    """Stop the mail an unsubscribe link names. Idempotent; returns how many things changed.

    issue: stop following the issue; ward: stop watching the ward; digest: an alderman's daily
    digest and hotspot alerts; department: the department's feed of new issues (its contact
    address only); all: every email to the address (EmailOptOut)."""
    email = email.lower()
    if scope == "issue":
        return _subscriptions_of(email, issue_id=target_id).delete()[0]
    if scope == "ward":
        return _subscriptions_of(email, ward_id=target_id).delete()[0]
    if scope == "digest":
        return (
            get_user_model()
            .objects.filter(email=email, notify_ward_digest=True)
            .update(notify_ward_digest=False)
        )
    if scope == "department":
        return Department.objects.filter(
            pk=target_id, contact_email__iexact=email, notify_new_issues=True
        ).update(notify_new_issues=False)
    if scope == "all":
        if opt_outs().filter(address=email).exists():
            return 0
        return int(EmailOptOut.objects.get_or_create(email=email)[1])
    raise ValueError(f"unknown unsubscribe scope {scope!r}")


def resubscribe(*, email: str, scope: str, target_id: int | None = None) -> int:
    """Undo `unsubscribe` (a click by mistake). Following again goes through the same service as
    the follow button."""
    from issues import services  # services imports this module

    email = email.lower()
    if scope in ("issue", "ward"):
        model = Issue if scope == "issue" else Ward
        target = model.objects.filter(pk=target_id).first()
        if target is None:
            return 0
        user = get_user_model().objects.filter(email=email, is_active=True).first()
        who = {"user": user} if user else {"email": email}
        if scope == "issue":
            services.follow_issue(issue=target, **who)
        else:
            services.watch_ward(ward=target, **who)
        return 1
    if scope == "digest":
        return get_user_model().objects.filter(email=email).update(notify_ward_digest=True)
    if scope == "department":
        return Department.objects.filter(pk=target_id, contact_email__iexact=email).update(
            notify_new_issues=True
        )
    if scope == "all":
        return EmailOptOut.objects.filter(email__iexact=email).delete()[0]
    raise ValueError(f"unknown unsubscribe scope {scope!r}")


def queue_account_email(*, email: str, kind: str, subject: str, body_text: str, user=None) -> int:
    """An account email (verification, password reset) through the outbox like every other, so a
    dead SMTP server delays it instead of failing the sign-up. These are what the person just
    asked for: no unsubscribe link, and an opt-out from notifications does not stop them."""
    row = Notification.objects.create(
        event=NotificationEvent.ACCOUNT,
        # Each request is its own email (a second "resend" is meant to send again).
        dedupe_key=f"{NotificationEvent.ACCOUNT}:{kind}-{secrets.token_hex(8)}:{email.lower()}"[
            :200
        ],
        recipient_email=email.lower(),
        recipient_user=user,
        subject=" ".join(subject.split())[:255],
        body_text=body_text,
    )
    schedule_delivery([row.pk])
    return row.pk
