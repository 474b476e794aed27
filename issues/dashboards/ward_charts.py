"""The ward page's charts, declared as a table (WARD_BAR_CHARTS): each a title, a unit and the
figures it draws, so a chart and the table beside it for screen readers read the same rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues.dashboards import charts, hbars
from issues.dashboards.charts import NARROW_WEEKS
from issues.dashboards.clock import CLOSED_WINDOW_DAYS, HEAT_WINDOW_DAYS, WEEKS
from issues.dashboards.links import Figure
from issues.dashboards.ward import WardDashboard
from issues.geo import HEAT_CELL_M


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
    unit: Callable[[], str] = lambda: _("Number of issues")


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
        desc=lambda: _("Issues not closed yet in the ward, by service type."),
        unit=lambda: _("Number of open issues"),
        table="by_type",
        label=lambda r: r["row"].name,
        figure=lambda r: r["open"],
        keep=lambda r: bool(r["row"].open),
    ),
    BarChart(
        slug="aging",
        title=lambda: _("Age of open issues"),
        desc=lambda: _("Open issues by days since they were reported."),
        unit=lambda: _("Number of open issues"),
        table="aging",
        label=lambda r: r["label"],
        figure=lambda r: r["figure"],
    ),
    BarChart(
        slug="median",
        title=lambda: _("Median days to close, by type"),
        desc=lambda: (
            ngettext(
                "For issues closed in the last %(n)d day.",
                "For issues closed in the last %(n)d days.",
                CLOSED_WINDOW_DAYS,
            )
            % {"n": CLOSED_WINDOW_DAYS}
        ),
        table="by_type",
        label=lambda r: r["row"].name,
        figure=lambda r: r["median"],
        unit=lambda: _("Days from report to close (median)"),
    ),
)


def _weeks_desc(n: int) -> str:
    return ngettext(
        "Issues opened (dark bars) and closed (light bars) in each of the last %(n)d week.",
        "Issues opened (dark bars) and closed (light bars) in each of the last %(n)d weeks.",
        n,
    ) % {"n": n}


def ward_charts(tables: dict[str, list[dict]], board: WardDashboard, outline: dict) -> dict:
    drawn = {
        f"chart_{spec.slug}": hbars.hbar_chart(
            slug=spec.slug,
            title=spec.title(),
            desc=spec.desc(),
            unit=spec.unit(),
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
    weekly = {
        "title": _("Opened and closed per week"),
        "y_label": _("Issues per week"),
        "x_label": _("Week starting (Monday)"),
    }
    drawn["chart_weekly"] = charts.weekly_chart(
        desc=_weeks_desc(WEEKS),
        weeks=board.weeks,
        **weekly,
    )
    drawn["chart_weekly_narrow"] = charts.weekly_chart(
        desc=_weeks_desc(NARROW_WEEKS),
        weeks=board.weeks[-NARROW_WEEKS:],
        narrow=True,
        **weekly,
    )
    drawn["heat"] = charts.heat_map(
        title=ngettext(
            "Where reports were made in the last %(n)d day",
            "Where reports were made in the last %(n)d days",
            HEAT_WINDOW_DAYS,
        )
        % {"n": HEAT_WINDOW_DAYS},
        desc=_(
            "The ward's outline with %(m)d-metre squares shaded by the number of reports; the busiest squares are numbered as in the table below."
        )
        % {"m": HEAT_CELL_M},
        outline=outline,
        cells=board.heat_cells,
        top=[t["cell"] for t in tables["top_cells"]],  # board.top_cells, sorted once
    )
    return drawn
