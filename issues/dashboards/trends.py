"""Trends for a service type across the city, from the rollup: reports per week for a year, the
median time to fix per ward, and where the type clusters (the wards with the most reports lately,
and its hotspot alerts). And, for the index of types, each type's last four weeks against the four
before, so a new problem rising (Detroit's stolen water meters) is visible at a glance.

A constant handful of grouped queries whatever the number of issues.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q, Sum

from departments.models import ServiceType, Ward
from departments.translations import translated
from issues.dashboards import stored
from issues.dashboards.clock import CLOSED_WINDOW_DAYS, HEAT_WINDOW_DAYS, Clock
from issues.dashboards.league import Bins, _merge_bins, close_bins
from issues.dashboards.rollups import NO_WARD, median_from_bins, week_of
from issues.dashboards.ward import WeekRow, week_rows
from issues.models import DayTally, HotspotAlert

TREND_WEEKS = 52
RECENT_DAYS = 28


@dataclass
class TypeWard:
    ward_id: int
    number: int
    name: str
    slug: str
    recent: int = 0  # reports in the last HEAT_WINDOW_DAYS
    median_days: float | None = None


@dataclass
class TypeTrend:
    service_type: ServiceType
    clock: Clock
    weeks: list[WeekRow] = field(default_factory=list)
    wards: list[TypeWard] = field(default_factory=list)
    recent: int = 0  # the last RECENT_DAYS
    before: int = 0  # the RECENT_DAYS before those
    median_days: float | None = None
    alerts: list[HotspotAlert] = field(default_factory=list)

    @property
    def busiest(self) -> list[TypeWard]:
        return sorted((w for w in self.wards if w.recent), key=lambda w: (-w.recent, w.number))[:10]

    @property
    def slowest(self) -> list[TypeWard]:
        timed = [w for w in self.wards if w.median_days is not None]
        return sorted(timed, key=lambda w: (-w.median_days, w.number))[:10]


def _first_week(clock: Clock) -> date:
    return clock.week_start - timedelta(weeks=TREND_WEEKS - 1)


def _wards() -> dict[int, TypeWard]:
    return {
        w.pk: TypeWard(ward_id=w.pk, number=w.number, name=w.name, slug=w.slug)
        for w in Ward.objects.only("pk", "number", "name", "slug").order_by("number")
    }


def type_trend(*, service_type: ServiceType, now: datetime | None = None) -> TypeTrend:
    """The type's figures, counted from the rollup (the year's day rows of every ward: they
    grow with the data, hence `stored_type_trend`), and its hotspot alerts."""
    trend = _count_trend(service_type, Clock.at(now))
    _add_alerts(trend)
    return trend


def stored_type_trend(*, service_type: ServiceType) -> TypeTrend:
    """`type_trend` as of now: its figures stored at the current data version today
    (stored.py), else counted and stored for the next request; the alerts read now. Where
    nothing is stored (SQLite), counted."""
    if not stored.is_stored():
        return type_trend(service_type=service_type)
    clock = Clock.at()
    counted: list[TypeTrend] = []  # counted by this request: the trend itself, at hand

    def count() -> dict:
        counted.append(_count_trend(service_type, clock))
        return _trend_figures(counted[0])

    figures = stored.figures_at(stored.TYPE, service_type.pk, clock, count)
    # Not rebuilt from the figures just counted (the wards read a second time, for the same).
    trend = counted[0] if counted else _trend_from(figures, service_type=service_type, clock=clock)
    _add_alerts(trend)
    return trend


def refresh_stored_trends() -> int:
    """Compute and store the types a request read lately whose stored trend is stale (the
    worker, every minute: stored.py). How many it computed."""

    def count(keys: list[int], clock: Clock) -> Iterator[tuple[int, dict]]:
        for service_type in ServiceType.objects.filter(pk__in=keys):
            yield service_type.pk, _trend_figures(_count_trend(service_type, clock))

    return stored.refresh_wanted(stored.TYPE, count)


def _trend_figures(trend: TypeTrend) -> dict:
    """The trend's figures as numbers, for stored.py (the day they were computed on gives the
    weeks' dates back, the wards' names are read with the page)."""
    return {
        "weeks": [[w.opened, w.closed] for w in trend.weeks],
        "recent": trend.recent,
        "before": trend.before,
        "median_days": trend.median_days,
        "wards": [
            [w.ward_id, w.recent, w.median_days]
            for w in trend.wards
            if w.recent or w.median_days is not None
        ],
    }


def _trend_from(figures: dict, *, service_type: ServiceType, clock: Clock) -> TypeTrend:
    trend = TypeTrend(
        service_type=service_type,
        clock=clock,
        recent=figures["recent"],
        before=figures["before"],
        median_days=figures["median_days"],
    )
    trend.weeks = week_rows(_first_week(clock), TREND_WEEKS, figures["weeks"])
    wards = _wards()
    for ward_id, recent, median in figures["wards"]:
        if ward_id in wards:
            wards[ward_id].recent, wards[ward_id].median_days = recent, median
    trend.wards = list(wards.values())
    return trend


def _count_trend(service_type: ServiceType, clock: Clock) -> TypeTrend:
    trend = TypeTrend(service_type=service_type, clock=clock)
    first_week = _first_week(clock)
    weeks = {w.start: w for w in week_rows(first_week, TREND_WEEKS)}
    recent_since = clock.days_back(RECENT_DAYS)
    before_since = clock.days_back(2 * RECENT_DAYS)
    heat_since = clock.days_back(HEAT_WINDOW_DAYS)
    wards = _wards()
    rows = (
        DayTally.objects.filter(type_key=service_type.pk, day__gte=first_week)
        .values("day")
        .annotate(o=Sum("opened"), c=Sum("closed"))
        .values_list("day", "o", "c")
    )
    for day, opened, closed in rows:
        week = weeks.get(week_of(day))
        if week is not None:
            week.opened += opened or 0
            week.closed += closed or 0
        if day >= recent_since:
            trend.recent += opened or 0
        elif day >= before_since:
            trend.before += opened or 0
    for ward_key, n in (
        DayTally.objects.filter(type_key=service_type.pk, day__gte=heat_since)
        .exclude(ward_key=NO_WARD)
        .values("ward_key")
        .annotate(n=Sum("opened"))
        .values_list("ward_key", "n")
    ):
        if ward_key in wards:
            wards[ward_key].recent = n or 0
    since = clock.days_back(CLOSED_WINDOW_DAYS)
    bins = close_bins("ward_key", since, clock.today, open_end=True, type_key=service_type.pk)
    city: Bins = {}
    for ward_key, ward_bins in bins.items():
        _merge_bins(city, ward_bins)
        if ward_key in wards:
            wards[ward_key].median_days = median_from_bins(ward_bins)
    trend.median_days = median_from_bins(city)
    trend.weeks = list(weeks.values())
    trend.wards = list(wards.values())
    return trend


def _add_alerts(trend: TypeTrend) -> None:
    heat_since = trend.clock.days_back(HEAT_WINDOW_DAYS)
    trend.alerts = list(
        HotspotAlert.objects.filter(
            service_type=trend.service_type, window_end__gte=trend.clock.midnight(heat_since)
        )
        .select_related("ward")
        .order_by("-created_at")[:20]
    )


@dataclass
class TypeChange:
    service_type: ServiceType
    recent: int
    before: int

    @property
    def change(self) -> float | None:
        """The last four weeks against the four before, as a share (None from nothing)."""
        if not self.before:
            return None
        return (self.recent - self.before) / self.before


def type_changes(*, now: datetime | None = None) -> list[TypeChange]:
    """Every active type's last four weeks against the four before: one grouped query. Rising
    types first (by how many more reports), so a surge tops the list."""
    clock = Clock.at(now)
    types = list(ServiceType.objects.active().order_by("name"))
    return _changes(types, _count_changes([t.pk for t in types], clock))


def stored_type_changes() -> list[TypeChange]:
    """`type_changes` as of now: the counts stored at the current data version today
    (stored.py), else counted and stored for the next request. Counting reads every ward's day
    rows of every type for eight weeks (they grow with the data, up to wards x types x days);
    the stored row does not. Where nothing is stored (SQLite), counted."""
    if not stored.is_stored():
        return type_changes()
    clock = Clock.at()
    types = list(ServiceType.objects.active().order_by("name"))
    figures = stored.figures_at(
        stored.TYPES, stored.TYPES_KEY, clock, lambda: _changes_figures(clock)
    )
    return _changes(types, {key: (recent, before) for key, recent, before in figures["types"]})


def refresh_stored_type_changes() -> int:
    """Count again and store the index of types if a request read it lately and it is stale
    now (the worker, every minute: stored.py). How many it computed (0 or 1)."""

    def count(keys: list[int], clock: Clock) -> Iterator[tuple[int, dict]]:
        for key in keys:
            yield key, _changes_figures(clock)

    return stored.refresh_wanted(stored.TYPES, count)


def _changes_figures(clock: Clock) -> dict:
    # Every type, active or not: which are active is read with each page (it is not under the
    # data version), so a type made active again shows its counts at once.
    counts = _count_changes(list(ServiceType.objects.values_list("pk", flat=True)), clock)
    return {"types": [[key, recent, before] for key, (recent, before) in sorted(counts.items())]}


def _count_changes(type_ids: list[int], clock: Clock) -> dict[int, tuple[int, int]]:
    """{type id: (opened in the last RECENT_DAYS, in the RECENT_DAYS before)}: one grouped
    query over every ward's day rows of these types."""
    recent_since = clock.days_back(RECENT_DAYS)
    before_since = clock.days_back(2 * RECENT_DAYS)
    # Named types, not "every type but the all-types rows": that lets the (type_key, day) index
    # find the eight weeks' rows instead of reading the whole rollup (a seq scan at 1M issues).
    return {
        key: (recent or 0, before or 0)
        for key, recent, before in DayTally.objects.filter(
            type_key__in=type_ids, day__gte=before_since
        )
        .values("type_key")
        .annotate(
            recent=Sum("opened", filter=Q(day__gte=recent_since)),
            before=Sum("opened", filter=Q(day__lt=recent_since)),
        )
        .values_list("type_key", "recent", "before")
    }


def _changes(types: list[ServiceType], counts: dict[int, tuple[int, int]]) -> list[TypeChange]:
    changes = [
        TypeChange(
            service_type=t, recent=counts.get(t.pk, (0, 0))[0], before=counts.get(t.pk, (0, 0))[1]
        )
        for t in types
    ]
    return sorted(changes, key=lambda c: (-(c.recent - c.before), c.service_type.name))


@dataclass
class MonthRow:
    service_type_id: int
    name: str
    code: str
    opened: int = 0
    closed: int = 0


@dataclass
class WardMonth:
    """One ward's month: reports opened and closed in it, in total and per type."""

    first: date
    last: date
    opened: int = 0
    closed: int = 0
    by_type: list[MonthRow] = field(default_factory=list)


def ward_month(
    *, ward_id: int, first: date, types: dict[int, ServiceType] | None = None
) -> WardMonth:
    """From the rollup's day rows of the ward: one grouped query. `types`: the service types by
    id with their code, name and translations, when the caller has read them (the report's
    board has), else read here."""
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    month = WardMonth(first=first, last=last)
    if types is None:
        types = {
            t.pk: t for t in ServiceType.objects.only("pk", "name", "service_code", "translations")
        }
    rows: dict[int, MonthRow] = {}
    for type_key, opened, closed in (
        DayTally.objects.filter(ward_key=ward_id, day__gte=first, day__lte=last)
        .values("type_key")
        .annotate(o=Sum("opened"), c=Sum("closed"))
        .values_list("type_key", "o", "c")
    ):
        if type_key == 0:
            month.opened, month.closed = opened or 0, closed or 0
        elif type_key in types and (opened or closed):
            t = types[type_key]
            rows[type_key] = MonthRow(
                type_key, translated(t, "name"), t.service_code, opened or 0, closed or 0
            )
    month.by_type = sorted(rows.values(), key=lambda r: (-r.opened, r.name))
    return month
