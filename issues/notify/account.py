"""Account emails (verification, password reset) through the outbox like every other, so a dead
SMTP server delays them instead of failing a sign-up. accounts/mail.py calls this through
settings.ACCOUNT_EMAIL_QUEUE, because accounts sits below issues."""

from __future__ import annotations

import secrets

from accounts.mail import AccountEmail
from issues.models import Notification, NotificationEvent
from issues.notify.delivery import schedule_delivery
from issues.notify.rendering import ACCOUNT_KEY


def queue_account_email(message: AccountEmail) -> int:
    """An account email (verification, password reset) through the outbox like every other, so a
    dead SMTP server delays it instead of failing the sign-up. These are what the person just
    asked for: no unsubscribe link, and an opt-out from notifications does not stop them.
    Written as an intent: the worker renders it (rendering.render_intent), not the request."""
    email = message.email.lower()
    row = Notification.objects.create(
        event=NotificationEvent.ACCOUNT,
        # Each request is its own email (a second "resend" is meant to send again).
        dedupe_key=f"{NotificationEvent.ACCOUNT}:{message.kind}-{secrets.token_hex(8)}:{email}"[
            :200
        ],
        recipient_email=email,
        recipient_user=message.user,
        render_context={
            ACCOUNT_KEY: {
                "templates": list(message.templates),
                "context": message.context,
                "language": message.language,
            }
        },
    )
    schedule_delivery([row.pk])
    return row.pk
