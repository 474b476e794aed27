"""Who may hear about what: followers, ward watchers, department addresses, and the rules that
drop people (the actor, opted-out addresses, people who turned updates off, repeats)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from issues.models import EmailOptOut, Issue, Subscription

_local = threading.local()


@dataclass(frozen=True)
class Recipient:
    email: str
    user: object | None = None
    subscription: Subscription | None = None
    # The language an address with no account asked in (its subscription's or alert's).
    language: str = ""


def language_for(recipient: Recipient, issue: Issue | None) -> str:
    """The language to write to someone in: their account's choice, else the language they
    followed, watched or made an alert in (an address with no account), else, for the reporter,
    the language they reported in, else the city's default. Never the sender's (a staff
    member's page language must not leak into a resident's email)."""
    languages = dict(settings.LANGUAGES)
    chosen = getattr(recipient.user, "language", "") or ""
    if chosen in languages:
        return chosen
    asked_in = recipient.language or getattr(recipient.subscription, "language", "") or ""
    if asked_in in languages and asked_in != settings.LANGUAGE_CODE:
        return asked_in
    reported_in = issue.reporter_language if issue is not None else ""
    if reported_in in languages and reported_in != settings.LANGUAGE_CODE:
        own = (issue.contact_email or "").lower()
        if own and recipient.email.lower() == own:
            return reported_in
    return settings.LANGUAGE_CODE


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


def opt_outs():
    """Opt-outs by lower-cased `address`: staff may type one in the admin with capitals."""
    return EmailOptOut.objects.annotate(address=Lower("email"))


def issue_followers(issue: Issue) -> list[Recipient]:
    subs = Subscription.objects.filter(issue=issue).select_related("user").order_by("pk")
    return [
        Recipient(email=s.address, user=s.user, subscription=s, language=s.language) for s in subs
    ]


def ward_watchers(issue: Issue) -> list[Recipient]:
    if not issue.ward_id:
        return []
    subs = Subscription.objects.filter(ward_id=issue.ward_id).select_related("user").order_by("pk")
    return [
        Recipient(email=s.address, user=s.user, subscription=s, language=s.language) for s in subs
    ]


def department_contact(department) -> list[Recipient]:
    if department and department.notify_new_issues and department.contact_email:
        return [Recipient(email=department.contact_email)]
    return []


def reporter_only(issue: Issue, recipients: list[Recipient]) -> list[Recipient]:
    """A hidden issue is nobody else's business: only its reporter still hears about it."""
    own = (issue.contact_email or "").lower()
    return [r for r in recipients if own and r.email.lower() == own]


def allowed(
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
