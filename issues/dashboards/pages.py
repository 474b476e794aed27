"""What the ward pages show, built from the figures (league.py, ward.py): each figure paired with
the list and the CSV that produce it, the charts (declared as a table below), and the maps' data.
The views in views.py only pick a page and a template."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from departments.models import Ward
from departments.selectors import ward_outline
from departments.translations import translated
from issues.dashboards import charts
from issues.dashboards.clock import (
    CLOSED_WINDOW_DAYS,
    HEAT_WINDOW_DAYS,
    OPENED_WINDOW_DAYS,
    WEEKS,
    Clock,
    city_tz,
)
from issues.dashboards.compare import (
    COUNTS,
    FORMATS,
    Change,
    LeagueContext,
    Previous,
    change_of,
    ward_context,
)
from issues.dashboards.league import LEAGUE_MEASURES, WardFigures, sort_league
from issues.dashboards.links import (
    Figure,
    Links,
    days_text,
    expected_text,
    share_text,
)
from issues.dashboards.stored import league_context
from issues.dashboards.terms import hotspot_definition, terms
from issues.dashboards.trends import (
    WardMonth,
)
from issues.dashboards.ward import HeatCell, WardDashboard
from issues.dashboards.ward_charts import ward_charts
from issues.filters import status_param
from issues.geo import bbox_around, heat_steps

# measure: (format, whole numbers). Each measure's format is compare.FORMATS' and which way is
# worse its term's (terms.py): defined once, read here.
MEASURES = {key: (FORMATS[key], key in COUNTS) for key in LEAGUE_MEASURES}
# Measures read best "worst first"; the SLA share is the one where low is bad.
DESCENDING_BY_DEFAULT = ("open", "opened_recent", "median_days", "overdue")


def map_settings() -> dict:
    return {
        "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
    }


# What reverse() leaves as it is in a path: a slug of these is put into a ward's URL as it stands.
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+").fullmatch
_SLUG_MARK = "ward-slug-0"


def ward_urls() -> Callable[[str], str]:
    """reverse("wards:detail", kwargs={"slug": slug}), from one reverse() for a page's wards:
    the league's 51 were ~1 ms of a cold league page (the slug is the only part that changes)."""
    head, tail = reverse("wards:detail", kwargs={"slug": _SLUG_MARK}).split(_SLUG_MARK)

    def url(slug: str) -> str:
        if _PLAIN_SLUG(slug):
            return f"{head}{slug}{tail}"
        return reverse("wards:detail", kwargs={"slug": slug})

    return url


# --- the league table -----------------------------------------------------------------------


def measure_labels() -> dict[str, str]:
    """The columns' names: the measures' labels are the defined terms (terms.py)."""
    return {
        "number": _("Ward number"),
        "name": _("Ward name"),
        **{key: term.label for key, term in terms().items()},
    }


def _league_figures(links: Links, r: WardFigures, labels, clock: Clock) -> dict[str, Figure]:
    """One league row's figures (a ward's, or the whole city's) with their list and CSV links."""
    opened_since = clock.days_back(OPENED_WINDOW_DAYS)
    closed_since = clock.days_back(CLOSED_WINDOW_DAYS)
    return {
        "open": links.figure(r.open, labels["open"], status_param="open"),
        "opened_recent": links.figure(r.opened_recent, labels["opened_recent"], start=opened_since),
        "median_days": links.figure(
            r.median_days,
            labels["median_days"],
            display=days_text(r.median_days),
            status_param="closed",
            closed_start=closed_since,
        ),
        "sla_share": links.figure(
            r.sla_share,
            labels["sla_share"],
            display=share_text(r.sla_share),
            status_param="closed",
            closed_start=closed_since,
        ),
        "overdue": links.figure(r.overdue, labels["overdue"], status_param="open", overdue=True),
    }


def _choropleth(rows: list[WardFigures]) -> tuple[dict, dict]:
    """Per measure: the legend, and each ward's colour."""
    colours_by_measure, legends = {}, {}
    for key, (fmt, integer) in MEASURES.items():
        legend, colours = charts.classify(
            [getattr(r, key) for r in rows],
            fmt=fmt,
            higher_is_worse=terms()[key].higher_is_worse,
            integer=integer,
        )
        legends[key] = [{"colour": c.colour, "label": c.label} for c in legend]
        colours_by_measure[key] = {
            r.number: colour for r, colour in zip(rows, colours, strict=True)
        }
    return colours_by_measure, legends


def _league_changes(row: WardFigures, previous: Previous) -> dict[str, Change]:
    """A league row's change against the previous period, for the measures that keep one
    (overdue has no earlier figure, so its column shows none)."""
    return {
        key: change_of(term, getattr(row, key), getattr(previous, key))
        for key, term in terms().items()
        if term.previous
    }


def _league_cells(row: dict[str, Figure], changes: dict[str, Change], name: str) -> list[str]:
    """A league row's five cells as league.html shows them: each figure with its links and, but
    for overdue, its change (built in Python: Figure.html)."""
    return [
        mark_safe(row[key].html(name) + (changes[key].cell() if key in changes else ""))  # noqa: S308
        for key in MEASURES
    ]


def league_page(*, sort: str, descending: bool) -> dict:
    """The league table sorted by `sort` (one of LEAGUE_SORTS), with each figure's change
    against the previous period (compare.py) and its map's data."""
    ctx = league_context()
    rows, city = ctx.rows, ctx.city
    rows = sort_league(rows, by=sort, descending=descending)
    measure = sort if sort in MEASURES else "open"
    labels = measure_labels()
    clock = Clock.at()
    colours_by_measure, legends = _choropleth(rows)
    definitions = {key: t.explained for key, t in terms().items()}
    links = Links()
    ward_url = ward_urls()
    table = []
    for r in rows:
        figures = _league_figures(links.for_ward(r.number), r, labels, clock)
        changes = _league_changes(r, ctx.previous.get(r.ward_id, Previous(open=0)))
        table.append(
            {
                "row": r,
                "url": ward_url(r.slug),
                "colour": colours_by_measure[measure][r.number],
                "change": changes,
                "cells": _league_cells(figures, changes, r.name),
                **figures,
            }
        )
    totals = _league_figures(links, city, labels, clock)
    totals_change = _league_changes(city, ctx.city_previous)
    return {
        "table": table,
        "totals": totals,
        "totals_change": totals_change,
        "totals_cells": _league_cells(totals, totals_change, settings.CITY_NAME),
        "columns": [
            (
                key,
                labels[key],
                key == sort,
                "asc" if key == sort and descending else "desc",
                definitions.get(key, ""),
            )
            for key in ("number", *MEASURES)
        ],
        "sort": sort,
        "descending": descending,
        "measure": measure,
        "measure_label": labels[measure],
        "measure_choices": [(k, labels[k]) for k in MEASURES],
        "legend": legends[measure],
        "map_data": {
            "measure": measure,
            "labels": {k: labels[k] for k in MEASURES},
            "legends": legends,
            "colours": colours_by_measure,
            # The table's own texts (the same formats as MEASURES'), not formatted again.
            "values": {t["row"].number: {k: t[k].display for k in MEASURES} for t in table},
            "outlines": reverse("wards:outlines"),
            **map_settings(),
        },
        "opened_days": OPENED_WINDOW_DAYS,
        "closed_days": CLOSED_WINDOW_DAYS,
    }


# --- the monthly report ---------------------------------------------------------------------


def report_page(
    board: WardDashboard, month: WardMonth, league: LeagueContext | None = None
) -> dict:
    """The printable monthly report: the month's own counts, then the dashboard's figures (the
    same headline with its context, types, weeks, hotspots and oldest open issues); `league` as
    for ward_page."""
    links = Links(ward_number=board.ward.number)
    # Only what the report prints: the dashboard's charts, map and other tables (an outline
    # projected, hundreds of heat cells, four charts) cost a cold report ~5 ms of CPU at 1M.
    context = {
        **_board_context(board, _headline(links, board, league or league_context())),
        "by_type": _by_type(links, board),
        "alerts": _alerts(links, board),
    }
    closed = {"status_param": "closed"}
    context.update(
        month=month,
        month_opened=links.figure(month.opened, _("Opened"), start=month.first, end=month.last),
        month_closed=links.figure(
            month.closed, _("Closed"), closed_start=month.first, closed_end=month.last, **closed
        ),
        month_types=[
            {
                "row": r,
                "opened": links.figure(
                    r.opened, r.name, service_codes=[r.code], start=month.first, end=month.last
                ),
                "closed": links.figure(
                    r.closed,
                    r.name,
                    service_codes=[r.code],
                    closed_start=month.first,
                    closed_end=month.last,
                    **closed,
                ),
            }
            for r in month.by_type
        ],
        generated=board.clock.now,
    )
    return context


# --- comparing wards ------------------------------------------------------------------------

COMPARE_MIN, COMPARE_MAX = 2, 5


def compare_page(numbers: list[int]) -> dict:
    """Two to five wards side by side: per measure, each ward's figure (linked to its rows), its
    rank and its change, and the city's figure. `numbers` are checked by the view."""
    ctx = league_context()
    clock = Clock.at()
    labels = measure_labels()
    by_number = {r.number: r for r in ctx.rows}
    chosen = [by_number[n] for n in numbers]
    figures = {
        r.number: _league_figures(Links(ward_number=r.number), r, labels, clock) for r in chosen
    }
    contexts = {r.number: ward_context(r.ward_id, ctx) for r in chosen}
    city = _league_figures(Links(), ctx.city, labels, clock)
    city_context = ward_context(-1, ctx)
    ward_url = ward_urls()
    measures = []
    for key, term in terms().items():
        measures.append(
            {
                "term": term,
                "city": city[key],
                "city_value": city_context[key],
                "rows": [
                    {
                        "ward": r,
                        "url": ward_url(r.slug),
                        "figure": figures[r.number][key],
                        "context": contexts[r.number][key],
                    }
                    for r in chosen
                ],
            }
        )
    return {
        "wards": chosen,
        "measures": measures,
        "all_wards": ctx.rows,
        "chosen_numbers": set(numbers),
        "min": COMPARE_MIN,
        "max": COMPARE_MAX,
    }


def my_wards_rows(*, held: set[int], watched: set[int]) -> list[WardFigures]:
    """League rows of the wards a person holds or watches, each with three linked figures (and
    their cells' markup, Figure.html)."""
    opened_since = Clock.at().days_back(OPENED_WINDOW_DAYS)
    rows = []
    for r in league_context().rows:
        if r.ward_id not in held | watched:
            continue
        links = Links(ward_number=r.number)
        r.figures = [
            links.figure(r.open, _("Open"), status_param="open"),
            links.figure(r.opened_recent, _("Opened recently"), start=opened_since),
            links.figure(r.overdue, _("Overdue"), status_param="open", overdue=True),
        ]
        r.cells = [f.html(r.name) for f in r.figures]
        rows.append(r)
    return rows


# --- one ward -------------------------------------------------------------------------------


def _cell_bbox(cell: HeatCell) -> tuple[float, float, float, float]:
    return (cell.west, cell.south, cell.east, cell.north)


def _headline(links: Links, board: WardDashboard, ctx: LeagueContext) -> list[dict]:
    """The league's five measures for this ward, each with its context: the city's figure, the
    ward's rank and the change against the previous period (compare.py), and its definition."""
    row = next((r for r in ctx.rows if r.ward_id == board.ward.pk), None)
    if row is None:
        row = WardFigures(ward_id=board.ward.pk, number=board.ward.number, name="", slug="")
    figures = _league_figures(links, row, measure_labels(), board.clock)
    context = ward_context(board.ward.pk, ctx)
    return [
        {"figure": figures[key], "context": context[key], "term": context[key].term}
        for key in MEASURES
    ]


def _by_type(links: Links, board: WardDashboard) -> list[dict]:
    closed_since = board.clock.days_back(CLOSED_WINDOW_DAYS)
    closed = {"status_param": "closed", "closed_start": closed_since}
    return [
        {
            "row": t,
            "total": links.figure(t.total, t.name, service_codes=[t.code]),
            "open": links.figure(t.open, t.name, service_codes=[t.code], status_param="open"),
            "median": links.figure(
                t.median_days,
                t.name,
                display=days_text(t.median_days),
                service_codes=[t.code],
                **closed,
            ),
            "closed_recent": links.figure(
                t.closed_recent, t.name, service_codes=[t.code], **closed
            ),
        }
        for t in board.by_type
    ]


def _tables(links: Links, board: WardDashboard) -> dict[str, list[dict]]:
    """The ward page's tables: every figure with its links."""
    heat_since = board.clock.days_back(HEAT_WINDOW_DAYS)
    return {
        "by_status": [
            {"label": label, "figure": links.figure(n, label, status_param=status_param(value))}
            for value, label, n in board.by_status
        ],
        "by_type": _by_type(links, board),
        "weeks": [
            {
                "week": w,
                "opened": links.figure(w.opened, _("Opened"), start=w.start, end=w.end),
                "closed": links.figure(
                    w.closed,
                    _("Closed"),
                    status_param="closed",
                    closed_start=w.start,
                    closed_end=w.end,
                ),
            }
            for w in board.weeks
        ],
        "aging": [
            {
                "bucket": b,
                "label": _("%(label)s days") % {"label": b.label},
                "figure": links.figure(
                    b.count, b.label, status_param="open", start=b.start, end=b.end
                ),
            }
            for b in board.aging
        ],
        "top_cells": [
            {
                "rank": i,
                "cell": c,
                "figure": links.figure(c.count, _("Reports"), start=heat_since, bbox=_cell_bbox(c)),
                "dominant": links.figure(
                    c.dominant_count,
                    c.dominant_name,
                    service_codes=[c.dominant_code],
                    start=heat_since,
                    bbox=_cell_bbox(c),
                ),
            }
            for i, c in enumerate(board.top_cells, start=1)
        ],
        "alerts": _alerts(links, board),
    }


def _alerts(links: Links, board: WardDashboard) -> list[dict]:
    """The ward's hotspot alerts, each linked to the reports around it (in any ward)."""
    return [
        {
            "alert": a,
            "expected": expected_text(a.expected_count),
            "figure": links.figure(
                a.report_count,
                translated(a.service_type, "name"),
                service_codes=[a.service_type.service_code],
                start=timezone.localdate(a.window_start, city_tz()),
                bbox=bbox_around(a.latitude, a.longitude, a.radius_m * 2),
                wards=[],
            ),
        }
        for a in board.alerts
    ]


def _open_issues_url(ward: Ward) -> str:
    """The residents' viewport feed when it exists, otherwise this area's small feed."""
    try:
        base = reverse("issues:viewport")
    except NoReverseMatch:
        return reverse("wards:open_issues", kwargs={"slug": ward.slug})
    bbox = f"{ward.min_lon},{ward.min_lat},{ward.max_lon},{ward.max_lat}"
    return f"{base}?bbox={bbox}&zoom=15&ward={ward.number}&status=open"


def _map_data(board: WardDashboard, outline: dict) -> dict:
    # The heat cells as [row, col, count] on the fixed grid whose steps come with them: wards.js
    # multiplies them out to the same edges (HeatCell's). Written as four corners each, a busy
    # ward's few hundred cells were a fifth of the page's bytes and most of its JSON's cost.
    return {
        "outline": outline,
        "grid": list(heat_steps()),
        "cells": [[c.row, c.col, c.count] for c in board.heat_cells],
        "heat_max": board.heat_max,
        "issues": _open_issues_url(board.ward),
        "alerts": [
            {
                "lat": a.latitude,
                "lon": a.longitude,
                "radius": a.radius_m,
                "label": _("%(n)d × %(type)s within %(r)d m")
                % {
                    "n": a.report_count,
                    "type": translated(a.service_type, "name"),
                    "r": a.radius_m,
                },
            }
            for a in board.alerts
        ],
        **map_settings(),
    }


def ward_page(board: WardDashboard, league: LeagueContext | None = None) -> dict:
    """Everything the ward page shows of `board`, every figure linked to its rows; `league`:
    the league as of now (stored.league_context), when the caller has read it."""
    links = Links(ward_number=board.ward.number)
    outline = ward_outline(board.ward)
    headline = _headline(links, board, league or league_context())
    tables = _tables(links, board)
    return {
        **_board_context(board, headline),
        **tables,
        **ward_charts(tables, board, outline),
        "map_data": _map_data(board, outline),
        "heat_days": HEAT_WINDOW_DAYS,
        "weeks_count": WEEKS,
        "open_list": headline[0]["figure"],
    }


def _board_context(board: WardDashboard, headline: list[dict]) -> dict:
    """What the ward page and the monthly report both show of the dashboard, in one place."""
    return {
        "ward": board.ward,
        "board": board,
        "headline": headline,
        "oldest": board.oldest_open,
        "closed_days": CLOSED_WINDOW_DAYS,
        "hotspot_definition": hotspot_definition(),
    }
