"""Places: CivicFix's own gazetteer as a Nominatim-compatible API (/places/search,
/places/reverse), and the search results page the search box above the maps falls back to
without JavaScript.

The JSON endpoints always answer from the gazetteer (they are what another CivicFix's geocoder
calls, so they must not call a geocoder themselves); the results page uses the configured
geocoder (departments/places/geocoder.py), as reports with only an address do.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from departments.places import search as gazetteer
from departments.places.geocoder import geocoder
from departments.places.search import PlaceResult, QueryError

LICENCE = "Places from the city's open data"


def nominatim(result: PlaceResult) -> dict:
    """One result in Nominatim's JSON shape (format=json), with its ward added."""
    return {
        "place_id": result.place_id,
        "licence": LICENCE,
        "lat": f"{result.latitude:.6f}",
        "lon": f"{result.longitude:.6f}",
        "display_name": result.name,
        "class": "place",
        "type": result.kind,
        "importance": round(result.score, 3),
        "address": {"road": result.name, "city": settings.CITY_NAME},
        "ward": {"number": result.ward_number, "name": result.ward_name}
        if result.ward_number
        else None,
    }


def _limit(request) -> int:
    try:
        return max(1, min(int(request.GET.get("limit", gazetteer.LIMIT)), gazetteer.LIMIT))
    except ValueError:
        return gazetteer.LIMIT


@require_GET
def search_json(request):
    """/places/search?q=: up to 10 places, best first (Nominatim's /search)."""
    try:
        results = gazetteer.search(request.GET.get("q", ""), limit=_limit(request))
    except QueryError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse([nominatim(r) for r in results], safe=False)


@require_GET
def reverse_json(request):
    """/places/reverse?lat=&lon=: the point's name (Nominatim's /reverse), and the ward the
    point itself lies in, so the report form can warn of a pin outside the city at once."""
    try:
        lat, lon = gazetteer.check_point(request.GET.get("lat"), request.GET.get("lon"))
    except QueryError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    found = gazetteer.reverse(lat, lon)
    ward = gazetteer.ward_at(lat, lon)
    where = {"number": ward[0], "name": ward[1]} if ward else None
    if found is None:
        return JsonResponse({"error": "Unable to geocode", "ward": where, "in_city": bool(ward)})
    return JsonResponse({**nominatim(found), "ward": where, "in_city": bool(ward)})


@require_GET
def search_page(request):
    """The search box's results without JavaScript: each place, its ward, and links to see it
    on the map or report a problem there."""
    text = request.GET.get("q", "")
    error, results, status = "", [], 200
    try:
        results = geocoder().search(text)
    except QueryError as exc:
        error, status = str(exc), 400
    if not error and text.strip() and not results:
        error = _("No street, address or intersection matches “%(q)s”.") % {"q": text.strip()[:80]}
    rows = [
        {
            "result": r,
            "map_url": f"{reverse('issues:home')}#17/{r.latitude:.5f}/{r.longitude:.5f}",
            "report_url": reverse("issues:report")
            + "?"
            + urlencode(
                {
                    "latitude": f"{r.latitude:.6f}",
                    "longitude": f"{r.longitude:.6f}",
                    "address": r.name,
                }
            ),
        }
        for r in results
    ]
    return render(
        request,
        "issues/places.html",
        {"q": text[:200], "rows": rows, "error": error},
        status=status,
    )
