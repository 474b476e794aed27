"""What the ward pages show, built from the figures (league.py, ward.py): each figure paired with
the list and the CSV that produce it, the charts (declared as a table below), and the maps' data.
The views in views.py only pick a page and a template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Ward
from departments.selectors import ward_outline
from issues.dashboards import charts
from issues.dashboards.clock import (
    CLOSED_WINDOW_DAYS,
    HEAT_WINDOW_DAYS,
    OPENED_WINDOW_DAYS,
    WEEKS,
    Clock,
    city_tz,
)
from issues.dashboards.league import WardFigures, cached_league, sort_league
from issues.dashboards.links import Figure, Links, count_text, days_text, share_text
from issues.dashboards.ward import HeatCell, WardDashboard
from issues.geo import HEAT_CELL_M, bbox_around

# measure: (format, higher is worse, whole numbers)
MEASURES = {
    "open": (count_text, True, True),
    "opened_recent": (count_text, True, True),
    "median_days": (days_text, True, False),
    "sla_share": (share_text, False, False),
    "overdue": (count_text, True, True),
}
# Measures read best "worst first"; the SLA share is the one where low is bad.
DESCENDING_BY_DEFAULT = ("open", "opened_recent", "median_days", "overdue")


def map_settings() -> dict:
    return {
        "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
    }


# --- the league table -----------------------------------------------------------------------


def measure_labels() -> dict[str, str]:
    return {
        "number": _("Ward number"),
        "name": _("Ward name"),
        "open": _("Open issues"),
        "opened_recent": _("Opened in the last %(n)d days") % {"n": OPENED_WINDOW_DAYS},
        "median_days": _("Median days to fix (last %(n)d days)") % {"n": CLOSED_WINDOW_DAYS},
        "sla_share": _("Fixed within the expected time"),
        "overdue": _("Overdue"),
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
    for key, (fmt, worse_high, integer) in MEASURES.items():
        legend, colours = charts.classify(
            [getattr(r, key) for r in rows], fmt=fmt, higher_is_worse=worse_high, integer=integer
        )
        legends[key] = [{"colour": c.colour, "label": c.label} for c in legend]
        colours_by_measure[key] = {
            r.number: colour for r, colour in zip(rows, colours, strict=True)
        }
    return colours_by_measure, legends


def league_page(*, sort: str, descending: bool) -> dict:
    """The league table sorted by `sort` (one of LEAGUE_SORTS), with its map's data."""
    rows, city = cached_league()
    rows = sort_league(rows, by=sort, descending=descending)
    measure = sort if sort in MEASURES else "open"
    labels = measure_labels()
    clock = Clock.at()
    colours_by_measure, legends = _choropleth(rows)
    table = [
        {
            "row": r,
            "url": reverse("wards:detail", kwargs={"slug": r.slug}),
            "colour": colours_by_measure[measure][r.number],
            **_league_figures(Links(ward_number=r.number), r, labels, clock),
        }
        for r in rows
    ]
    return {
        "table": table,
        "totals": _league_figures(Links(), city, labels, clock),
        "columns": [
            (key, labels[key], key == sort, "asc" if key == sort and descending else "desc")
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
            "values": {
                r.number: {k: MEASURES[k][0](getattr(r, k)) for k in MEASURES} for r in rows
            },
            "outlines": reverse("wards:outlines"),
            **map_settings(),
        },
        "opened_days": OPENED_WINDOW_DAYS,
        "closed_days": CLOSED_WINDOW_DAYS,
    }


def my_wards_rows(*, held: set[int], watched: set[int]) -> list[WardFigures]:
    """League rows of the wards a person holds or watches, each with three linked figures."""
    opened_since = Clock.at().days_back(OPENED_WINDOW_DAYS)
    rows = []
    for r in cached_league()[0]:
        if r.ward_id not in held | watched:
            continue
        links = Links(ward_number=r.number)
        r.figures = [
            links.figure(r.open, _("Open"), status_param="open"),
            links.figure(r.opened_recent, _("Opened recently"), start=opened_since),
            links.figure(r.overdue, _("Overdue"), status_param="open", overdue=True),
        ]
        rows.append(r)
    return rows


# --- one ward -------------------------------------------------------------------------------


def _cell_bbox(cell: HeatCell) -> tuple[float, float, float, float]:
    return (cell.west, cell.south, cell.east, cell.north)


def _headline(links: Links, board: WardDashboard) -> list[Figure]:
    clock = board.clock
    return [
        links.figure(board.open, _("Open"), status_param="open"),
        links.figure(board.opened_this_week, _("Opened this week"), start=clock.week_start),
        links.figure(
            board.closed_this_week,
            _("Closed this week"),
            status_param="closed",
            closed_start=clock.week_start,
        ),
        links.figure(
            board.median_days,
            _("Median days to fix (last %(n)d days)") % {"n": CLOSED_WINDOW_DAYS},
            display=days_text(board.median_days),
            status_param="closed",
            closed_start=clock.days_back(CLOSED_WINDOW_DAYS),
        ),
        links.figure(board.overdue, _("Overdue"), status_param="open", overdue=True),
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
            {"label": label, "figure": links.figure(n, label, status_param=value)}
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
        "alerts": [
            {
                "alert": a,
                "figure": links.figure(
                    a.report_count,
                    a.service_type.name,
                    service_codes=[a.service_type.service_code],
                    start=timezone.localdate(a.window_start, city_tz()),
                    bbox=bbox_around(a.latitude, a.longitude, a.radius_m * 2),
                    wards=[],
                ),
            }
            for a in board.alerts
        ],
    }


@dataclass(frozen=True)
class BarChart:
    """One horizontal bar chart of the ward page: the table it draws, and which figure of each
    row (rows whose figure has no value are left out by the chart)."""

    slug: str
    title: Callable[[], str]
    desc: Callable[[], str]
    table: str
    label: Callable[[dict], str]
    figure: Callable[[dict], Figure]
    keep: Callable[[dict], bool] = lambda row: True


WARD_BAR_CHARTS = (
    BarChart(
        slug="status",
        title=lambda: _("Issues by status"),
        desc=lambda: _("Every public issue in the ward, by its current status."),
        table="by_status",
        label=lambda r: r["label"],
        figure=lambda r: r["figure"],
    ),
    BarChart(
        slug="types",
        title=lambda: _("Open issues by type"),
        desc=lambda: _("Open issues in the ward, by service type."),
        table="by_type",
        label=lambda r: r["row"].name,
        figure=lambda r: r["open"],
        keep=lambda r: bool(r["row"].open),
    ),
    BarChart(
        slug="aging",
        title=lambda: _("Age of open issues"),
        desc=lambda: _("Open issues by days since they were reported."),
        table="aging",
        label=lambda r: r["label"],
        figure=lambda r: r["figure"],
    ),
    BarChart(
        slug="median",
        title=lambda: _("Median days to close, by type"),
        desc=lambda: _("For issues closed in the last %(n)d days.") % {"n": CLOSED_WINDOW_DAYS},
        table="by_type",
        label=lambda r: r["row"].name,
        figure=lambda r: r["median"],
    ),
)


def _charts(tables: dict[str, list[dict]], board: WardDashboard, outline: dict) -> dict:
    drawn = {
        f"chart_{spec.slug}": charts.hbar_chart(
            slug=spec.slug,
            title=spec.title(),
            desc=spec.desc(),
            rows=[
                (
                    spec.label(row),
                    spec.figure(row).value,
                    spec.figure(row).display,
                    spec.figure(row).list_url,
                )
                for row in tables[spec.table]
                if spec.keep(row)
            ],
        )
        for spec in WARD_BAR_CHARTS
    }
    drawn["chart_weekly"] = charts.weekly_chart(
        title=_("Opened and closed per week"),
        desc=_("Issues opened (dark bars) and closed (light bars) in each of the last %(n)d weeks.")
        % {"n": WEEKS},
        weeks=board.weeks,
    )
    drawn["heat"] = charts.heat_map(
        title=_("Where reports were made in the last %(n)d days") % {"n": HEAT_WINDOW_DAYS},
        desc=_(
            "The ward's outline with %(m)d-metre squares shaded by the number of reports; the busiest squares are numbered as in the table below."
        )
        % {"m": HEAT_CELL_M},
        outline=outline,
        cells=board.heat_cells,
        top=board.top_cells,
    )
    return drawn


def _open_issues_url(ward: Ward) -> str:
    """The residents' viewport feed when it exists, otherwise this area's small feed."""
    try:
        base = reverse("issues:viewport")
    except NoReverseMatch:
        return reverse("wards:open_issues", kwargs={"slug": ward.slug})
    bbox = f"{ward.min_lon},{ward.min_lat},{ward.max_lon},{ward.max_lat}"
    return f"{base}?bbox={bbox}&zoom=15&ward={ward.number}&status=open"


def _map_data(board: WardDashboard, outline: dict) -> dict:
    return {
        "outline": outline,
        "cells": [
            {"s": c.south, "w": c.west, "n": c.north, "e": c.east, "count": c.count}
            for c in board.heat_cells
        ],
        "heat_max": board.heat_max,
        "issues": _open_issues_url(board.ward),
        "alerts": [
            {
                "lat": a.latitude,
                "lon": a.longitude,
                "radius": a.radius_m,
                "label": _("%(n)d × %(type)s within %(r)d m")
                % {"n": a.report_count, "type": a.service_type.name, "r": a.radius_m},
            }
            for a in board.alerts
        ],
        **map_settings(),
    }


def ward_page(board: WardDashboard) -> dict:
    """Everything the ward page shows of `board`, every figure linked to its rows."""
    links = Links(ward_number=board.ward.number)
    outline = ward_outline(board.ward)
    headline = _headline(links, board)
    tables = _tables(links, board)
    return {
        "ward": board.ward,
        "board": board,
        "headline": headline,
        **tables,
        "oldest": board.oldest_open,
        **_charts(tables, board, outline),
        "map_data": _map_data(board, outline),
        "closed_days": CLOSED_WINDOW_DAYS,
        "heat_days": HEAT_WINDOW_DAYS,
        "weeks_count": WEEKS,
        "open_list": headline[0],
    }
