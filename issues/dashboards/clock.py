"""Time in the dashboards: windows of whole days in the city's time zone, and the cache key every
figure is kept under.

Time windows are whole days in the city's time zone, so that each figure can be reproduced exactly
by the public list's `start`/`end` date filters it links to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from issues import pagecache
from issues.models import Issue

OPENED_WINDOW_DAYS = 30
CLOSED_WINDOW_DAYS = 90
HEAT_WINDOW_DAYS = 90
WEEKS = 26
OLDEST_LIMIT = 10
TOP_CELLS = 10
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("90+", 91, None),
)
CACHE_SECONDS = 60


def city_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Clock:
    """'Now' and the day boundaries derived from it, in the city's time zone."""

    now: datetime
    today: date

    @classmethod
    def at(cls, now: datetime | None = None) -> Clock:
        now = now or timezone.now()
        return cls(now=now, today=timezone.localtime(now, city_tz()).date())

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=city_tz())

    def days_back(self, days: int) -> date:
        """First day of a window of `days` calendar days ending today."""
        return self.today - timedelta(days=days - 1)

    @property
    def week_start(self) -> date:
        return self.today - timedelta(days=self.today.weekday())


def due_earlier_today(clock: Clock) -> QuerySet:
    """Open public issues due between local midnight and now: overdue, but counted by the
    rollup under today's due day (which is otherwise still to come). A day's worth of rows at
    most, through the open issues' due-time index."""
    return (
        Issue.objects.public()
        .open()
        .filter(expected_at__gte=clock.midnight(clock.today), expected_at__lt=clock.now)
        .order_by()
    )


def cache_key(kind: str, *parts) -> str:
    """Versioned by the public page cache's global counter (issues/pagecache.py), which every
    write that can change a public figure moves on, bulk ones included (an SLA change that
    reschedules open issues, imports), and by the minute, because what only time changes
    (overdue, day windows) may be a minute late. Signed-in readers (aldermen) never get the
    page cache, so this is what spares them recounting."""
    (version,) = pagecache.current([pagecache.GLOBAL])
    minute = int(timezone.now().timestamp() // 60)
    return ":".join(str(p) for p in ("wards", kind, version, minute, *parts))
