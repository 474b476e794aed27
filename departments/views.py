"""Ward pages: the league table, each ward's dashboard, and what aldermen and watchers set there.

Figures come from departments.selectors; this module only pairs each figure with the public list
and the CSV that produce it (the same IssueFilters query string on both), and picks templates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts import roles
from accounts.models import User
from departments import charts, selectors
from departments.models import Ward
from issues import services
from issues.filters import IssueFilters
from issues.models import Subscription

# --- links from a figure to the rows behind it ----------------------------------------------


def _csv_base() -> str:
    # The open-data area owns the CSV; before it is mounted, its agreed path still works as a
    # link target once it lands, so the dashboard never breaks on a missing URL name.
    try:
        return reverse("opendata:issues_csv")
    except NoReverseMatch:
        return "/data/issues.csv"


@dataclass(frozen=True)
class Figure:
    value: float | int | None
    display: str
    list_url: str
    csv_url: str
    label: str
    csv_label: str = ""


class Links:
    """Builds the list/CSV links for one page (the base URLs are resolved once)."""

    def __init__(self, ward_number: int | None = None):
        self.list_base = reverse("issues:home")
        self.csv_base = _csv_base()
        self.ward_number = ward_number
        # Translated once per page, not once per figure: the league table has hundreds.
        self.csv_template = _("of “%(label)s”")

    def query(self, **params) -> str:
        if self.ward_number is not None:
            params.setdefault("wards", [self.ward_number])
        return IssueFilters(**params).querystring()

    def figure(self, value, label: str, *, display: str | None = None, **params) -> Figure:
        q = self.query(**params)
        return Figure(
            value=value,
            display=display if display is not None else _count(value),
            list_url=f"{self.list_base}?{q}",
            csv_url=f"{self.csv_base}?{q}",
            label=label,
            csv_label=self.csv_template % {"label": label},
        )


def _count(value) -> str:
    return "–" if value is None else number_format(value, force_grouping=True)


def _days(value: float | None) -> str:
    return "–" if value is None else number_format(round(value, 1), 1)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


# --- the league table -----------------------------------------------------------------------

# measure: (format, higher is worse, whole numbers)
MEASURES = {
    "open": (_count, True, True),
    "opened_recent": (_count, True, True),
    "median_days": (_days, True, False),
    "sla_share": (_share, False, False),
    "overdue": (_count, True, True),
}


def _measure_labels() -> dict[str, str]:
    return {
        "number": _("Ward number"),
        "name": _("Ward name"),
        "open": _("Open issues"),
        "opened_recent": _("Opened in the last %(n)d days") % {"n": selectors.OPENED_WINDOW_DAYS},
        "median_days": _("Median days to close (last %(n)d days)")
        % {"n": selectors.CLOSED_WINDOW_DAYS},
        "sla_share": _("Closed within the expected time"),
        "overdue": _("Overdue"),
    }


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    html = render_to_string("departments/bad_request.html", {"message": message}, request=request)
    return HttpResponseBadRequest(html)


def _league_figures(links: Links, r, labels, opened_since, closed_since) -> dict[str, Figure]:
    """One league row's figures (a ward's, or the whole city's) with their list and CSV links."""
    return {
        "open": links.figure(r.open, labels["open"], status_param="open"),
        "opened_recent": links.figure(r.opened_recent, labels["opened_recent"], start=opened_since),
        "median_days": links.figure(
            r.median_days,
            labels["median_days"],
            display=_days(r.median_days),
            status_param="closed",
            closed_start=closed_since,
        ),
        "sla_share": links.figure(
            r.sla_share,
            labels["sla_share"],
            display=_share(r.sla_share),
            status_param="closed",
            closed_start=closed_since,
        ),
        "overdue": links.figure(r.overdue, labels["overdue"], status_param="open", overdue=True),
    }


@require_safe
def league(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "number")
    direction = request.GET.get("dir", "")
    if sort not in selectors.LEAGUE_SORTS:
        return _bad_request(
            request,
            _("Cannot sort by “%(s)s”. Choose one of: %(all)s.")
            % {"s": sort[:40], "all": ", ".join(selectors.LEAGUE_SORTS)},
        )
    if direction not in ("", "asc", "desc"):
        return _bad_request(request, _("The sort direction is “asc” or “desc”."))
    # Measures read best "worst first"; the SLA share is the one where low is bad.
    default_desc = sort in ("open", "opened_recent", "median_days", "overdue")
    descending = direction == "desc" if direction else default_desc
    rows, city = selectors.cached_league()
    rows = selectors.sort_league(rows, by=sort, descending=descending)
    measure = sort if sort in MEASURES else "open"
    labels = _measure_labels()
    links = Links()
    clock = selectors.Clock.at()
    opened_since = clock.days_back(selectors.OPENED_WINDOW_DAYS)
    closed_since = clock.days_back(selectors.CLOSED_WINDOW_DAYS)

    colours_by_measure, legends = {}, {}
    for key, (fmt, worse_high, integer) in MEASURES.items():
        legend, colours = charts.classify(
            [getattr(r, key) for r in rows], fmt=fmt, higher_is_worse=worse_high, integer=integer
        )
        legends[key] = [{"colour": c.colour, "label": c.label} for c in legend]
        colours_by_measure[key] = {
            r.number: colour for r, colour in zip(rows, colours, strict=True)
        }

    table = []
    for r in rows:
        ward_links = Links(ward_number=r.number)
        table.append(
            {
                "row": r,
                "url": reverse("wards:detail", kwargs={"slug": r.slug}),
                "colour": colours_by_measure[measure][r.number],
                **_league_figures(ward_links, r, labels, opened_since, closed_since),
            }
        )
    totals = _league_figures(links, city, labels, opened_since, closed_since)
    columns = [
        (key, labels[key], key == sort, "asc" if key == sort and descending else "desc")
        for key in ("number", *MEASURES)
    ]
    map_data = {
        "measure": measure,
        "labels": {k: labels[k] for k in MEASURES},
        "legends": legends,
        "colours": colours_by_measure,
        "values": {r.number: {k: MEASURES[k][0](getattr(r, k)) for k in MEASURES} for r in rows},
        "outlines": reverse("wards:outlines"),
        **_map_settings(),
    }
    return render(
        request,
        "departments/league.html",
        {
            "table": table,
            "totals": totals,
            "columns": columns,
            "sort": sort,
            "descending": descending,
            "measure": measure,
            "measure_label": labels[measure],
            "measure_choices": [(k, labels[k]) for k in MEASURES],
            "legend": legends[measure],
            "map_data": map_data,
            "opened_days": selectors.OPENED_WINDOW_DAYS,
            "closed_days": selectors.CLOSED_WINDOW_DAYS,
        },
    )


def _map_settings() -> dict:
    from django.conf import settings

    return {
        "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
    }


@require_safe
def outlines(request: HttpRequest) -> HttpResponse:
    """Every ward's simplified outline; changes only when a boundary does, so cache hard."""
    version, data = selectors.ward_outlines()
    etag = '"' + hashlib.sha256(version.encode()).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(
            json.dumps(data, separators=(",", ":")), content_type="application/geo+json"
        )
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- one ward -------------------------------------------------------------------------------


@require_safe
def ward_detail(request: HttpRequest, slug: str) -> HttpResponse:
    ward = get_object_or_404(Ward, slug=slug)
    board = selectors.cached_ward_dashboard(ward=ward)
    clock = board.clock
    links = Links(ward_number=ward.number)
    week_start = clock.week_start
    closed_since = clock.days_back(selectors.CLOSED_WINDOW_DAYS)
    heat_since = clock.days_back(selectors.HEAT_WINDOW_DAYS)

    headline = [
        links.figure(board.open, _("Open"), status_param="open"),
        links.figure(board.opened_this_week, _("Opened this week"), start=week_start),
        links.figure(
            board.closed_this_week,
            _("Closed this week"),
            status_param="closed",
            closed_start=week_start,
        ),
        links.figure(
            board.median_days,
            _("Median days to close (last %(n)d days)") % {"n": selectors.CLOSED_WINDOW_DAYS},
            display=_days(board.median_days),
            status_param="closed",
            closed_start=closed_since,
        ),
        links.figure(board.overdue, _("Overdue"), status_param="open", overdue=True),
    ]
    by_status = [
        {"label": label, "figure": links.figure(n, label, status_param=value)}
        for value, label, n in board.by_status
    ]
    by_type = [
        {
            "row": t,
            "total": links.figure(t.total, t.name, service_codes=[t.code]),
            "open": links.figure(t.open, t.name, service_codes=[t.code], status_param="open"),
            "median": links.figure(
                t.median_days,
                t.name,
                display=_days(t.median_days),
                service_codes=[t.code],
                status_param="closed",
                closed_start=closed_since,
            ),
            "closed_recent": links.figure(
                t.closed_recent,
                t.name,
                service_codes=[t.code],
                status_param="closed",
                closed_start=closed_since,
            ),
        }
        for t in board.by_type
    ]
    weeks = [
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
    ]
    aging = [
        {
            "bucket": b,
            "label": _("%(label)s days") % {"label": b.label},
            "figure": links.figure(b.count, b.label, status_param="open", start=b.start, end=b.end),
        }
        for b in board.aging
    ]
    top_cells = [
        {
            "rank": i,
            "cell": c,
            "figure": links.figure(c.count, _("Reports"), start=heat_since, bbox=_bbox(c)),
            "dominant": links.figure(
                c.dominant_count,
                c.dominant_name,
                service_codes=[c.dominant_code],
                start=heat_since,
                bbox=_bbox(c),
            ),
        }
        for i, c in enumerate(board.top_cells, start=1)
    ]
    alerts = [
        {
            "alert": a,
            "figure": links.figure(
                a.report_count,
                a.service_type.name,
                service_codes=[a.service_type.service_code],
                start=timezone.localdate(a.window_start, selectors.city_tz()),
                bbox=_bbox_around(a.latitude, a.longitude, a.radius_m * 2),
                wards=[],
            ),
        }
        for a in board.alerts
    ]
    outline = selectors.ward_outline(ward)
    chart_weekly = charts.weekly_chart(
        title=_("Opened and closed per week"),
        desc=_("Issues opened (dark bars) and closed (light bars) in each of the last %(n)d weeks.")
        % {"n": selectors.WEEKS},
        weeks=board.weeks,
    )
    chart_status = charts.hbar_chart(
        slug="status",
        title=_("Issues by status"),
        desc=_("Every public issue in the ward, by its current status."),
        rows=[
            (r["label"], r["figure"].value, r["figure"].display, r["figure"].list_url)
            for r in by_status
        ],
    )
    chart_types = charts.hbar_chart(
        slug="types",
        title=_("Open issues by type"),
        desc=_("Open issues in the ward, by service type."),
        rows=[
            (r["row"].name, r["open"].value, r["open"].display, r["open"].list_url)
            for r in by_type
            if r["row"].open
        ],
    )
    chart_aging = charts.hbar_chart(
        slug="aging",
        title=_("Age of open issues"),
        desc=_("Open issues by days since they were reported."),
        rows=[
            (r["label"], r["figure"].value, r["figure"].display, r["figure"].list_url)
            for r in aging
        ],
    )
    chart_median = charts.hbar_chart(
        slug="median",
        title=_("Median days to close, by type"),
        desc=_("For issues closed in the last %(n)d days.") % {"n": selectors.CLOSED_WINDOW_DAYS},
        rows=[
            (r["row"].name, r["median"].value, r["median"].display, r["median"].list_url)
            for r in by_type
            if r["row"].median_days is not None
        ],
    )
    heat = charts.heat_map(
        title=_("Where reports were made in the last %(n)d days")
        % {"n": selectors.HEAT_WINDOW_DAYS},
        desc=_(
            "The ward's outline with %(m)d-metre squares shaded by the number of reports; the busiest squares are numbered as in the table below."
        )
        % {"m": selectors.HEAT_CELL_M},
        outline=outline,
        cells=board.heat_cells,
        top=board.top_cells,
    )
    user = request.user
    map_data = {
        "outline": outline,
        "cells": [
            {"s": c.south, "w": c.west, "n": c.north, "e": c.east, "count": c.count}
            for c in board.heat_cells
        ],
        "heat_max": board.heat_max,
        "issues": _open_issues_url(ward),
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
        **_map_settings(),
    }
    context = {
        "ward": ward,
        "board": board,
        "headline": headline,
        "by_status": by_status,
        "by_type": by_type,
        "weeks": weeks,
        "aging": aging,
        "top_cells": top_cells,
        "alerts": alerts,
        "oldest": board.oldest_open,
        "chart_weekly": chart_weekly,
        "chart_status": chart_status,
        "chart_types": chart_types,
        "chart_aging": chart_aging,
        "chart_median": chart_median,
        "heat": heat,
        "map_data": map_data,
        "closed_days": selectors.CLOSED_WINDOW_DAYS,
        "heat_days": selectors.HEAT_WINDOW_DAYS,
        "weeks_count": selectors.WEEKS,
        "open_list": headline[0],
        "is_alderman": ward.pk in roles.ward_ids(user),
        "watching": user.is_authenticated
        and Subscription.objects.filter(ward=ward, user=user).exists(),
        "digest_form": DigestForm(instance=user) if ward.pk in roles.ward_ids(user) else None,
    }
    return render(request, "departments/ward_detail.html", context)


def _bbox(cell: selectors.HeatCell) -> tuple[float, float, float, float]:
    return (cell.west, cell.south, cell.east, cell.north)


def _bbox_around(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    from issues.hotspots import _bbox_around as around

    return around(lat, lon, metres)


def _open_issues_url(ward: Ward) -> str:
    """The residents' viewport feed when it exists, otherwise this area's small feed."""
    try:
        base = reverse("issues:viewport")
    except NoReverseMatch:
        return reverse("wards:open_issues", kwargs={"slug": ward.slug})
    bbox = f"{ward.min_lon},{ward.min_lat},{ward.max_lon},{ward.max_lat}"
    return f"{base}?bbox={bbox}&zoom=15&ward={ward.number}&status=open"


@require_safe
def open_issues(request: HttpRequest, slug: str) -> JsonResponse:
    ward = get_object_or_404(Ward, slug=slug)
    features = selectors.ward_open_issue_points(ward=ward)
    return JsonResponse({"type": "FeatureCollection", "features": features})


# --- watching and digests -------------------------------------------------------------------


class DigestForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notify_ward_digest"]


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def watch(request: HttpRequest, slug: str) -> HttpResponse:
    ward = get_object_or_404(Ward, slug=slug)
    action = request.POST.get("action", "")
    if action == "watch":
        services.watch_ward(ward=ward, user=request.user)
        messages.success(
            request,
            _("You will get an email about each new report in %(ward)s.") % {"ward": ward.name},
        )
    elif action == "unwatch":
        services.unwatch_ward(ward=ward, user=request.user)
        messages.success(request, _("You no longer follow %(ward)s.") % {"ward": ward.name})
    else:
        return _bad_request(request, _("Choose to watch or to stop watching the ward."))
    return redirect(_back(request, reverse("wards:detail", kwargs={"slug": ward.slug})))


@login_required
@require_POST
def digest(request: HttpRequest) -> HttpResponse:
    if not roles.is_alderman(request.user):
        return _bad_request(request, _("The daily digest is for the aldermen of a ward."))
    form = DigestForm(request.POST, instance=request.user)
    if not form.is_valid():
        return _bad_request(request, _("The digest setting could not be read."))
    form.save()
    if form.cleaned_data["notify_ward_digest"]:
        messages.success(request, _("You will get a daily digest of your wards."))
    else:
        messages.success(request, _("The daily digest is off."))
    return redirect(_back(request, reverse("wards:mine")))


@login_required
@require_safe
def my_wards(request: HttpRequest) -> HttpResponse:
    held = roles.ward_ids(request.user)
    watched = set(
        Subscription.objects.filter(user=request.user, ward__isnull=False).values_list(
            "ward_id", flat=True
        )
    )
    clock = selectors.Clock.at()
    opened_since = clock.days_back(selectors.OPENED_WINDOW_DAYS)
    rows = []
    for r in selectors.cached_league()[0]:
        if r.ward_id not in held | watched:
            continue
        links = Links(ward_number=r.number)
        r.figures = [
            links.figure(r.open, _("Open"), status_param="open"),
            links.figure(r.opened_recent, _("Opened recently"), start=opened_since),
            links.figure(r.overdue, _("Overdue"), status_param="open", overdue=True),
        ]
        rows.append(r)
    return render(
        request,
        "departments/my_wards.html",
        {
            "held": [r for r in rows if r.ward_id in held],
            "watched": [r for r in rows if r.ward_id in watched and r.ward_id not in held],
            "digest_form": DigestForm(instance=request.user) if held else None,
            "opened_days": selectors.OPENED_WINDOW_DAYS,
        },
    )
