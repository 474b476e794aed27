"""Open data pages: the dataset description, streamed downloads and the embeddable map."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Max, Min, Sum
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from departments.models import ServiceType, Ward
from departments.selectors import service_types_for_filter, wards_bounds, wards_for_filter
from issues import selectors
from issues.dashboards.rollups import OPEN
from issues.dashboards.terms import hotspot_definition, terms
from issues.filters import IssueFilters
from issues.models import StatusTally
from issues.opendata import exports, files


def _filter_error(filters: IssueFilters) -> HttpResponse:
    lines = [_("These filters could not be used:")] + [
        f"- {name}: {message}" for name, message in filters.errors.items()
    ]
    return HttpResponse(
        "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
    )


def _filename(extension: str) -> str:
    return f"{settings.SITE_NAME.lower()}-issues-{timezone.localdate():%Y-%m-%d}.{extension}"


def download(chunks, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Open data: anyone's scripts may fetch it from any site.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=300"
    return response


def _catalogue_facts() -> dict:
    """Row counts (from the dashboards' rollup: a small grouped read, not a count of a million
    rows), when the data last changed (through the updated-time index), and the licence."""
    by_status = dict(
        StatusTally.objects.values("status").annotate(n=Sum("n")).values_list("status", "n")
    )
    open_rows = sum(by_status.get(s, 0) or 0 for s in OPEN)
    total = sum(n or 0 for n in by_status.values())
    return {
        "rows_total": total,
        "rows_open": open_rows,
        "rows_closed": total - open_rows,
        "last_updated": selectors.public_issues()
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first(),
        "licence": settings.OPEN_DATA_LICENCE,
        "licence_url": settings.OPEN_DATA_LICENCE_URL,
        "definitions": list(terms().values()),
        "hotspot_definition": hotspot_definition(),
    }


@require_GET
def data_page(request):
    filters = IssueFilters.from_params(request.GET)
    querystring = filters.querystring()
    return render(
        request,
        "opendata/data.html",
        {
            "filters": filters,
            "querystring": querystring,
            "columns": exports.COLUMNS,
            "service_types": service_types_for_filter(),
            "wards": wards_for_filter(),
            "statuses": [("open", _("Open")), ("closed", _("Closed"))],
            "site_url": settings.SITE_URL,
            **_catalogue_facts(),
        },
        status=400 if filters.errors else 200,
    )


def _large_download(request, filters: IssueFilters, kind: str) -> HttpResponse | None:
    """A large download from its built file (issues/opendata/files.py), or None to stream."""
    # A fresh file first (one cache read): only a large download was ever built, and asking
    # the database whether it is large cost every download a count of up to EXPORT_LIVE_ROWS.
    name = files.fresh_file(kind, filters)
    if name is None:
        if not files.is_large(filters):
            return None
        if not files.request_build(kind, filters):
            return None  # no cache or no broker: stream it live
        # Built inline where Celery runs eagerly (the embedded mode).
        name = files.fresh_file(kind, filters)
    if name is None:
        return files.being_built()
    return files.serve(request, name, kind, _filename(kind))


@require_GET
def issues_csv(request):
    filters = IssueFilters.from_params(request.GET)
    if filters.errors:
        return _filter_error(filters)
    if (large := _large_download(request, filters, "csv")) is not None:
        return large
    return download(exports.csv_lines(filters), "text/csv; charset=utf-8", _filename("csv"))


@require_GET
def issues_geojson(request):
    filters = IssueFilters.from_params(request.GET)
    if filters.errors:
        return _filter_error(filters)
    if (large := _large_download(request, filters, "geojson")) is not None:
        return large
    chunks = exports.geojson_chunks(filters)
    return download(chunks, "application/geo+json", _filename("geojson"))


@require_GET
def export_file(request, name: str):
    """A built download by its file name: where the web set's redirect sends a download when the
    Procfile's `downloads` set sends the files (DOWNLOADS_URL). The name is matched by the URL
    pattern (no path can be named) and must be a file build_export wrote."""
    kind = files.kind_of(name)
    if kind is None:
        raise Http404(_("This download is no longer there: download it again."))
    return files.send(request, f"{files.FOLDER}/{name}", kind, _filename(kind))


def _optional_url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def viewport_url() -> str:
    """The residents' map endpoint, which the embed shares; the full GeoJSON download stands in
    wherever that endpoint is not installed."""
    try:
        return reverse("issues:viewport")
    except NoReverseMatch:
        return reverse("opendata:issues_geojson")


# The embed's marker colours by status, as static/js/civicmap.js draws them (STATUS_COLOURS):
# the legend must say what the map shows.
EMBED_LEGEND = [
    ("open", _lazy("Open"), "#c2410c"),
    ("acknowledged", _lazy("Acknowledged"), "#a16207"),
    ("in_progress", _lazy("In progress"), "#0b5cad"),
    ("closed", _lazy("Closed"), "#1d6b36"),
]


def _city_bounds() -> tuple[float, float, float, float] | None:
    """(south, west, north, east) around every ward: one aggregate."""
    box = Ward.objects.aggregate(
        s=Min("min_lat"), w=Min("min_lon"), n=Max("max_lat"), e=Max("max_lon")
    )
    return None if box["s"] is None else (box["s"], box["w"], box["n"], box["e"])


def _embed_scope(filters: IssueFilters) -> str:
    """What the embed shows, in words: the ward(s), the type(s), the status."""
    parts = []
    if filters.wards:
        parts.append(_("Ward %(n)s") % {"n": ", ".join(str(n) for n in filters.wards)})
    if filters.service_codes:
        names = dict(
            ServiceType.objects.filter(service_code__in=filters.service_codes).values_list(
                "service_code", "name"
            )
        )
        parts.append(", ".join(names.get(c, c) for c in filters.service_codes))
    if filters.status_param:
        parts.append(
            {"open": _("open only"), "closed": _("closed only")}.get(
                filters.status_param, filters.status_param
            )
        )
    return " · ".join(parts) or _("All reports, whole city")


@require_GET
@xframe_options_exempt  # the one page other sites may frame; every other page stays DENY
def embed(request):
    filters = IssueFilters.from_params(request.GET)
    params = filters.as_params()
    params.pop("bbox", None)  # the embed's own viewport decides the box
    config = {
        "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "viewportUrl": viewport_url(),
        # Ward outlines give a place to the points where map tiles cannot load.
        "wardsUrl": _optional_url("issues:ward_outlines"),
        "filters": params,
        "siteUrl": request.build_absolute_uri(reverse("issues:home")),
        "strings": {
            "tilesFailed": _("Map tiles could not load; issues are shown on a plain background."),
            "loadFailed": _("Issues could not be loaded."),
            "issues": _("%(n)s issues here: zoom in to see them."),
            "open": _("Open the issue"),
        },
    }
    # A ward's embed opens on that ward; otherwise on every ward, so no part of the city (its
    # far south) is cut off by a fixed centre and zoom.
    bounds = wards_bounds(filters.wards) if filters.wards else _city_bounds()
    if bounds is not None:
        south, west, north, east = bounds
        config["bounds"] = [[south, west], [north, east]]
    response = render(
        request,
        "opendata/embed.html",
        {
            "config": config,
            "filters": filters,
            "querystring": filters.querystring(),
            "legend": EMBED_LEGEND,
            "showing": _embed_scope(filters),
        },
        status=400 if filters.errors else 200,
    )
    response["Content-Security-Policy"] = "frame-ancestors *"
    return response
