"""Finding places by what people type, and naming a point: the gazetteer's two reads.

Search parses the query (departments/places/normalize.py) and looks up street cores on indexed
columns: an intersection by its sorted pair of cores, an address by street and number (or, where
none was imported, by the address-grid plug-in between the street's known intersections), a
street or landmark by its name. A core found nowhere is corrected to the nearest known street
name: through the trigram index on PostgreSQL, by comparing against the street names in memory
elsewhere. What was typed beyond the cores (a direction, a street type) only ranks.

Reverse reads the indexed bounding box around the point, never the whole table.
"""

from __future__ import annotations

import difflib
import math
import threading
from dataclasses import dataclass

from django.db import connection
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from departments.geo import degrees_around, distance_m
from departments.models import Place, PlaceKind, Ward
from departments.places import normalize
from departments.places.grid import address_grid

LIMIT = 10
CANDIDATES = 200  # rows read for ranking, at most
ADDRESS_NEAR_M = 60  # a pin this close to an address point takes its address
INTERSECTION_NEAR_M = 400  # and this close to an intersection is "near" it
AT_PLACE_M = 15  # closer than this, the pin is at the intersection itself
SIMILARITY = 0.45


@dataclass(frozen=True)
class PlaceResult:
    """One answer: what to show, where it is, and its ward."""

    name: str
    latitude: float
    longitude: float
    kind: str
    place_id: int | None = None
    ward_number: int | None = None
    ward_name: str = ""
    score: float = 0.0
    distance_m: float | None = None


class QueryError(ValueError):
    """A query that cannot be searched; the message says why, for a person."""


def _result(row, score: float = 0.0) -> PlaceResult:
    """A row of `_base()` (named values, no model instance: ranking reads hundreds)."""
    return PlaceResult(
        name=row.name,
        latitude=row.latitude,
        longitude=row.longitude,
        kind=row.kind,
        place_id=row.id,
        ward_number=row.ward__number,
        ward_name=row.ward__name or "",
        score=score,
    )


def _sides(place) -> list[normalize.Street]:
    """The streets a place's name holds, parsed as a query would be."""
    return [normalize.street(part) for part in place.name.split(" & ")]


def _score(place, query: normalize.Query) -> float:
    """Higher is better: every direction and type typed that the place agrees with counts one;
    one it contradicts costs one; an exact core counts more than a prefix."""
    score = 0.0
    sides = _sides(place)
    for typed in query.streets:
        side = next((s for s in sides if s.core == typed.core), None)
        if side is None:
            side = next((s for s in sides if s.core.startswith(typed.core)), None)
            score -= 0.5  # only a prefix of it
            if side is None:
                continue
        for mine, theirs in ((typed.direction, side.direction), (typed.type, side.type)):
            if mine:
                score += 1.0 if mine == theirs else -1.0
    if place.kind == PlaceKind.LANDMARK:
        score += 0.25
    return score


def _ranked(places, query: normalize.Query, limit: int) -> list[PlaceResult]:
    scored = [(_score(place, query), place) for place in places]
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    return [_result(place, score) for score, place in scored[:limit]]


ROW_FIELDS = ("id", "name", "kind", "latitude", "longitude", "ward__number", "ward__name")


def _base():
    """Places as named rows of what a result shows: never a ward's boundary (kilobytes of
    GeoJSON), never a model instance."""
    return Place.objects.values_list(*ROW_FIELDS, named=True)


def ward_at(latitude: float, longitude: float) -> tuple[int, str] | None:
    """(number, name) of the ward a point lies in, or None: the cached point-in-ward index and
    one small row, never the boundary."""
    ward_id = Ward.objects.index().ward_id_at(latitude, longitude)
    if ward_id is None:
        return None
    return Ward.objects.filter(pk=ward_id).values_list("number", "name").first()


def _intersections(a: str, b: str):
    first, second = normalize.pair(a, b)
    return list(_base().filter(street_a=first, street_b=second)[:CANDIDATES])


def _intersections_by_prefix(whole: str, start: str):
    """As people type: the second street only begun ("ashland & add")."""
    found = _base().filter(
        Q(street_a=whole, street_b__startswith=start)
        | Q(street_b=whole, street_a__startswith=start)
    )
    return list(found.filter(kind=PlaceKind.INTERSECTION)[:CANDIDATES])


# --- correcting a misspelt street ---------------------------------------------------------------


class _StreetNames:
    """Every street core, for the fuzzy fallback without trigram indexes; rebuilt when the
    gazetteer changes (its newest update time and size)."""

    _lock = threading.Lock()
    version: tuple | None = None
    names: list[str] = []

    @classmethod
    def current(cls) -> list[str]:
        agg = Place.objects.aggregate(changed=Max("updated_at"), top=Max("id"))
        version = (agg["changed"], agg["top"])
        if version != cls.version:
            with cls._lock:
                a = Place.objects.order_by().values_list("street_a", flat=True).distinct()
                b = Place.objects.order_by().values_list("street_b", flat=True).distinct()
                cls.names = sorted({*a, *b} - {""})
                cls.version = version
        return cls.names


def _has_trigram() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def similar_streets(core: str, n: int = 3) -> list[str]:
    """Known street cores closest to a misspelt one, best first."""
    if not core or len(core) < 3:
        return []
    if _has_trigram():
        with connection.cursor() as cursor:
            # `%` uses the GIN trigram index; the threshold is pg_trgm's (0.3 by default).
            cursor.execute(
                "SELECT s, similarity(s, %s) AS sim FROM ("
                " SELECT street_a AS s FROM departments_place WHERE street_a %% %s"
                " UNION SELECT street_b FROM departments_place WHERE street_b %% %s"
                ") AS m ORDER BY sim DESC, s LIMIT %s",
                [core, core, core, n],
            )
            return [row[0] for row in cursor.fetchall() if row[1] >= SIMILARITY]
    return difflib.get_close_matches(core, _StreetNames.current(), n=n, cutoff=0.75)


# --- search ----------------------------------------------------------------------------------


def check_query(text: str) -> str:
    """The query stripped, or a QueryError when it is too long to be a place."""
    text = (text or "").strip()
    if len(text) > normalize.QUERY_MAX:
        raise QueryError(
            _("That is too long to be a place: at most %(max)d characters.")
            % {"max": normalize.QUERY_MAX}
        )
    return text


def search(text: str, *, limit: int = LIMIT) -> list[PlaceResult]:
    """Places matching what was typed, best first, at most `limit` (10). An empty or
    meaningless query finds nothing; one too long is a QueryError."""
    text = check_query(text)
    query = normalize.parse(text)
    limit = max(1, min(limit, LIMIT))
    if query.empty:
        return []
    if len(query.streets) == 2:
        return _search_intersection(query, limit)
    if query.number is not None:
        found = _search_address(query, limit)
        if found:
            return found
    return _search_name(query, limit)


def _search_intersection(query: normalize.Query, limit: int) -> list[PlaceResult]:
    one, two = (street.core for street in query.streets)
    places = _intersections(one, two)
    if not places:
        places = _intersections_by_prefix(one, two) or _intersections_by_prefix(two, one)
    if not places:
        ones = [one, *similar_streets(one)] if len(one) >= 3 else [one]
        twos = [two, *similar_streets(two)]
        for a in ones:
            for b in twos:
                if (a, b) != (one, two):
                    places += _intersections(a, b)
            if places:
                break
    return _ranked(places, query, limit)


def _search_address(query: normalize.Query, limit: int) -> list[PlaceResult]:
    typed = query.streets[0]
    cores = [typed.core]
    points = list(
        _base().filter(kind=PlaceKind.ADDRESS, street_a=typed.core, number=query.number)[
            :CANDIDATES
        ]
    )
    if not points and not Place.objects.on_street(typed.core).exists():
        cores = similar_streets(typed.core, n=1)
        if cores:
            points = list(
                _base().filter(kind=PlaceKind.ADDRESS, street_a=cores[0], number=query.number)[
                    :CANDIDATES
                ]
            )
    if points:
        return _ranked(points, query, limit)
    grid = address_grid()
    if grid is None or not cores:
        return []
    return _on_grid(grid, query.number, typed, cores[0], limit)


def _on_grid(grid, number: int, typed: normalize.Street, core: str, limit: int):
    """A house number placed by the city's grid between its street's known intersections, one
    answer per street of that name (N and S Ashland are two streets)."""
    streets: dict[str, list[Place]] = {}
    for place in _base().crossings(core)[:2000]:
        for side, text in zip(_sides(place), place.name.split(" & "), strict=False):
            if side.core == core and (not typed.direction or side.direction == typed.direction):
                streets.setdefault(text, []).append(place)
    results = []
    for text, places in streets.items():
        side = normalize.street(text)
        point = grid.position(number, side.direction, [(p.latitude, p.longitude) for p in places])
        if point is None:
            continue
        ward = ward_at(*point)
        score = 1.0 if typed.type and typed.type == side.type else 0.0
        results.append(
            PlaceResult(
                name=f"{number} {text}",
                latitude=round(point[0], 6),
                longitude=round(point[1], 6),
                kind=PlaceKind.ADDRESS,
                ward_number=ward[0] if ward else None,
                ward_name=ward[1] if ward else "",
                score=score,
            )
        )
    results.sort(key=lambda r: (-r.score, r.name))
    return results[:limit]


def _search_name(query: normalize.Query, limit: int) -> list[PlaceResult]:
    """One street or a landmark: landmarks by name first, then the street's crossings."""
    core = query.streets[0].core
    landmarks = list(
        # A range, not LIKE: SQLite's LIKE ignores case and so never uses an index.
        _base().filter(kind=PlaceKind.LANDMARK, street_a__gte=core, street_a__lt=core + "\uffff")[
            :CANDIDATES
        ]
    )
    crossings = list(_base().crossings(core)[:CANDIDATES])
    if not landmarks and not crossings:
        for other in similar_streets(core, n=1):
            crossings = list(_base().crossings(other)[:CANDIDATES])
    return (
        _ranked(landmarks, query, limit)
        + _ranked(crossings, query, limit - len(landmarks))[: max(0, limit - len(landmarks))]
    )


# --- reverse ---------------------------------------------------------------------------------


def check_point(latitude, longitude) -> tuple[float, float]:
    """Two numbers in range, or a QueryError saying what is wrong."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise QueryError(_("lat and lon must be numbers.")) from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise QueryError(_("lat and lon must be numbers."))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise QueryError(_("lat must be within -90..90 and lon within -180..180."))
    return lat, lon


def _nearest(lat: float, lon: float, metres: float, kind: str) -> PlaceResult | None:
    """The closest place of a kind within `metres`: the indexed box first, then exact
    distances over its few rows."""
    dlat, dlon = degrees_around(lat, metres)
    rows = (
        _base()
        .filter(kind=kind)
        .in_bbox(lat - dlat, lon - dlon, lat + dlat, lon + dlon)
        .order_by()[: CANDIDATES * 5]
    )
    best, best_distance = None, metres
    for row in rows:
        distance = distance_m(lat, lon, row.latitude, row.longitude)
        if distance <= best_distance:
            best, best_distance = row, distance
    if best is None:
        return None
    return PlaceResult(**{**_result(best).__dict__, "distance_m": round(best_distance, 1)})


def reverse(latitude: float, longitude: float) -> PlaceResult | None:
    """The name of a point: the address point under it ("1612 N Milwaukee Ave"), else the
    nearest intersection ("near N Ashland Ave & W Addison St"), else None."""
    lat, lon = check_point(latitude, longitude)
    found = _nearest(lat, lon, ADDRESS_NEAR_M, PlaceKind.ADDRESS)
    if found:
        return found
    found = _nearest(lat, lon, INTERSECTION_NEAR_M, PlaceKind.INTERSECTION)
    if found is None or found.distance_m <= AT_PLACE_M:
        return found
    # Translators: a point close to (not at) a street corner, e.g. "near N Ashland Ave & W Addison St".
    near = _("near %(place)s") % {"place": found.name}
    return PlaceResult(**{**found.__dict__, "name": near})
