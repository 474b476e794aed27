"""How account emails leave: queued in the project's outbox, never sent inside the request.

A sign-up link or a password reset must survive a dead SMTP server, so it is written to the same
outbox as every notification and delivered by a worker. That outbox belongs to the notifications
(issues.notify), which sit above accounts; so accounts does not import it. The project names the
function that queues an account email in `settings.ACCOUNT_EMAIL_QUEUE` (a dotted path, as Django
names its email backend), and config/settings.py points it at the outbox.

The request only says what to write (the templates, their values, the language); the worker
renders it (`render_account_email`) just before sending, as it does every notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string

from accounts.models import User


@dataclass(frozen=True)
class AccountEmail:
    """One account email (`kind`: verify, already_registered, reset) for `email`, as the request
    decides it: `templates` (subject, body) to be rendered later with `context` (plain JSON
    values; the account itself is `user`, given to the templates as `user`) in `language`."""

    email: str
    kind: str
    templates: tuple[str, str]
    context: dict
    language: str
    user: User | None = None


def queue_account_email(message: AccountEmail) -> None:
    """Hand the email to the outbox named by settings.ACCOUNT_EMAIL_QUEUE."""
    import_string(settings.ACCOUNT_EMAIL_QUEUE)(message)


def render_account_email(
    *, templates: list[str] | tuple[str, str], context: dict, language: str, user: User | None
) -> tuple[str, str]:
    """(subject, body) of a queued account email: what the worker sends."""
    values = {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL, **context}
    values["user"] = user
    subject_template, body_template = templates
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(subject_template, values).split())
        body = render_to_string(body_template, values)
    return subject[:255], body
