"""Turning a draft into an email: subject, both bodies and the unsubscribe link, from
templates/emails/. An event's rows are written as intents in the request (who, which event,
which issue, and references to what the templates need, in `render_context`); the worker renders
them just before sending (`render_intent`), so no resident waits for a template.

Drafts whose context holds something that cannot be named by reference (not a saved model, not
a plain value) are rendered at once, as every row was before: correct, only slower.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, models
from django.template.loader import render_to_string
from django.utils import translation

from accounts.mail import render_account_email
from issues.models import Issue, Notification, NotificationEvent, NotificationState
from issues.notify.links import absolute, unsubscribe_url
from issues.notify.recipients import Recipient, language_for

log = logging.getLogger(__name__)

NOT_RENDERED = "Not rendered: "
# What render_intent changes on a row (saved by the caller with the delivery's own writes).
RENDERED_FIELDS = ("subject", "body_text", "body_html", "unsubscribe_url", "render_context")
_MODEL = "$model"
# An account email's intent (issues/notify/account.py): accounts' own templates and values.
ACCOUNT_KEY = "account"


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


def _new_row(draft: Draft, email: str) -> Notification:
    issue = draft.issue
    return Notification(
        event=draft.event,
        dedupe_key=dedupe_key(draft.event, draft.ref, email),
        recipient_email=email,
        recipient_user=draft.recipient.user,
        issue=issue,
        ward_id=draft.ward.pk if draft.ward is not None else (issue.ward_id if issue else None),
    )


def _fill(row: Notification, draft: Draft, email: str) -> None:
    """Render the draft into the row; a template that fails marks the row failed instead."""
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
    row.unsubscribe_url = unsubscribe
    try:
        # In the recipient's language, whoever caused the email and wherever it is rendered
        # (the request or the worker): issues/notify/recipients.py.
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
        _mark_not_rendered(row, exc)


def _mark_not_rendered(row: Notification, exc: Exception) -> None:
    row.subject, row.body_text, row.body_html = (f"({row.event})", "", "")
    row.state = NotificationState.FAILED
    row.last_error = f"{NOT_RENDERED}{type(exc).__name__}: {exc}"[:2000]


def render(draft: Draft, email: str) -> Notification:
    """A new row, rendered now."""
    row = _new_row(draft, email)
    _fill(row, draft, email)
    return row


# Intents: rows written now, rendered by the worker ------------------------------------------


def _pack(value):
    if isinstance(value, models.Model):
        if value.pk is None:
            raise TypeError("an unsaved object cannot be named by reference")
        return {_MODEL: value._meta.label_lower, "pk": value.pk}
    if _plain(value):
        return value
    raise TypeError(f"{type(value).__name__} cannot be named by reference")


def _plain(value) -> bool:
    """JSON data that names no object (a closing email's list of photo links): stored as it is,
    so the email is still rendered by the worker, not in the request that closed the issue."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return _MODEL not in value and all(
            isinstance(key, str) and _plain(item) for key, item in value.items()
        )
    return False


def _pk(value) -> int | None:
    return None if value is None else value.pk


def pack(draft: Draft) -> dict:
    """The draft as references (raises TypeError if something in it cannot be one)."""
    return {
        "ref": draft.ref,
        "issue": _pack(draft.issue),
        "ward": _pack(draft.ward),
        "user": _pack(draft.recipient.user),
        "language": draft.recipient.language,
        "scope": list(draft.unsubscribe_scope) if draft.unsubscribe_scope else None,
        "context": {key: _pack(value) for key, value in draft.context.items()},
    }


def intent(draft: Draft, email: str) -> Notification:
    """A new row that says what to send and leaves the rendering to the worker."""
    try:
        packed = pack(draft)
    except TypeError:
        return render(draft, email)
    row = _new_row(draft, email)
    row.render_context = packed
    return row


def _unpack(value, loaded: dict):
    if not (isinstance(value, dict) and _MODEL in value):
        return value
    key = (value[_MODEL], value["pk"])
    if key not in loaded:
        model = apps.get_model(value[_MODEL])
        loaded[key] = model._default_manager.get(pk=value["pk"])
    return loaded[key]


def load_references(rows: list[Notification]) -> dict:
    """Every object the intents among `rows` name, read in one query per model, for
    `render_intent`: a batch of a status change's emails to its fifty followers reads the change,
    the issue and the followers' accounts once, not once per email. The instances are shared, so
    what the templates reach through them (the issue's type, department...) is read once too."""
    loaded: dict = {}
    for row in rows:
        # The claim's join already read the row's issue: the first copy serves every row.
        if row.render_context and row.issue_id and Notification.issue.is_cached(row):
            loaded.setdefault(("issues.issue", row.issue_id), row.issue)
    wanted: dict[str, set] = {}
    for row in rows:
        packed = row.render_context or {}
        values = [packed.get("user"), packed.get("issue"), packed.get("ward")]
        for value in [*values, *(packed.get("context") or {}).values()]:
            named = isinstance(value, dict) and _MODEL in value
            if named and (value[_MODEL], value["pk"]) not in loaded:
                wanted.setdefault(value[_MODEL], set()).add(value["pk"])
    for label, pks in wanted.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue  # the row fails when rendered, and says why
        for pk, obj in model._default_manager.in_bulk(pks).items():
            loaded[(label, pk)] = obj
    return loaded


def unpack(row: Notification, loaded: dict | None = None) -> Draft:
    """The draft an intent row was written from, its objects read again from the database, or
    taken from `loaded` (load_references) when the caller read a batch's at once."""
    packed = row.render_context
    loaded = load_references([row]) if loaded is None else loaded
    user = _unpack(packed["user"], loaded)
    return Draft(
        event=row.event,
        ref=packed["ref"],
        recipient=Recipient(
            email=row.recipient_email, user=user, language=packed.get("language") or ""
        ),
        issue=_unpack(packed["issue"], loaded),
        ward=_unpack(packed["ward"], loaded),
        context={key: _unpack(value, loaded) for key, value in packed["context"].items()},
        unsubscribe_scope=tuple(packed["scope"]) if packed["scope"] else None,
    )


def render_intent(row: Notification, loaded: dict | None = None) -> bool:
    """Render an intent row in place (not saved). False when it was rendered already. `loaded`:
    the batch's objects (load_references)."""
    if not row.render_context:
        return False
    if ACCOUNT_KEY in row.render_context:
        _fill_account(row, row.render_context[ACCOUNT_KEY])
        row.render_context = {}
        return True
    try:
        draft = unpack(row, loaded)
    except DatabaseError:
        raise
    except Exception as exc:
        # What the email was about is gone (deleted since): nothing left to say.
        log.warning("Could not read what %s email %s was about: %s", row.event, row.pk, exc)
        _mark_not_rendered(row, exc)
    else:
        _fill(row, draft, row.recipient_email)
    row.render_context = {}
    return True


def _fill_account(row: Notification, packed: dict) -> None:
    """Render an account email's intent (its templates are accounts' own, in the language the
    request chose); a template that fails marks the row failed, as `_fill` does."""
    try:
        row.subject, row.body_text = render_account_email(
            templates=packed["templates"],
            context=packed["context"],
            language=packed["language"],
            user=row.recipient_user,
        )
    except DatabaseError:
        raise
    except Exception as exc:
        log.exception("Could not render an account email for %s", row.recipient_email)
        _mark_not_rendered(row, exc)
