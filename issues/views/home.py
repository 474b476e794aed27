"""The map and the list: the home page and the viewport's GeoJSON. (The ward outlines drawn
under the map are the ward pages' own, issues.dashboards.views.outlines.)"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import cached_property
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from departments.selectors import (
    outlines_version_and_city_extent,
    service_types_grouped,
    wards_for_filter,
)
from issues import selectors
from issues.filters import IssueFilters, status_choices
from issues.forms import ViewportError, parse_map_view, parse_viewport
from issues.models import Status
from issues.plurals import plural_forms

LIST_PAGE_SIZE = 20
# The list counts at most this many issues ("more than 10,000"): an exact COUNT(*) over every
# public issue grows with the city's history (23 ms at 100k issues, ten times that at 1M).
LIST_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A paginator whose count stops at LIST_COUNT_CAP + 1, so the list costs the same at any
    size; beyond the cap, filters (or the CSV export) reach older issues."""

    @cached_property
    def count(self) -> int:
        # Unordered: any LIST_COUNT_CAP + 1 rows will do for counting, and ORDER BY would sort.
        return self.object_list.order_by()[: LIST_COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > LIST_COUNT_CAP


# The tiles' attribution as settings has it by default, which is then said in the reader's
# language (OpenStreetMap's own pages translate "contributors"); a city's own is shown as set.
OSM_ATTRIBUTION = (
    "&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors"
)


def tile_attribution() -> str:
    if settings.MAP_TILE_ATTRIBUTION != OSM_ATTRIBUTION:
        return settings.MAP_TILE_ATTRIBUTION
    return _('&copy; <a href="%(url)s">OpenStreetMap</a> contributors') % {
        "url": "https://www.openstreetmap.org/copyright"
    }


def map_config(request, **extra) -> dict:
    """What civicmap.js needs to draw the map: centre, tiles, feeds and its strings."""
    return {
        **_map_defaults(
            get_language(),
            get_script_prefix(),
            get_urlconf() or settings.ROOT_URLCONF,
            (
                settings.MAP_CENTER_LAT,
                settings.MAP_CENTER_LON,
                settings.MAP_DEFAULT_ZOOM,
                settings.MAP_TILE_URL,
                settings.MAP_TILE_ATTRIBUTION,
            ),
        ),
        **extra,
    }


@functools.cache
def _map_defaults(language: str | None, prefix: str, urlconf: str, map_settings: tuple) -> dict:
    """map_config's part that is the same on every page in a language: built once per process
    (and language, URL prefix, configuration and map settings, all part of the key). Its strings
    and three reversed URLs cost a cold issue page about a twentieth of its time on every
    render. Read only: map_config copies it, and a template only writes it out as JSON.
    `language` is get_language()'s, which the strings below are translated into."""
    return {
        "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": tile_attribution(),
        "viewportUrl": reverse("issues:viewport", urlconf=urlconf),
        "reportUrl": reverse("issues:report", urlconf=urlconf),
        "wardsUrl": reverse("issues:ward_outlines", urlconf=urlconf),
        "strings": {
            "tilesFailed": _(
                "Map pictures could not load. Issues and ward outlines are still shown."
            ),
            "loadFailed": _("Issues could not be loaded for this area. Try again in a moment."),
            # "3 issues" in each of the language's plural forms (issues/plurals.py).
            "issues": plural_forms("issues"),
            # Translators: one status's count in a group of issues on the map, e.g. "4 New".
            "statusCount": _("%(n)s %(status)s"),
            # Translators: a group of issues on the map, e.g. "6 issues: 4 New, 2 Closed".
            "clusterLabel": _("%(issues)s: %(statuses)s"),
            "listSeparator": pgettext("between the items of a list", ", "),
            "zoomIn": _("Zoom in to see them"),
            "pin": pgettext("the marker on the map", "Pin"),
            # Leaflet's own buttons, named in the language (static/js/civicmap.js).
            "zoomInButton": pgettext("a map's button", "Zoom in"),
            "zoomOutButton": pgettext("a map's button", "Zoom out"),
            "closePopup": pgettext("a map's button", "Close popup"),
            "view": _("View issue"),
            "reportHere": _("Report a problem here"),
            "statuses": {value: str(label) for value, label in Status.choices},
            "cluster": _("Group of issues: the ring shows their statuses, the number how many"),
        },
    }


def outline_urls() -> dict:
    """The home map's ward outlines at each level of detail, under the wards' current version
    (issues.dashboards.views.versioned_outlines), and the city's extent the map first fits:
    one small query."""
    version, extent = outlines_version_and_city_extent()
    return {
        "wardsUrl": reverse("issues:ward_outlines_at", args=[version, "city"]),
        "wardsStreetUrl": reverse("issues:ward_outlines_at", args=[version, "street"]),
        "cityBounds": list(extent) if extent else None,
    }


# ?fragment=list answers with the list alone: what the map's script swaps in as the map moves.
FRAGMENTS = {"list": "issues/_home_list.html"}


def home(request):
    """The map and, beside it, the same filtered issues as a paginated list. The map's view
    (lat, lon, zoom) and the box it shows (bbox) live in the query string: the list is then
    that box's issues, rendered here, so a shared link and a page without JavaScript agree."""
    filters = IssueFilters.from_params(request.GET)
    view = parse_map_view(request.GET)
    errors = {**filters.errors, **view.errors}
    fragment = request.GET.get("fragment") or ""
    if fragment and fragment not in FRAGMENTS:
        errors["fragment"] = _("fragment must be “list” (or left out for the whole page).")
    page = CappedPaginator(selectors.issue_list(filters), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "filters": filters,
        # The box is where the map looks, not a filter the person chose.
        "filters_chosen": bool(set(filters.as_params()) - {"bbox"}),
        "errors": errors,
        "page": page,
        "count_cap": LIST_COUNT_CAP,
        "map_state": {
            **view.as_params(),
            **{k: v for k, v in filters.as_params().items() if k == "bbox"},
        },
    }
    status = 400 if errors else 200
    if fragment in FRAGMENTS:
        context["fragment"] = fragment
        return render(request, FRAGMENTS[fragment], context, status=status)
    context.update(
        service_groups=service_types_grouped(),
        wards=wards_for_filter(),
        statuses=status_choices(),
        # The outlines under their version (one query), so the browser keeps them for a year.
        map_config=map_config(
            request,
            filters=filters.as_params(),
            view={"center": view.center, "zoom": view.zoom},
            listUrl=reverse("issues:home"),
            **outline_urls(),
        ),
    )
    return render(request, "issues/home.html", context, status=status)


@require_GET
def viewport(request):
    """GeoJSON for the visible box: clusters when zoomed out, issues when zoomed in."""
    try:
        bbox, zoom = parse_viewport(request.GET, settings.MAP_DEFAULT_ZOOM)
    except ViewportError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    # The box is the map's own (already read, and clamped); the shared filters must not read it
    # again as a "figure" bbox.
    params = request.GET.copy()
    params.pop("bbox", None)
    filters = IssueFilters.from_params(params)
    if filters.errors:
        return JsonResponse(
            {"error": " ".join(filters.errors.values()), "errors": filters.errors}, status=400
        )
    response = JsonResponse(
        selectors.map_features(bbox, zoom, filters), content_type="application/geo+json"
    )
    # Public data: short caching smooths panning back and forth; other sites may draw it.
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response
