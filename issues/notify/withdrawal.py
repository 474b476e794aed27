"""Why a row queued earlier must not go out any more.

Between queueing and sending a moderator may hide the comment or the issue, and the recipient may
unsubscribe; the row was right when written, but sending it now would leak or annoy. Delivery asks
`withdrawn_reason` under the row's lock, just before sending.
"""

from __future__ import annotations

import re

from django.db.models import Q
from django.utils import timezone

from departments.models import Department
from issues.models import (
    STAFF_EVENTS,
    Adoption,
    AreaAlert,
    Comment,
    EmailOptOut,
    Issue,
    Notification,
    NotificationEvent,
    Subscription,
)

WITHDRAWN = "Withdrawn: "

# A digest lists many issues; each entry is written between these marks (templates/emails/
# *_digest.*), so that at send time the entries of issues hidden since can be taken out and the
# rest of the digest still goes. The marks never leave the machine.
DIGEST_ITEM = re.compile(r"⟦cf-issue:(\d+)⟧(.*?)⟦/cf-issue⟧", re.S)


def visible_items_only(*bodies: str) -> list[str]:
    """The bodies with the entries of issues no longer public removed, and the marks gone.

    A digest is rendered when beat writes it and sent when a worker gets to it: a moderator may
    hide a listed report in between, and nobody may read about a hidden report."""
    ids = {int(found) for body in bodies for found, _text in DIGEST_ITEM.findall(body)}
    if not ids:
        return list(bodies)
    public = set(Issue.objects.public().filter(pk__in=ids).values_list("pk", flat=True))

    def keep(match: re.Match) -> str:
        return match.group(2) if int(match.group(1)) in public else ""

    return [DIGEST_ITEM.sub(keep, body) for body in bodies]


def _ref(row: Notification) -> str:
    # dedupe_key is "<event>:<ref>:<address>" (issues.notify.rendering.dedupe_key).
    parts = row.dedupe_key.split(":")
    return parts[1] if len(parts) >= 3 else ""


def withdrawn_reason(row: Notification) -> str:
    """Why the row must not go out any more, or "" to send it."""
    if not row.body_text and not row.render_context:  # an intent is rendered after this check
        return "the email could not be rendered (see the log); re-sending cannot help."
    if row.event == NotificationEvent.ACCOUNT:
        return ""  # asked for just now (a sign-up link, a reset): never withdrawn
    opted_out = getattr(row, "opted_out", None)  # annotated by deliver(): one query fewer
    if opted_out is None:
        opted_out = EmailOptOut.objects.filter(email__iexact=row.recipient_email).exists()
    if opted_out:
        return "the address unsubscribed from everything."
    if row.event == NotificationEvent.HOTSPOT:
        return _hotspot_unwanted(row)
    if row.event == NotificationEvent.ADOPTION_REMINDER:
        return _reminder_unwanted(row)
    if row.event == NotificationEvent.COMMENT_ADDED:
        ref = _ref(row)
        comment = Comment.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
        if comment is None or comment.is_hidden or comment.is_internal:
            return "the comment was hidden or deleted."
    if row.event == NotificationEvent.OVERDUE_ESCALATION:
        return _escalation_unwanted(row)
    if row.event == NotificationEvent.WARD_DIGEST:
        user = row.recipient_user
        if user is None or not user.notify_ward_digest or not user.wards.exists():
            return "the recipient no longer holds a ward, or turned the digest off."
    if row.event in (NotificationEvent.AREA_ALERT, NotificationEvent.ALERT_DIGEST):
        reason = _alert_unwanted(row)
        if reason:
            return reason
    issue = row.issue
    if issue is None:
        return ""
    if row.event == NotificationEvent.ISSUE_REOPENED and row.recipient_user_id:
        return ""  # the assignee: told about their own work whatever the department's feed
    if row.event in STAFF_EVENTS:
        return _department_unwanted(row)
    if issue.is_hidden and row.recipient_email != (issue.contact_email or "").lower():
        return "the issue was hidden by a moderator."
    # An unsubscribe link (the issue's or the ward's) also stops mail already queued.
    if row.event in (NotificationEvent.STATUS_CHANGED, NotificationEvent.COMMENT_ADDED):
        # Marking a duplicate moves its followers to the original in the same transaction as
        # the closing, so the closing email is still theirs: following either one counts.
        ids = [issue.pk] + ([issue.duplicate_of_id] if issue.duplicate_of_id else [])
        target, reason = {"issue_id__in": ids}, "the recipient stopped following the issue."
    elif row.event == NotificationEvent.WARD_NEW_ISSUE:
        target, reason = {"ward_id": row.ward_id}, "the recipient stopped watching the ward."
    else:
        return ""
    mine = Q(email=row.recipient_email) | Q(user__email=row.recipient_email)
    return "" if Subscription.objects.filter(mine, **target).exists() else reason


def _reminder_unwanted(row: Notification) -> str:
    # The ref is "<adoption id>@<due date>" (issues/notify/reminders.py).
    pk, _at, due = _ref(row).partition("@")
    adoption = Adoption.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if adoption is None or not adoption.is_active:
        return "the adoption has ended."
    if not adoption.send_reminders:
        return "the adopter turned the reminders off."
    if timezone.localdate(adoption.next_due_at).isoformat() > due:
        return "the adopter has logged a visit since."
    return ""


def _escalation_unwanted(row: Notification) -> str:
    issue = row.issue
    if issue is None or not issue.is_open:
        return "the issue was closed before the escalation went out."
    if not issue.escalates:
        return "the issue was hidden by a moderator."
    user = row.recipient_user
    if user is not None and not user.notify_escalations:
        return "the recipient turned escalation emails off."
    return ""


def _hotspot_unwanted(row: Notification) -> str:
    # The hotspot job chooses its recipients; their unsubscribe links ("digest" for aldermen,
    # "department" for a department's address) are honoured here.
    user = row.recipient_user
    if user is not None:
        return "" if user.notify_ward_digest else "the alderman turned ward mail off."
    return _department_unwanted(row)


def _department_unwanted(row: Notification) -> str:
    # A department's address hears only while its feed is on (its unsubscribe link turns it off).
    wanted = Department.objects.filter(
        contact_email__iexact=row.recipient_email, notify_new_issues=True
    )
    return "" if wanted.exists() else "the department turned its feed off."


def _alert_unwanted(row: Notification) -> str:
    # The row does not name its alert; an address with no live alert left has stopped them.
    mine = Q(user__isnull=True, email=row.recipient_email) | Q(user__email=row.recipient_email)
    live = AreaAlert.objects.filter(mine, active=True, confirmed_at__isnull=False)
    return "" if live.exists() else "the recipient stopped or deleted their alerts."
