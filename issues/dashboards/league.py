"""The league table: every ward's public figures side by side, and the whole city's, from the
rollup (issues/dashboards/rollups.py) in five small grouped queries whatever the number of issues."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum

from departments.models import Ward
from issues.dashboards.clock import (
    CLOSED_WINDOW_DAYS,
    OPENED_WINDOW_DAYS,
    Clock,
    due_earlier_today,
)
from issues.dashboards.rollups import (
    ALL_TYPES,
    OPEN,
    median_from_bins,
    plain_rows,
    week_of,
)
from issues.models import CloseHistogram, CloseWeekHistogram, DayTally, StatusTally


@dataclass
class WardFigures:
    ward_id: int
    number: int
    name: str
    slug: str
    open: int = 0
    overdue: int = 0
    opened_recent: int = 0
    closed_recent: int = 0
    closed_with_sla: int = 0
    closed_within_sla: int = 0
    median_days: float | None = None

    @property
    def sla_share(self) -> float | None:
        """Share of recently closed issues (of types with an SLA) closed by their due time."""
        if not self.closed_with_sla:
            return None
        return self.closed_within_sla / self.closed_with_sla


LEAGUE_MEASURES = ("open", "opened_recent", "median_days", "sla_share", "overdue")
LEAGUE_SORTS = ("number", "name", *LEAGUE_MEASURES)


Bins = dict[int, tuple[int, float, float]]


def _merge_bins(into: Bins, extra: Bins) -> None:
    for index, (n, s, q) in extra.items():
        m, t, r = into.get(index, (0, 0.0, 0.0))
        into[index] = (m + n, t + s, r + q)


def close_bins(
    group: str, since: date, until: date, *, open_end: bool = False, **filters
) -> dict[int, Bins]:
    """The close-time bins of the closures from `since` to `until` (both included; with
    `open_end`, any later day too), per value of `group` ("ward_key" or "type_key"), of the
    rollup's rows that match `filters`. The whole weeks inside the window are read from the
    weekly rows and only the days at its two edges from the daily ones: for a 90-day window
    about a third of the rows, and the same sums."""
    first_week = week_of(since + timedelta(days=6))  # the first Monday on or after since
    weeks_end = week_of(until + timedelta(days=1))  # the Monday after the last whole week
    if weeks_end > first_week:
        weeks = Q(week__gte=first_week, week__lt=weeks_end)
        days = Q(day__gte=since, day__lt=first_week) | Q(day__gte=weeks_end)
    else:  # no whole week: every day from the daily rows
        weeks, days = None, Q(day__gte=since)
    if not open_end:
        days &= Q(day__lte=until)
    sums = {"n": Sum("n"), "s": Sum("days_sum"), "q": Sum("days_sq_sum")}
    parts = [CloseHistogram.objects.filter(days, **filters)]
    if weeks is not None:
        # A query of its own, not a UNION: two small reads, never a parallel plan's start-up.
        parts.append(CloseWeekHistogram.objects.filter(weeks, **filters))
    found: dict[int, Bins] = defaultdict(dict)
    for part in parts:
        rows = part.values(group, "bin").annotate(**sums).values_list(group, "bin", "n", "s", "q")
        for key, index, n, s, q in plain_rows(rows):
            bins = found[key]
            m, t, r = bins.get(index, (0, 0.0, 0.0))
            bins[index] = (m + n, t + s, r + q)
    return dict(found)


def _figures_by_ward(clock: Clock) -> tuple[dict[int, WardFigures], dict[int, Bins]]:
    """Every ward's figures (key 0: issues in no ward) and its close-time bins, from the rollup's
    all-types rows: four small grouped queries whatever the number of issues. Overdue leaves out
    the issues due earlier today (`add_overdue_today`)."""
    figures: dict[int, WardFigures] = defaultdict(
        lambda: WardFigures(ward_id=0, number=0, name="", slug="")
    )
    for key, n, with_due in (
        StatusTally.objects.filter(status__in=OPEN)
        .values("ward_key")
        .annotate(n=Sum("n"), due=Sum("with_due"))
        .values_list("ward_key", "n", "due")
    ):
        figures[key].open = n
        figures[key].overdue = with_due
    opened_since = clock.days_back(OPENED_WINDOW_DAYS)
    closed_since = clock.days_back(CLOSED_WINDOW_DAYS)
    recent = Q(day__gte=opened_since)
    for key, opened, closed, with_sla, within, due_later in (
        DayTally.objects.filter(type_key=ALL_TYPES, day__gte=min(opened_since, closed_since))
        .values("ward_key")
        .annotate(
            opened=Sum("opened", filter=recent),
            closed=Sum("closed", filter=Q(day__gte=closed_since)),
            with_sla=Sum("closed_with_sla", filter=Q(day__gte=closed_since)),
            within=Sum("closed_within_sla", filter=Q(day__gte=closed_since)),
            due_later=Sum("open_due", filter=Q(day__gte=clock.today)),
        )
        .values_list("ward_key", "opened", "closed", "with_sla", "within", "due_later")
    ):
        row = figures[key]
        row.opened_recent = opened or 0
        row.closed_recent, row.closed_with_sla = closed or 0, with_sla or 0
        row.closed_within_sla = within or 0
        # Open with a due time, less those due from today on: due before today.
        row.overdue -= due_later or 0
    bins = close_bins("ward_key", closed_since, clock.today, open_end=True, type_key=ALL_TYPES)
    for key, ward_bins in bins.items():
        figures[key].median_days = median_from_bins(ward_bins)
    return dict(figures), bins


# A ward's counted figures (its median is found from close bins, not summed).
SUMMED_FIGURES = (
    "open",
    "overdue",
    "opened_recent",
    "closed_recent",
    "closed_with_sla",
    "closed_within_sla",
)


def city_figures(*, now: datetime | None = None) -> WardFigures:
    """The same figures for the whole city, including reports not placed in a ward yet."""
    return league_and_city(now=now)[1]


def league_table(*, now: datetime | None = None) -> list[WardFigures]:
    """Every ward with its public figures, in ward-number order, from the rollup."""
    return league_and_city(now=now)[0]


def add_overdue_today(rows: list[WardFigures], city: WardFigures, clock: Clock) -> dict[int, int]:
    """Add the open issues due between local midnight and now to each ward's and the city's
    overdue: the one part of the league that moves with the minute, not with the rollup (one
    small index range query). Returns them by ward id (wards with none left out): the ward
    page's own board takes its ward's from here rather than counting them again."""
    by_ward = {r.ward_id: r for r in rows}
    due_today: dict[int, int] = {}
    for ward_id, n in (
        due_earlier_today(clock)
        .values("ward_id")
        .annotate(n=Count("id"))
        .values_list("ward_id", "n")
    ):
        if ward_id in by_ward:
            by_ward[ward_id].overdue += n
        city.overdue += n
        if ward_id is not None:
            due_today[ward_id] = n
    return due_today


def league_and_city(
    *, now: datetime | None = None, overdue_today: bool = True
) -> tuple[list[WardFigures], WardFigures]:
    """The league rows and the whole-city row from one read of the rollup (without
    `overdue_today`: leaving out the issues due earlier today, as the stored league keeps them)."""
    clock = Clock.at(now)
    figures, bins = _figures_by_ward(clock)
    rows = []
    for w in Ward.objects.only("pk", "number", "name", "slug").order_by("number"):
        row = WardFigures(ward_id=w.pk, number=w.number, name=w.name, slug=w.slug)
        found = figures.get(w.pk)
        if found is not None:
            for name in (*SUMMED_FIGURES, "median_days"):
                setattr(row, name, getattr(found, name))
        rows.append(row)
    city = WardFigures(ward_id=0, number=0, name="", slug="")
    merged: Bins = {}
    for key, row in figures.items():
        for name in SUMMED_FIGURES:
            setattr(city, name, getattr(city, name) + getattr(row, name))
        _merge_bins(merged, bins.get(key, {}))
    city.median_days = median_from_bins(merged)
    if overdue_today:
        add_overdue_today(rows, city, clock)
    return rows, city


def sort_league(rows: list[WardFigures], *, by: str, descending: bool) -> list[WardFigures]:
    """Sort by a measure; wards without a value (no closures yet) always go last."""
    if by not in LEAGUE_SORTS:
        by = "number"
    present = [r for r in rows if getattr(r, by) is not None]
    missing = [r for r in rows if getattr(r, by) is None]
    present.sort(key=lambda r: (getattr(r, by), r.number), reverse=descending)
    return present + sorted(missing, key=lambda r: r.number)
