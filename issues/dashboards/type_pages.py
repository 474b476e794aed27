"""The trends for a type across the city (the Detroit water-meter story): the index of types with
their last four weeks against the four before, and one type's page with its weeks, its busiest
and slowest wards and its hotspots."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from departments.translations import translated
from issues.dashboards import charts, hbars
from issues.dashboards.charts import NARROW_WEEKS
from issues.dashboards.clock import CLOSED_WINDOW_DAYS, HEAT_WINDOW_DAYS, Clock
from issues.dashboards.links import Links, days_text
from issues.dashboards.terms import hotspot_definition
from issues.dashboards.trends import (
    RECENT_DAYS,
    TREND_WEEKS,
    TypeChange,
    TypeTrend,
    stored_type_changes,
)


def _change_words(change: TypeChange) -> tuple[str, str]:
    """(arrow, words) for a type's last four weeks against the four before."""
    if change.change is None:
        if change.recent:
            return "▲", ngettext(
                "new: %(n)d report, none in the four weeks before",
                "new: %(n)d reports, none in the four weeks before",
                change.recent,
            ) % {"n": change.recent}
        return "", _("no reports lately")
    pct = round(change.change * 100)
    if pct == 0:
        return "=", _("the same as the four weeks before")
    words = (
        _("up %(p)d%% on the four weeks before")
        if pct > 0
        else _("down %(p)d%% on the four weeks before")
    )
    return ("▲" if pct > 0 else "▼"), words % {"p": abs(pct)}


def types_page() -> dict:
    links = Links()
    start = Clock.at().days_back(RECENT_DAYS)
    rows = []
    for c in stored_type_changes():
        arrow, words = _change_words(c)
        rows.append(
            {
                "change": c,
                "url": reverse("wards:type", kwargs={"code": c.service_type.service_code}),
                "recent": links.figure(
                    c.recent,
                    translated(c.service_type, "name"),
                    service_codes=[c.service_type.service_code],
                    start=start,
                ),
                "arrow": arrow,
                "words": words,
                "rising": c.recent > c.before,
            }
        )
    return {"rows": rows, "recent_days": RECENT_DAYS}


def type_page(trend: TypeTrend) -> dict:
    links = Links()
    code = trend.service_type.service_code
    clock = trend.clock
    heat_since = clock.days_back(HEAT_WINDOW_DAYS)
    closed = {"status_param": "closed", "closed_start": clock.days_back(CLOSED_WINDOW_DAYS)}
    busiest = [
        {
            "ward": w,
            "figure": links.figure(
                w.recent, w.name, service_codes=[code], wards=[w.number], start=heat_since
            ),
        }
        for w in trend.busiest
    ]
    slowest = [
        {
            "ward": w,
            "figure": links.figure(
                w.median_days,
                w.name,
                display=days_text(w.median_days),
                service_codes=[code],
                wards=[w.number],
                **closed,
            ),
        }
        for w in trend.slowest
    ]
    change = TypeChange(service_type=trend.service_type, recent=trend.recent, before=trend.before)
    arrow, words = _change_words(change)
    return {
        "service_type": trend.service_type,
        "trend": trend,
        "arrow": arrow,
        "change_words": words,
        "recent": links.figure(
            trend.recent,
            translated(trend.service_type, "name"),
            service_codes=[code],
            start=clock.days_back(RECENT_DAYS),
        ),
        "median": links.figure(
            trend.median_days,
            translated(trend.service_type, "name"),
            display=days_text(trend.median_days),
            service_codes=[code],
            **closed,
        ),
        "busiest": busiest,
        "slowest": slowest,
        **_type_charts(trend, busiest, slowest),
        "alerts": trend.alerts,
        "hotspot_definition": hotspot_definition(),
        "heat_days": HEAT_WINDOW_DAYS,
        "closed_days": CLOSED_WINDOW_DAYS,
        "recent_days": RECENT_DAYS,
        "weeks_count": TREND_WEEKS,
    }


def _weeks_desc(n: int) -> str:
    return ngettext(
        "Reports opened (dark) and closed (light) in each of the last %(n)d week, whole city.",
        "Reports opened (dark) and closed (light) in each of the last %(n)d weeks, whole city.",
        n,
    ) % {"n": n}


def _type_charts(trend: TypeTrend, busiest: list[dict], slowest: list[dict]) -> dict:
    """The type page's charts: its weeks (wide and narrow), its busiest and slowest wards."""
    weekly = {
        "title": _("%(type)s: reports per week") % {"type": translated(trend.service_type, "name")},
        "y_label": _("Reports per week"),
        "x_label": _("Week starting (Monday)"),
    }
    return {
        "chart_weekly": charts.weekly_chart(
            desc=_weeks_desc(TREND_WEEKS),
            weeks=trend.weeks,
            **weekly,
        ),
        "chart_weekly_narrow": charts.weekly_chart(
            desc=_weeks_desc(NARROW_WEEKS),
            weeks=trend.weeks[-NARROW_WEEKS:],
            narrow=True,
            **weekly,
        ),
        "chart_busiest": hbars.hbar_chart(
            slug="busiest",
            title=ngettext(
                "Wards with the most reports, last %(n)d day",
                "Wards with the most reports, last %(n)d days",
                HEAT_WINDOW_DAYS,
            )
            % {"n": HEAT_WINDOW_DAYS},
            desc=_("The ten wards with the most reports of this type."),
            unit=_("Number of reports"),
            rows=[
                (r["ward"].name, r["figure"].value, r["figure"].display, r["figure"].list_url)
                for r in busiest
            ],
        ),
        "chart_slowest": hbars.hbar_chart(
            slug="slowest",
            title=ngettext(
                "Slowest wards to fix, last %(n)d day",
                "Slowest wards to fix, last %(n)d days",
                CLOSED_WINDOW_DAYS,
            )
            % {"n": CLOSED_WINDOW_DAYS},
            desc=_("The ten wards with the longest median time to close this type."),
            unit=_("Days from report to close (median)"),
            rows=[
                (r["ward"].name, r["figure"].value, r["figure"].display, r["figure"].list_url)
                for r in slowest
            ],
        ),
    }
