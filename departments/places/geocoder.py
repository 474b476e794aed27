"""The geocoder: one interface, two backends chosen by settings.

- `Gazetteer` (the default) answers from CivicFix's own places (departments/places/search.py).
- `NominatimHTTP` asks a Nominatim-compatible server (`settings.GEOCODER_URL`: Nominatim itself,
  Pelias' Nominatim API, or another CivicFix, whose /places/search and /places/reverse answer in
  Nominatim's JSON), with a timeout, answers cached for GEOCODER_CACHE_SECONDS, and the gazetteer
  answering whenever the server is down, slow or talks nonsense, so a report is never lost to it.

Everything that turns words into a point (the search page, reports with only an address) calls
`geocoder()`, never a backend by name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from typing import Protocol
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from departments.models import PlaceKind, Ward
from departments.places import search as gazetteer
from departments.places.search import PlaceResult, check_point

log = logging.getLogger(__name__)


class Geocoder(Protocol):
    def search(self, text: str, *, limit: int = gazetteer.LIMIT) -> list[PlaceResult]: ...

    def reverse(self, latitude: float, longitude: float) -> PlaceResult | None: ...


class Gazetteer:
    """The city's own places."""

    def search(self, text: str, *, limit: int = gazetteer.LIMIT) -> list[PlaceResult]:
        return gazetteer.search(text, limit=limit)

    def reverse(self, latitude: float, longitude: float) -> PlaceResult | None:
        return gazetteer.reverse(latitude, longitude)


class GeocoderDown(Exception):
    """The server did not answer usefully (refused, timed out, an error status, not JSON)."""


class NominatimHTTP:
    """A Nominatim-compatible server, with the gazetteer to fall back on."""

    def __init__(self, url: str, *, timeout: float = 2.0, cache_seconds: int = 3600):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.fallback = Gazetteer()

    def _get(self, path: str, params: dict):
        url = f"{self.url}/{path}?{urlencode({**params, 'format': 'json'})}"
        key = "geocoder:" + hashlib.sha256(url.encode()).hexdigest()
        cached = cache.get(key)
        if cached is not None:
            return cached
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's setting)
            url, headers={"Accept": "application/json", "User-Agent": "CivicFix geocoder"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data = json.loads(response.read(2_000_000).decode("utf-8"))
        except (OSError, ValueError, urllib.error.URLError) as exc:
            # OSError covers refused connections and timeouts (socket.timeout is one).
            raise GeocoderDown(f"{self.url}: {exc}") from exc
        cache.set(key, data, self.cache_seconds)
        return data

    def search(self, text: str, *, limit: int = gazetteer.LIMIT) -> list[PlaceResult]:
        text = gazetteer.check_query(text)
        if not text:
            return []
        try:
            data = self._get("search", {"q": text, "limit": min(limit, gazetteer.LIMIT)})
            if not isinstance(data, list):
                raise GeocoderDown(f"{self.url}: search did not answer a list")
            results = [_from_nominatim(item) for item in data[:limit] if isinstance(item, dict)]
        except GeocoderDown as exc:
            log.warning("geocoder down, using the gazetteer: %s", exc)
            return self.fallback.search(text, limit=limit)
        return _with_wards([r for r in results if r is not None])

    def reverse(self, latitude: float, longitude: float) -> PlaceResult | None:
        lat, lon = check_point(latitude, longitude)
        try:
            data = self._get("reverse", {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})
            if not isinstance(data, dict):
                raise GeocoderDown(f"{self.url}: reverse did not answer an object")
        except GeocoderDown as exc:
            log.warning("geocoder down, using the gazetteer: %s", exc)
            return self.fallback.reverse(lat, lon)
        if "error" in data:
            return None
        found = _from_nominatim(data)
        return _with_wards([found])[0] if found else None


def _from_nominatim(item: dict) -> PlaceResult | None:
    try:
        lat, lon = check_point(item.get("lat"), item.get("lon"))
    except ValueError:
        return None
    kind = item.get("type") if item.get("type") in PlaceKind.values else PlaceKind.LANDMARK
    return PlaceResult(
        name=str(item.get("display_name") or "")[:255],
        latitude=lat,
        longitude=lon,
        kind=kind,
        score=float(item.get("importance") or 0),
    )


def _with_wards(results: list[PlaceResult]) -> list[PlaceResult]:
    """A server's answers placed in our wards (it knows nothing of them)."""
    ids = Ward.objects.ids_for_points((r.latitude, r.longitude) for r in results)
    wards = Ward.objects.defer("boundary").in_bulk([i for i in ids if i])
    placed = []
    for result, ward_id in zip(results, ids, strict=True):
        ward = wards.get(ward_id)
        placed.append(
            PlaceResult(
                **{
                    **result.__dict__,
                    "ward_number": ward.number if ward else None,
                    "ward_name": ward.name if ward else "",
                }
            )
        )
    return placed


def geocoder() -> Geocoder:
    """The configured backend."""
    url = getattr(settings, "GEOCODER_URL", "")
    if not url:
        return Gazetteer()
    return NominatimHTTP(
        url,
        timeout=getattr(settings, "GEOCODER_TIMEOUT", 2.0),
        cache_seconds=getattr(settings, "GEOCODER_CACHE_SECONDS", 3600),
    )
