"""How account emails leave: queued in the project's outbox, never sent inside the request.

A sign-up link or a password reset must survive a dead SMTP server, so it is written to the same
outbox as every notification and delivered by a worker. That outbox belongs to the notifications
(issues.notify), which sit above accounts; so accounts does not import it. The project names the
function that queues an account email in `settings.ACCOUNT_EMAIL_QUEUE` (a dotted path, as Django
names its email backend), and config/settings.py points it at the outbox.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User


def queue_account_email(
    *, email: str, kind: str, subject: str, body_text: str, user: User | None = None
) -> None:
    """Queue one account email (`kind`: verify, already_registered, reset) for `email`."""
    queue = import_string(settings.ACCOUNT_EMAIL_QUEUE)
    queue(email=email, kind=kind, subject=subject, body_text=body_text, user=user)
