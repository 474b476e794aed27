"""Context for a ward's figure: the city's figure beside it, its rank among the wards (with the
direction that is better), and its change against the previous period, in words and with an
arrow, never colour alone.

The previous period comes from the same rollup as the figures (two small grouped queries,
whatever the number of issues):

- opened in the last 30 days: the 30 days before those;
- median days to close and the share closed within the expected time: the 90 days before;
- open issues: 30 days ago, estimated as open now, less the reports opened since, plus those
  closed since (a report reopened or hidden in between makes it an estimate, and it says so);
- overdue: no earlier figure is kept, so there is no change to show.

The city figure for a count is the average per ward (a ward's 40 open issues beside the city's
2,000 says nothing); for the median and the share it is the city's own figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

from django.contrib.humanize.templatetags.humanize import ordinal as humanize_ordinal
from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues.dashboards.clock import (
    CLOSED_WINDOW_DAYS,
    OPENED_WINDOW_DAYS,
    Clock,
)
from issues.dashboards.league import (
    Bins,
    WardFigures,
    _merge_bins,
    add_overdue_today,
    close_bins,
    league_and_city,
)
from issues.dashboards.links import count_text, days_text, days_words, share_text
from issues.dashboards.per_language import per_language, per_language_each
from issues.dashboards.rollups import ALL_TYPES, NO_WARD, median_from_bins
from issues.dashboards.terms import Term, terms
from issues.models import DayTally

COUNTS = ("open", "opened_recent", "overdue")
FORMATS = {
    "open": count_text,
    "opened_recent": count_text,
    "overdue": count_text,
    "median_days": days_text,
    "sla_share": share_text,
}


@dataclass
class Previous:
    """A ward's (or the city's, key NO_WARD... summed) figures for the previous period."""

    open: int | None = None
    opened_recent: int = 0
    median_days: float | None = None
    closed_with_sla: int = 0
    closed_within_sla: int = 0

    @property
    def sla_share(self) -> float | None:
        if not self.closed_with_sla:
            return None
        return self.closed_within_sla / self.closed_with_sla

    overdue = None


def previous_figures(
    clock: Clock, current: dict[int, WardFigures]
) -> tuple[dict[int, Previous], Previous]:
    """Every ward's previous-period figures (by ward id), and the city's."""
    opened_end = clock.days_back(OPENED_WINDOW_DAYS)  # first day of the current window
    opened_start = clock.days_back(2 * OPENED_WINDOW_DAYS)
    closed_end = clock.days_back(CLOSED_WINDOW_DAYS)
    closed_start = clock.days_back(2 * CLOSED_WINDOW_DAYS)
    prev_opened = Q(day__gte=opened_start, day__lt=opened_end)
    prev_closed = Q(day__gte=closed_start, day__lt=closed_end)
    recent = Q(day__gte=opened_end)
    found: dict[int, Previous] = defaultdict(Previous)
    since: dict[int, tuple[int, int]] = {}
    for key, opened, with_sla, within, opened_since, closed_since in (
        DayTally.objects.filter(type_key=ALL_TYPES, day__gte=min(opened_start, closed_start))
        .values("ward_key")
        .annotate(
            p_opened=Sum("opened", filter=prev_opened),
            p_with_sla=Sum("closed_with_sla", filter=prev_closed),
            p_within=Sum("closed_within_sla", filter=prev_closed),
            opened_since=Sum("opened", filter=recent),
            closed_since=Sum("closed", filter=recent),
        )
        .values_list(
            "ward_key", "p_opened", "p_with_sla", "p_within", "opened_since", "closed_since"
        )
    ):
        row = found[key]
        row.opened_recent = opened or 0
        row.closed_with_sla, row.closed_within_sla = with_sla or 0, within or 0
        since[key] = (opened_since or 0, closed_since or 0)
    bins = close_bins("ward_key", closed_start, closed_end - timedelta(days=1), type_key=ALL_TYPES)
    city = Previous(open=0)
    merged: Bins = {}
    for key in set(found) | set(bins) | set(current):
        row = found[key]
        row.median_days = median_from_bins(bins.get(key, {}))
        opened_since, closed_since = since.get(key, (0, 0))
        now_open = current[key].open if key in current else 0
        row.open = max(0, now_open - opened_since + closed_since)
        city.open += row.open
        city.opened_recent += row.opened_recent
        city.closed_with_sla += row.closed_with_sla
        city.closed_within_sla += row.closed_within_sla
        _merge_bins(merged, bins.get(key, {}))
    city.median_days = median_from_bins(merged)
    found.pop(NO_WARD, None)
    return dict(found), city


@dataclass  # not frozen, as links.Figure: the league builds 204 a page
class Change:
    previous: float | None
    previous_display: str
    arrow: str  # ▲ ▼ or = (the words say the same, for readers who do not see it)
    words: str  # "up 4 from 20 in the 30 days before: worse"
    verdict: str  # "better", "worse", "same", "" (no earlier figure)
    # The league table's cell: "up 4: worse" (the period is in its column's note).
    short: str = ""

    def cell(self) -> str:
        """The league table's change under a figure, escaped (nothing without an earlier
        figure): the arrow, then the short words, the long ones as its title."""
        if not self.short:
            return ""
        words = escape(self.words[:1].upper() + self.words[1:])  # the template's |capfirst
        return (
            f'<span class="wards-change wards-change--{escape(self.verdict)}" title="{words}">'
            f'<span aria-hidden="true">{escape(self.arrow)}</span> {escape(self.short)}</span>'
        )


@dataclass(frozen=True)
class FigureContext:
    term: Term
    value: float | None
    display: str
    city: float | None
    city_display: str
    city_label: str
    rank: int | None
    of: int
    rank_text: str  # "12th of 50 (1st has the fewest)"
    change: Change


@per_language_each
def ordinal(n: int) -> str:
    """1st, 2nd... in the reader's language (Django's own: 1º, 1., 第1), never an English
    suffix glued to a number. Kept per language and number (humanize's are lazy texts)."""
    return str(humanize_ordinal(n))


def rank_of(
    value: float | None, values: list[float | None], *, higher_is_worse: bool
) -> int | None:
    """1 is the best; tied wards share a rank ("=3rd" is 3rd), wards without a value have none."""
    if value is None:
        return None
    present = [v for v in values if v is not None]
    if higher_is_worse:
        return 1 + sum(1 for v in present if v < value)
    return 1 + sum(1 for v in present if v > value)


def _best_first(term: Term) -> str:
    return _best_first_words()[term.key]


@per_language
def _best_first_words() -> dict[str, str]:
    """Which rank is best, per measure: translated once per language, not five times a rank."""
    return {
        "open": _("1st has the fewest open issues"),
        "opened_recent": _("1st had the fewest new reports"),
        "median_days": _("1st closes fastest"),
        "sla_share": _("1st closes the most on time"),
        "overdue": _("1st has the fewest overdue"),
    }


@per_language
def _change_words() -> dict[str, str]:
    """change_of's fixed words, translated once per language (as terms() are): the league
    table asks for 204 changes a page."""
    return {
        "none kept": _("no earlier figure is kept"),
        "nothing": _("nothing to compare with"),
        "same as": _("the same as %(when)s"),
        "same": _("the same"),
        "worse": _("worse"),
        "better": _("better"),
        "up from": _("up %(d)s from %(p)s, %(when)s: %(v)s"),
        "down from": _("down %(d)s from %(p)s, %(when)s: %(v)s"),
        "up": _("up %(d)s: %(v)s"),
        "down": _("down %(d)s: %(v)s"),
    }


@per_language_each
def _points_text(points: int) -> str:
    """ "4 points": the league asks for 51 a page."""
    return ngettext("%(n)d point", "%(n)d points", points) % {"n": points}


def change_of(term: Term, value: float | None, previous: float | None) -> Change:
    fmt = FORMATS[term.key]
    said = _change_words()
    if not term.previous:
        return Change(None, "", "", said["none kept"], "")
    if value is None or previous is None:
        return Change(previous, fmt(previous), "", said["nothing"], "")
    when = term.previous
    if term.key == "sla_share":
        points = round(abs(value - previous) * 100)
        delta_text = _points_text(points)
        same = round(value * 100) == round(previous * 100)
    elif term.key == "median_days":
        delta_text = days_text(abs(value - previous))
        same = round(value, 1) == round(previous, 1)
    else:
        delta_text = count_text(abs(value - previous))
        same = value == previous
    if same:
        return Change(
            previous,
            fmt(previous),
            "=",
            said["same as"] % {"when": when},
            "same",
            said["same"],
        )
    up = value > previous
    worse = up == term.higher_is_worse
    verdict = said["worse"] if worse else said["better"]
    words = (said["up from"] if up else said["down from"]) % {
        "d": delta_text,
        "p": fmt(previous),
        "when": when,
        "v": verdict,
    }
    if term.key == "median_days":
        # The long words name the unit in the period; the cell must say it itself.
        delta_text = days_words(abs(value - previous))
    short = (said["up"] if up else said["down"]) % {
        "d": delta_text,
        "v": verdict,
    }
    return Change(
        previous,
        fmt(previous),
        "▲" if up else "▼",
        words,
        "worse" if worse else "better",
        short,
    )


@dataclass
class LeagueContext:
    rows: list[WardFigures]
    city: WardFigures
    previous: dict[int, Previous]
    city_previous: Previous
    # The open issues due earlier today by ward id, when overdue counts them (add_overdue_today):
    # already in the rows' overdue, kept apart for the ward page's board. Not compared: the
    # rows' figures say the same.
    due_today: dict[int, int] = field(default_factory=dict, compare=False)
    # The clock due_today was counted under: the ward's board reads its stored figures on that
    # clock's day, or the issues due late yesterday would count in both just after midnight.
    clock: Clock | None = field(default=None, compare=False)


def league_context(*, now: datetime | None = None, overdue_today: bool = True) -> LeagueContext:
    """The league with every ward's previous-period figures, computed from the rollup (without
    `overdue_today`: leaving out the issues due earlier today, as issues/dashboards/stored.py
    keeps it). Pages read it through `stored.league_context`."""
    clock = Clock.at(now)
    rows, city = league_and_city(now=clock.now, overdue_today=False)
    # Added here rather than by league_and_city, to keep them by ward (LeagueContext.due_today).
    due_today = add_overdue_today(rows, city, clock) if overdue_today else {}
    previous, city_previous = previous_figures(
        clock, {r.ward_id: r for r in rows} | {NO_WARD: _no_ward(rows, city)}
    )
    return LeagueContext(
        rows=rows,
        city=city,
        previous=previous,
        city_previous=city_previous,
        due_today=due_today,
        clock=clock if overdue_today else None,
    )


def _no_ward(rows: list[WardFigures], city: WardFigures) -> WardFigures:
    """The issues in no ward, as what the city has beyond its wards."""
    return WardFigures(
        ward_id=NO_WARD, number=0, name="", slug="", open=city.open - sum(r.open for r in rows)
    )


def city_value(key: str, rows: list[WardFigures], city: WardFigures) -> float | None:
    """The city's figure to show beside a ward's: the average per ward for counts."""
    if key in COUNTS:
        return sum(getattr(r, key) for r in rows) / len(rows) if rows else None
    return getattr(city, key)


def figure_context(key: str, ward_id: int, ctx: LeagueContext) -> FigureContext:
    term = terms()[key]
    fmt = FORMATS[key]
    row = next((r for r in ctx.rows if r.ward_id == ward_id), None)
    value = getattr(row, key) if row is not None else None
    values = [getattr(r, key) for r in ctx.rows]
    rank = rank_of(value, values, higher_is_worse=term.higher_is_worse)
    of = sum(1 for v in values if v is not None)
    city = city_value(key, ctx.rows, ctx.city)
    if key in COUNTS:
        city_display = days_text(city) if city is not None else "–"
        city_label = _("city average per ward")
    else:
        city_display = fmt(city)
        city_label = _("whole city")
    previous = getattr(ctx.previous.get(ward_id, Previous(open=0)), key)
    rank_text = (
        ngettext("%(rank)s of %(of)d ward (%(best)s)", "%(rank)s of %(of)d wards (%(best)s)", of)
        % {"rank": ordinal(rank), "of": of, "best": _best_first(term)}
        if rank is not None
        else _("not ranked: no figure yet")
    )
    return FigureContext(
        term=term,
        value=value,
        display=fmt(value),
        city=city,
        city_display=city_display,
        city_label=city_label,
        rank=rank,
        of=of,
        rank_text=rank_text,
        change=change_of(term, value, previous),
    )


def ward_context(ward_id: int, ctx: LeagueContext) -> dict[str, FigureContext]:
    return {key: figure_context(key, ward_id, ctx) for key in terms()}
