"""A resident's own data: everything the site holds about them (for download), and deleting the
account while keeping their public reports, anonymised.

Deleting keeps what the public record needs (the reports, their photos and histories, the
comments' text, vote counts) and removes who: contact details on their reports, their follows,
alerts, adoptions, the identity of their votes, the emails queued or sent to them, and the
account itself. What they wrote stays, signed "a resident".
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from issues.models import (
    AreaAlert,
    Comment,
    Issue,
    Notification,
    Subscription,
    Vote,
)


def _mine(user) -> Q:
    """The account's reports, and reports made with its address before it signed up."""
    return Q(reporter=user) | Q(reporter__isnull=True, reporter_email__iexact=user.email)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def account_data(user) -> dict[str, Any]:
    """Everything held about the person, nothing about anyone else: their account, their reports
    (with the contact details they gave), their comments, votes, follows, alerts and the emails
    sent to them. Other people's comments on their reports are not theirs and are left out."""
    reports = Issue.objects.filter(_mine(user)).select_related("service_type").order_by("pk")
    return {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": _iso(user.date_joined),
            "email_verified": user.email_verified,
            "notify_updates": user.notify_updates,
        },
        "reports": [
            {
                "id": issue.public_id,
                "type": issue.service_type.name,
                "status": issue.status,
                "requested_at": _iso(issue.requested_at),
                "address": issue.address,
                "latitude": issue.latitude,
                "longitude": issue.longitude,
                "description": issue.description,
                "answers": issue.attributes,
                "reporter_name": issue.reporter_name,
                "reporter_email": issue.reporter_email,
                "reporter_phone": issue.reporter_phone,
            }
            for issue in reports
        ],
        "comments": [
            {"issue": c.issue.public_id, "created_at": _iso(c.created_at), "body": c.body}
            for c in Comment.objects.filter(author=user, is_internal=False)
            .select_related("issue")
            .order_by("pk")
        ],
        "votes": [
            {"issue": v.issue.public_id, "created_at": _iso(v.created_at)}
            for v in Vote.objects.filter(user=user).select_related("issue").order_by("pk")
        ],
        "follows": [
            {
                "issue": s.issue.public_id if s.issue_id else None,
                "ward": s.ward.name if s.ward_id else None,
                "since": _iso(s.created_at),
            }
            for s in Subscription.objects.filter(Q(user=user) | Q(email__iexact=user.email))
            .select_related("issue", "ward")
            .order_by("pk")
        ],
        "alerts": [
            {
                "label": a.label,
                "latitude": a.latitude,
                "longitude": a.longitude,
                "radius_m": a.radius_m,
                "frequency": a.frequency,
                "include_updates": a.include_updates,
                "service_types": [t.service_code for t in a.service_types.all()],
                "created_at": _iso(a.created_at),
            }
            for a in _alerts(user).prefetch_related("service_types").order_by("pk")
        ],
        "emails": [
            {
                "event": n.event,
                "subject": n.subject,
                "created_at": _iso(n.created_at),
                "state": n.state,
            }
            for n in _emails(user).order_by("pk")
        ],
    }


def account_data_csv(user) -> str:
    """The same, flat: one row per field (section, item number, field, value)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "field", "value"])
    for section, content in account_data(user).items():
        items = content if isinstance(content, list) else [content]
        for n, item in enumerate(items, start=1):
            for field, value in item.items():
                writer.writerow([section, n, field, "" if value is None else value])
    return out.getvalue()


def _alerts(user):
    return AreaAlert.objects.filter(Q(user=user) | Q(user__isnull=True, email__iexact=user.email))


def _emails(user):
    return Notification.objects.filter(
        Q(recipient_user=user) | Q(recipient_email__iexact=user.email)
    )


def delete_account(*, user) -> None:
    """Delete the account; its public reports stay, anonymised ("a resident"). Staff accounts are
    closed by an administrator (their work history names them for the city)."""
    if user.is_staff or user.is_superuser:
        raise PermissionDenied(_("Staff accounts are closed by an administrator."))
    with transaction.atomic():
        Issue.objects.filter(_mine(user)).update(
            reporter=None,
            reporter_name="",
            reporter_email="",
            reporter_phone="",
            hide_reporter_name=True,
        )
        # A vote's count stays on the issue (a counter); who voted goes.
        Vote.objects.filter(user=user).delete()
        Subscription.objects.filter(Q(user=user) | Q(email__iexact=user.email)).delete()
        _alerts(user).delete()
        # Emails queued for later (and the record of those sent) hold the address.
        _emails(user).delete()
        # Comments, photos and status changes keep their text; the account's deletion empties
        # their author (SET_NULL), so pages say "a resident". Adoptions go with the account.
        get_user_model().objects.filter(pk=user.pk).delete()
