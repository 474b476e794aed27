"""The adopters' reminder: "a visit to your bus stop is due", by email through the outbox.

Beat runs it daily (config/celery.py). Each adoption whose visit is due gets one email per due
date: the date is in the row's dedupe key, so a second run, a beat restarted mid-day or two
beats by mistake write nothing new, and an adopter who has not visited for a while hears once
per period of their rhythm, never twice about the same date.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from issues.models import Adoption, NotificationEvent
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.links import absolute
from issues.notify.recipients import Recipient, allowed

log = logging.getLogger(__name__)


def reminders_due(now: datetime):
    """Active adoptions that want reminders and whose next visit is due by `now`."""
    return (
        Adoption.objects.active()
        .filter(send_reminders=True, next_due_at__lte=now)
        .select_related("adopter__user", "asset__layer", "asset__ward")
        .defer("asset__ward__boundary")
        .order_by("next_due_at", "pk")
    )


def reminder_ref(adoption: Adoption, due: datetime) -> str:
    """What makes a reminder unique: the adoption and the due date it is about."""
    return f"{adoption.pk}@{timezone.localdate(due).isoformat()}"


def queue_adoption_reminders(now: datetime | None = None, limit: int = 5000) -> int:
    """Write a reminder for every adoption with a visit due; returns how many were written."""
    now = now or timezone.now()
    adoptions = list(reminders_due(now)[:limit])
    drafts = []
    for adoption in adoptions:
        user = adoption.adopter.user
        due = adoption.due_date(now)
        asset = adoption.asset
        drafts.append(
            Draft(
                event=NotificationEvent.ADOPTION_REMINDER,
                ref=reminder_ref(adoption, due),
                recipient=Recipient(email=user.email, user=user),
                ward=asset.ward,
                context={
                    "adoption": adoption,
                    "asset": asset,
                    "layer": asset.layer,
                    "due": due,
                    "visit_url": absolute(reverse("issues:visit", args=[adoption.pk])),
                    "asset_url": absolute(
                        reverse("issues:asset", args=[asset.layer.slug, asset.source_id])
                    ),
                },
                unsubscribe_scope=("adoption", adoption.pk),
            )
        )
    # Opt-outs and deactivated accounts; the reminder is what they signed up for, so the
    # "updates about my reports" setting does not stop it (the email's own link does).
    willing = {r.email for r in allowed([d.recipient for d in drafts], personal=False)}
    drafts = [d for d in drafts if d.recipient.email in willing]
    with transaction.atomic():
        ids = write_rows(drafts)
        schedule_delivery(ids)
    log.info("Adoption reminders: %d written for %d due adoptions", len(ids), len(adoptions))
    return len(ids)
