"""Scheduled emails: the aldermen's daily ward digest and the "Is it fixed?" follow-up.

Both run from beat (config/celery.py) through issues/tasks.py, write outbox rows like every other
notification and are safe to run twice: the digest's key is the day, the follow-up's the closing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from departments.models import Ward
from issues.models import (
    OPEN_STATUSES,
    Issue,
    NotificationEvent,
    Source,
    Status,
    Subscription,
)
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.links import absolute, followup_urls
from issues.notify.recipients import Recipient, allowed, opt_outs

log = logging.getLogger(__name__)

# Issues closed longer ago than this are not asked about: turning the feature on, or a beat that
# was down for a while, must not mail everyone whose issue was closed last year.
FOLLOWUP_WINDOW_DAYS = 14
OLDEST_PER_WARD = 3
NEW_PER_WARD = 5


# The ward digest ---------------------------------------------------------------------------------


@dataclass
class WardDigest:
    ward: Ward
    url: str
    opened: int = 0
    closed: int = 0
    overdue: int = 0
    new_issues: list[Issue] = field(default_factory=list)
    oldest_open: list[Issue] = field(default_factory=list)

    @property
    def has_news(self) -> bool:
        return bool(self.opened or self.closed or self.overdue)


def _ward_url(ward: Ward) -> str:
    try:
        return absolute(reverse("wards:detail", kwargs={"slug": ward.slug}))
    except NoReverseMatch:
        return absolute(reverse("issues:home")) + f"?ward={ward.number}"


def ward_digests(ward_ids: set[int], *, since: datetime, now: datetime) -> dict[int, WardDigest]:
    """The day's figures for these wards in three queries, whatever their number: counts by ward,
    the newest reports and the oldest open ones (a window function ranks them within each ward).
    Hidden issues are left out: moderation decided nobody should read about them."""
    issues = Issue.objects.public().filter(ward_id__in=ward_ids)
    counts = issues.values("ward_id").annotate(
        opened=Count("pk", filter=Q(requested_at__gte=since, requested_at__lt=now)),
        closed=Count("pk", filter=Q(closed_at__gte=since, closed_at__lt=now)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, expected_at__lt=now)),
    )
    digests = {
        ward.pk: WardDigest(ward=ward, url=_ward_url(ward))
        for ward in Ward.objects.filter(pk__in=ward_ids)
    }
    for row in counts:
        digest = digests[row["ward_id"]]
        digest.opened, digest.closed, digest.overdue = row["opened"], row["closed"], row["overdue"]

    def ranked(queryset, order, limit):
        return (
            queryset.select_related("service_type")
            .annotate(rank=Window(RowNumber(), partition_by=[F("ward_id")], order_by=order))
            .filter(rank__lte=limit)
            .order_by("ward_id", "rank")
        )

    new = issues.filter(requested_at__gte=since, requested_at__lt=now)
    for issue in ranked(new, F("requested_at").desc(), NEW_PER_WARD):
        digests[issue.ward_id].new_issues.append(issue)
    for issue in ranked(issues.open(), F("requested_at").asc(), OLDEST_PER_WARD):
        digests[issue.ward_id].oldest_open.append(issue)
    return digests


def queue_ward_digests(now: datetime | None = None) -> int:
    """Write one digest per alderman (all their wards in one email) for the last 24 hours.

    Skipped when none of their wards had a report opened or closed and none is overdue; also
    skipped for aldermen who turned the digest off or unsubscribed from everything. Returns the
    number of digests written."""
    now = now or timezone.now()
    since = now - timedelta(days=1)
    day = timezone.localdate(now).isoformat()
    aldermen = list(
        get_user_model()
        .objects.filter(is_active=True, notify_ward_digest=True, wards__isnull=False)
        .exclude(email__in=opt_outs().values("address"))
        .distinct()
        .prefetch_related(Prefetch("wards", queryset=Ward.objects.order_by("number")))
    )
    ward_ids = {ward.pk for person in aldermen for ward in person.wards.all()}
    if not ward_ids:
        return 0
    digests = ward_digests(ward_ids, since=since, now=now)
    drafts = []
    for person in aldermen:
        wards = [digests[w.pk] for w in person.wards.all()]
        if not any(d.has_news for d in wards):
            continue
        drafts.append(
            Draft(
                event=NotificationEvent.WARD_DIGEST,
                ref=day,
                recipient=Recipient(email=person.email, user=person),
                ward=wards[0].ward if len(wards) == 1 else None,
                context={
                    "person": person,
                    "wards": wards,
                    "since": since,
                    "now": now,
                    "totals": {
                        "opened": sum(d.opened for d in wards),
                        "closed": sum(d.closed for d in wards),
                        "overdue": sum(d.overdue for d in wards),
                    },
                },
                unsubscribe_scope=("digest", None),
            )
        )
    with transaction.atomic():
        ids = write_rows(drafts)
        schedule_delivery(ids)
    log.info("Ward digests: %d written for %d aldermen", len(ids), len(aldermen))
    return len(ids)


# "Is it fixed?" ----------------------------------------------------------------------------------


def followup_due(now: datetime | None = None):
    """Closed issues whose "Is it fixed?" is due: closed FOLLOWUP_AFTER_DAYS ago (but not more
    than FOLLOWUP_WINDOW_DAYS before that), never asked since that closing, still closed."""
    now = now or timezone.now()
    due_before = now - timedelta(days=settings.FOLLOWUP_AFTER_DAYS)
    return (
        Issue.objects.public()
        .filter(
            status=Status.CLOSED,
            followup_sent_at__isnull=True,
            closed_at__lte=due_before,
            closed_at__gt=due_before - timedelta(days=FOLLOWUP_WINDOW_DAYS),
        )
        .exclude(source=Source.IMPORT)
        .select_related("service_type", "reporter", "ward")
        .order_by("closed_at")
    )


def queue_fixed_followups(now: datetime | None = None, limit: int = 2000) -> int:
    """Ask reporters "Is it fixed?" about issues closed some days ago, with yes/no links that need
    no sign-in. Only a reporter who still follows the issue is asked (unsubscribing from it stops
    this too); every due issue is marked, asked or not, so it is looked at once. Returns the
    number of emails written."""
    now = now or timezone.now()
    issues = list(followup_due(now)[:limit])
    if not issues:
        return 0
    following = {
        (s.issue_id, s.address.lower())
        for s in Subscription.objects.filter(issue__in=issues).select_related("user")
    }
    drafts = []
    for issue in issues:
        email = (issue.contact_email or "").lower()
        if not email or (issue.pk, email) not in following:
            continue
        drafts.append(
            Draft(
                event=NotificationEvent.FIXED_FOLLOWUP,
                ref=f"{issue.pk}@{int(issue.closed_at.timestamp())}",
                recipient=Recipient(email=email, user=issue.reporter),
                issue=issue,
                context=followup_urls(issue),
            )
        )
    # Opt-outs and "no updates" settings, checked for all reporters at once.
    willing = {r.email for r in allowed([d.recipient for d in drafts])}
    drafts = [d for d in drafts if d.recipient.email in willing]
    with transaction.atomic():
        ids = write_rows(drafts)
        # Bookkeeping for this job only (not a state change of the issue): reopening clears it.
        Issue.objects.filter(pk__in=[i.pk for i in issues], followup_sent_at__isnull=True).update(
            followup_sent_at=now
        )
        schedule_delivery(ids)
    log.info("Follow-ups: %d written for %d closed issues", len(ids), len(issues))
    return len(ids)
