"""The residents' digest: for alerts set to "daily" or "weekly", one email per alert with the new
reports and the closings in its area since the last one, skipped when there is nothing to say.

Beat runs it every morning (config/celery.py); a weekly alert is due seven days after its last
digest (or its confirmation). An alert is marked as digested even when nothing was sent, so the
next digest covers only what came after. Safe to run twice: the key is the alert and the day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from departments.geo import distance_m
from issues.models import AlertFrequency, AreaAlert, Issue, NotificationEvent
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.recipients import Recipient, allowed

PERIODS = {AlertFrequency.DAILY: timedelta(days=1), AlertFrequency.WEEKLY: timedelta(days=7)}
# Beat's run drifts by minutes from day to day; a digest an hour early is still due.
SLACK = timedelta(hours=1)
ITEMS_PER_LIST = 20


def _in_area(alert: AreaAlert, issues) -> list[Issue]:
    return [
        issue
        for issue in issues
        if distance_m(alert.latitude, alert.longitude, issue.latitude, issue.longitude)
        <= alert.radius_m
    ]


def alert_news(alert: AreaAlert, *, since: datetime, now: datetime) -> tuple[list, list]:
    """(new reports, closed reports) in the alert's circle and types between the two moments;
    public reports only."""
    issues = (
        Issue.objects.public()
        .in_bbox(alert.lat_min, alert.lon_min, alert.lat_max, alert.lon_max)
        .select_related("service_type")
        .order_by("-requested_at", "-id")
    )
    types = [t.pk for t in alert.service_types.all()]
    if types:
        issues = issues.filter(service_type_id__in=types)
    new = _in_area(alert, issues.filter(requested_at__gte=since, requested_at__lt=now))
    closed = _in_area(alert, issues.filter(closed_at__gte=since, closed_at__lt=now))
    return new, closed


def queue_alert_digests(now: datetime | None = None) -> int:
    """Write the due digests; returns how many were written (two queries per due alert)."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    due = (
        AreaAlert.objects.filter(
            active=True, confirmed_at__isnull=False, frequency__in=list(PERIODS)
        )
        .select_related("user")
        .prefetch_related("service_types")
        .order_by("pk")
    )
    drafts, digested = [], []
    for alert in due:
        since = alert.last_digest_at or alert.confirmed_at
        if since > now - PERIODS[alert.frequency] + SLACK:
            continue
        digested.append(alert.pk)
        new, closed = alert_news(alert, since=since, now=now)
        if not (new or closed):
            continue
        recipient = Recipient(email=alert.address.lower(), user=alert.user, language=alert.language)
        if not allowed([recipient], personal=False):
            continue
        drafts.append(
            Draft(
                event=NotificationEvent.ALERT_DIGEST,
                ref=f"{alert.pk}:{day}",
                recipient=recipient,
                context={
                    "alert": alert,
                    "since": since,
                    "new_issues": new[:ITEMS_PER_LIST],
                    "closed_issues": closed[:ITEMS_PER_LIST],
                    "new_count": len(new),
                    "closed_count": len(closed),
                },
                unsubscribe_scope=("alert", alert.pk),
            )
        )
    with transaction.atomic():
        ids = write_rows(drafts)
        AreaAlert.objects.filter(pk__in=digested).update(last_digest_at=now)
        schedule_delivery(ids)
    return len(ids)
