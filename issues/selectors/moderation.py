"""Shared reads of safety and moderation (issue 20): the banner every page shows, whether a
sender is banned, and the moderation queue's lists and counts.

The public-visibility rule itself stays `Issue.objects.public()` (is_hidden=False): a report of
a private or held type, or from a banned sender, is created hidden with `withheld` saying why,
so every public output (pages, feeds, CSV/GeoJSON, Open311, embeds, dashboards, email to
others) keeps it out through the one rule they already share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from issues.models import AbuseReport, Ban, Issue, ModerationAction, ModerationKind, SiteBanner

RECENT_EDITS = 20


BANNER_CACHE_KEY = "site-banners"


def current_banner() -> dict | None:
    """The newest banner that is on now, if any, read from the cache alone: every page shows
    it, and a query per page would be a query on every page. The schedule is written to the
    cache whenever a banner is saved or deleted (services.moderation.refresh_banners) and again
    by a beat task each minute, so a flushed cache loses the banner for at most a minute."""
    return banner_on_now(cache.get(BANNER_CACHE_KEY))


def banner_on_now(schedule: list[dict] | None) -> dict | None:
    """The newest banner of a schedule read from the cache (BANNER_CACHE_KEY) that is on now."""
    now = timezone.now()
    for banner in schedule or ():
        if banner["starts_at"] <= now and (banner["ends_at"] is None or banner["ends_at"] > now):
            return banner
    return None


def banner_schedule() -> list[dict]:
    """The banners that are on now or will be, newest start first, as plain data to cache."""
    now = timezone.now()
    return list(
        SiteBanner.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-starts_at", "-pk")
        .values("message", "link", "starts_at", "ends_at")[:20]
    )


def is_banned(*, user=None, email: str = "") -> bool:
    """Whether a sender is on the ban list, by account or by address (an account's own
    address counts, so signing up again with a banned address does not help)."""
    emails = {(email or "").strip().lower()}
    if user is not None and getattr(user, "is_authenticated", False):
        emails.add((user.email or "").strip().lower())
        query = Q(user=user)
    else:
        query = Q(pk__in=[])
    emails.discard("")
    if emails:
        query |= Q(email__in=emails)
    return Ban.objects.filter(query).exists()


def waiting_abuse_reports() -> QuerySet[AbuseReport]:
    return AbuseReport.objects.waiting().select_related("issue", "comment", "photo")


def held_issues() -> QuerySet[Issue]:
    """Reports waiting for a moderator before publication (held types, banned senders)."""
    return (
        Issue.objects.filter(is_hidden=True, withheld__in=["held", "banned"])
        .select_related("service_type")
        .order_by("requested_at", "id")
    )


def recent_edits(
    limit: int = RECENT_EDITS, issues: QuerySet[Issue] | None = None
) -> QuerySet[ModerationAction]:
    """The newest mending steps, over `issues` (the moderator's departments') when given."""
    edits = ModerationAction.objects.filter(
        kind__in=[ModerationKind.EDIT_TEXT, ModerationKind.REMOVE_NAME, ModerationKind.REDACT_PHOTO]
    )
    if issues is not None:
        edits = edits.filter(issue__in=issues.values("pk"))
    return edits.select_related("issue", "by")[:limit]


@dataclass(frozen=True)
class QueueCounts:
    abuse: int
    held: int
    edits_today: int


def queue_counts(issues: QuerySet[Issue] | None = None) -> QueueCounts:
    """The queue's counts, over `issues` (the moderator's departments') when given."""
    since = timezone.now() - timedelta(days=1)
    abuse = AbuseReport.objects.waiting()
    held = Issue.objects.filter(is_hidden=True, withheld__in=["held", "banned"])
    edits = ModerationAction.objects.filter(
        at__gte=since,
        kind__in=[
            ModerationKind.EDIT_TEXT,
            ModerationKind.REMOVE_NAME,
            ModerationKind.REDACT_PHOTO,
        ],
    )
    if issues is not None:
        ids = issues.values("pk")
        abuse, held, edits = (
            abuse.filter(issue__in=ids),
            held.filter(pk__in=ids),
            edits.filter(issue__in=ids),
        )
    return QueueCounts(abuse=abuse.count(), held=held.count(), edits_today=edits.count())


def moderation_history(issue: Issue) -> QuerySet[ModerationAction]:
    """Every moderation step on one issue, newest first, with who: staff only."""
    return issue.moderation_actions.select_related("by", "comment", "photo")
