"""Distances and the map's grid on plain latitude/longitude columns (no GeoDjango).

Everything with a point uses these: reports (the "Is this it?" check, Open311's radius search,
hotspots, the map's clusters) and the catalogue's assets (the nearest lights to a pin, an asset
layer's map, the assets API), so "within 150 m" and "a cluster of 40" mean the same for both.
They live in the catalogue because assets belong to it and departments sits below issues;
issues/geo.py adds the ward dashboards' fixed heat grid on top.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cos, Floor, Power, Radians, Sin

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
METRES_PER_DEGREE_LAT = 111_320.0
# Cells per 256 px tile side: 4 gives clusters roughly 64 px apart on screen.
CELLS_PER_TILE = 4
# Whatever the data size, one viewport response carries at most this many features.
MAP_FEATURE_CAP = 500
# From this zoom on (a few streets across) a map shows points one by one instead of clusters.
STREET_ZOOM = 16
# The zooms whose cells are stored (MapCell, AssetCell): from Leaflet's MIN_ZOOM to just below
# the street zoom, where points show one by one.
CLUSTER_ZOOMS = tuple(range(3, STREET_ZOOM))
# The street zooms whose cells the issues' map stores too (MapCell): downtown at a million issues
# a street-level box holds thousands at zoom 16 (4,800 in 1 km around City Hall) and about a
# thousand at 17, more than are shown one by one, so its clusters are read from the cells
# instead of grouping those issues. Not 18 and 19: at 1M they hold 380,000 and 710,000 cells
# (nearly a row per issue, written by every import) for boxes that hold a few hundred issues,
# whose count from the index stops at MAP_FEATURE_CAP + 1 (docs/scaling.md). Also the zooms
# below MIN_ZOOM, which the viewport API accepts: otherwise they group every issue.
STORED_STREET_ZOOMS = (STREET_ZOOM, STREET_ZOOM + 1)
STORED_WORLD_ZOOMS = tuple(range(CLUSTER_ZOOMS[0]))
CLUSTER_CACHE_SECONDS = 60


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): exact enough at city scale, and cheap."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def degrees_around(latitude: float, metres: float) -> tuple[float, float]:
    """(latitude, longitude) half-widths in degrees of a box reaching `metres` from a point at
    `latitude`: the indexed bounding box that narrows a radius search before the exact test."""
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    return metres / METRES_PER_DEGREE_LAT, min(metres / (METRES_PER_DEGREE_LAT * cos_lat), 180.0)


def bbox_around(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    """(west, south, east, north), rounded to about 10 cm: the `bbox` filter of a list link."""
    dlat, dlon = degrees_around(lat, metres)
    return (
        round(lon - dlon, 6),
        round(lat - dlat, 6),
        round(lon + dlon, 6),
        round(lat + dlat, 6),
    )


def within_radius(queryset: QuerySet, lat: float, lon: float, radius_m: float) -> QuerySet:
    """Rows (with latitude, longitude and an `in_bbox` queryset method) within `radius_m` metres
    of a point: a bounding box on the indexed columns first, then the exact great-circle test
    (haversine, compared without the arcsine)."""
    dlat, dlon = degrees_around(lat, radius_m)
    queryset = queryset.in_bbox(lat - dlat, lon - dlon, lat + dlat, lon + dlon)
    half_angle = min(radius_m / (2 * EARTH_RADIUS_M), math.pi / 2)
    limit = math.sin(half_angle) ** 2
    haversine = Power(Sin((Radians(F("latitude")) - math.radians(lat)) / 2), 2) + Value(
        math.cos(math.radians(lat)), output_field=FloatField()
    ) * Cos(Radians(F("latitude"))) * Power(
        Sin((Radians(F("longitude")) - math.radians(lon)) / 2), 2
    )
    return queryset.alias(haversine_a=haversine).filter(haversine_a__lte=limit)


# --- the map's grid ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def cell_size(zoom: int) -> float:
    """Grid cell edge in degrees for a zoom level: a quarter of a map tile."""
    return 360.0 / (2**zoom) / CELLS_PER_TILE


def cell_of(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """(cell_col, cell_row) of a point at a zoom: the same square as SQL's FLOOR(lon / size),
    FLOOR(lat / size) in cell_sums and grid_cells (one IEEE division either way)."""
    size = cell_size(zoom)
    return math.floor(lon / size), math.floor(lat / size)


def cell_sums(queryset: QuerySet, zoom: int, **counts: Q) -> QuerySet:
    """One SQL GROUP BY over the zoom's grid cells, as sums a write can add to and subtract
    from (the stored cells: MapCell, AssetCell): per cell cx, cy, n, lat, lon (sums of the
    coordinates), ids (sum of the ids: a cell of one row is that row), and one count per
    keyword in `counts` (e.g. adopted assets, issues in each status)."""
    extra = {name: Count("id", filter=condition) for name, condition in counts.items()}
    return _by_cell(queryset, zoom).annotate(
        n=Count("id"), lat=Sum("latitude"), lon=Sum("longitude"), ids=Sum("id"), **extra
    )


def _by_cell(queryset: QuerySet, zoom: int) -> QuerySet:
    size = cell_size(zoom)
    return (
        queryset.order_by()  # a model's default ordering would join the GROUP BY
        .annotate(cx=Floor(F("longitude") / size), cy=Floor(F("latitude") / size))
        .values("cx", "cy")
    )


def stored_cells(cells: QuerySet, bbox: BBox, zoom: int, *counters: str) -> list[dict]:
    """Stored cells (rows of cell_col, cell_row, n, lat_sum, lon_sum, id_sum and `counters`)
    of one zoom inside the box, busiest first, capped at MAP_FEATURE_CAP, as grid_cells gives
    them: the mean position, and `first` the id of a cell of one."""
    rows = _in_box(cells, bbox, zoom).values_list(*_STORED, *counters)[:MAP_FEATURE_CAP]
    return [_stored_cell(row, counters) for row in rows]


_STORED = ("cell_col", "cell_row", "n", "lat_sum", "lon_sum", "id_sum")


def _in_box(cells: QuerySet, bbox: BBox, zoom: int) -> QuerySet:
    size = cell_size(zoom)
    return cells.filter(
        zoom=zoom,
        n__gt=0,
        # The cells snap_to_cells would grow the box to.
        cell_col__gte=math.floor(bbox.west / size),
        cell_col__lt=math.ceil(bbox.east / size),
        cell_row__gte=math.floor(bbox.south / size),
        cell_row__lt=math.ceil(bbox.north / size),
    ).order_by("-n", "cell_row", "cell_col")


def _stored_cell(row: tuple, counters: tuple[str, ...]) -> dict:
    cx, cy, n, lat, lon, ids, *counts = row
    return {
        "cx": cx,
        "cy": cy,
        "n": n,
        "lat": lat / n,
        "lon": lon / n,
        "first": ids,
        **dict(zip(counters, counts, strict=True)),
    }


def stored_rows_or_cells(
    cells: QuerySet,
    bbox: BBox,
    zoom: int,
    *,
    located: Callable[[BBox], QuerySet],
    individual: Callable[[QuerySet, int], list],
    counters: tuple[str, ...],
) -> tuple[bool, list]:
    """What rows_or_cells answers at a street zoom (points one by one unless the box holds more
    than MAP_FEATURE_CAP, then that zoom's clusters), read from stored cells kept in step with
    every write, so a crowded box costs its cells, not its points.

    One query reads the box's cells (as stored_cells) with two sums: of every cell it touches
    (at least the points in the box) and of the cells wholly inside it (at most those; a cell
    whose column or row is past the box's first one holds no point west or south of the box,
    floor(lon / size) being monotonic in lon). At most MAP_FEATURE_CAP in the touched cells:
    the points are read (their count says, should the edges or a write meanwhile hold more);
    more than it wholly inside: the clusters; between the two, the capped count from the index
    decides, as in rows_or_cells (count_first)."""
    size = cell_size(zoom)
    whole = Q(
        cell_col__gt=math.floor(bbox.west / size),
        cell_col__lt=math.ceil(bbox.east / size) - 1,
        cell_row__gt=math.floor(bbox.south / size),
        cell_row__lt=math.ceil(bbox.north / size) - 1,
    )
    rows = list(
        _in_box(cells, bbox, zoom)
        # Window sums: over every cell of the box, before the LIMIT.
        .annotate(
            touched=Window(Sum("n")),
            inside=Window(Sum(Case(When(whole, then=F("n")), default=Value(0)))),
        )
        .values_list(*_STORED, *counters, "touched", "inside")[:MAP_FEATURE_CAP]
    )
    touched, within = (rows[0][-2], rows[0][-1]) if rows else (0, 0)
    found = [_stored_cell(row[:-2], counters) for row in rows]
    if within > MAP_FEATURE_CAP:
        return True, found
    if touched > MAP_FEATURE_CAP and _crowded(located(bbox)):
        return True, found
    points = individual(located(bbox), MAP_FEATURE_CAP + 1)
    if len(points) <= MAP_FEATURE_CAP:
        return False, points
    return True, found


def snap_to_cells(bbox: BBox, zoom: int) -> BBox:
    """Grow the box to whole grid cells, so a cell at the edge counts all its points (counts do
    not change while panning) and nearby viewports share one cached answer."""
    size = cell_size(zoom)
    return BBox(
        west=max(-180.0, math.floor(bbox.west / size) * size),
        south=max(-90.0, math.floor(bbox.south / size) * size),
        east=min(180.0, math.ceil(bbox.east / size) * size),
        north=min(90.0, math.ceil(bbox.north / size) * size),
    )


def grid_cells(queryset: QuerySet, zoom: int, *, cap: int, **counts: Q) -> list[dict]:
    """One SQL GROUP BY over grid cells: count, mean position (always inside its points'
    bounding box) and the lowest id, for at most `cap` cells, busiest first. Each keyword in
    `counts` adds a count of the cell's rows matching its condition (e.g. adopted assets)."""
    extra = {name: Count("id", filter=condition) for name, condition in counts.items()}
    return list(
        _by_cell(queryset, zoom)
        .annotate(
            n=Count("id"), lat=Avg("latitude"), lon=Avg("longitude"), first=Min("id"), **extra
        )
        .order_by("-n", "cy", "cx")[:cap]
    )


def _crowded(queryset: QuerySet) -> bool:
    # Unordered: any MAP_FEATURE_CAP + 1 will do, and ORDER BY would read them all to sort.
    return queryset.order_by()[: MAP_FEATURE_CAP + 1].count() > MAP_FEATURE_CAP


def cluster_feature(cell: dict, zoom: int, **properties) -> dict:
    """A grid cell as a GeoJSON cluster: its count and its extent, so a client can zoom to it."""
    size = cell_size(zoom)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [cell["lon"], cell["lat"]]},
        "properties": {
            "cluster": True,
            "count": cell["n"],
            "bbox": [
                cell["cx"] * size,
                cell["cy"] * size,
                (cell["cx"] + 1) * size,
                (cell["cy"] + 1) * size,
            ],
            **properties,
        },
    }


def rows_or_cells(
    bbox: BBox,
    zoom: int,
    *,
    located: Callable[[BBox], QuerySet],
    individual: Callable[[QuerySet, int], list],
    cache_key: object,
    count_first: bool = False,
    **counts: Q,
) -> tuple[bool, list]:
    """What a map shows for a viewport: (False, rows) one by one, or (True, grid cells).

    Below STREET_ZOOM the points in the box are aggregated into grid cells; from STREET_ZOOM on
    they come one by one (`individual(queryset, limit)`), unless the box still holds more than
    MAP_FEATURE_CAP, in which case they are clustered on that zoom's finer grid. So a response
    never grows with the data.

    Cells are cached for CLUSTER_CACHE_SECONDS under `cache_key` (what the points are: the
    filters, the layer) whatever is written: a zoomed-out view aggregates every point in the
    city (linear in their number), is the same for everyone, and a minute's delay in a count
    is harmless. Callers read what a cell of one shows fresh, so a hidden point leaves at once.

    `count_first`, for points whose box index covers the box's filter: count up to
    MAP_FEATURE_CAP + 1 of them from the index before reading their rows, so a crowded box (a
    busy downtown at a million issues) is clustered without first reading MAP_FEATURE_CAP + 1
    rows only to throw them away; one more, cheap, query where the box is not crowded.
    """
    if zoom >= STREET_ZOOM and (not count_first or not _crowded(located(bbox))):
        rows = individual(located(bbox), MAP_FEATURE_CAP + 1)
        if len(rows) <= MAP_FEATURE_CAP:
            return False, rows
    snapped = snap_to_cells(bbox, zoom)
    key = (
        "map-cells:"
        + hashlib.sha256(repr((cache_key, zoom, snapped, MAP_FEATURE_CAP)).encode()).hexdigest()
    )
    cells = cache.get(key)
    if cells is None:
        cells = grid_cells(located(snapped), zoom, cap=MAP_FEATURE_CAP, **counts)
        cache.set(key, cells, CLUSTER_CACHE_SECONDS)
    return True, cells
