"""The email that asks an anonymous reporter to confirm their report (service types marked
`confirm_anonymous`): nothing else about the report is sent, and it is not public, until then."""

from __future__ import annotations

from django.conf import settings

from issues.models import Issue, NotificationEvent
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import write_row
from issues.notify.links import report_confirm_url
from issues.notify.recipients import Recipient, allowed


def queue_report_confirmation(issue: Issue) -> int | None:
    recipient = Recipient(email=issue.reporter_email)
    if not allowed([recipient], personal=False):
        return None  # an opted-out address: the report simply expires
    row = write_row(
        event=NotificationEvent.REPORT_CONFIRM,
        ref=f"{issue.pk}",
        recipient=recipient,
        issue=issue,
        context={"confirm_url": report_confirm_url(issue), "hours": settings.REPORT_CONFIRM_HOURS},
        unsubscribe_scope=("all", None),
    )
    if row is None:
        return None
    schedule_delivery([row.pk])
    return row.pk
