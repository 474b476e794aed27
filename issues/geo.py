"""Distances and the city's fixed grid, on plain latitude/longitude columns (no GeoDjango).

Everything that measures metres on the map uses these: the "Is this it?" check, Open311's radius
search, hotspot detection and the dashboards' heat grid, so they agree on what "within 150 m"
means and on which square a report falls in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Floor

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
METRES_PER_DEGREE_LAT = 111_320.0
# Heat-grid squares on the ward dashboards, fixed city-wide so squares line up across wards.
HEAT_CELL_M = 200


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


def heat_steps(cell_m: float = HEAT_CELL_M) -> tuple[float, float]:
    """Grid steps in degrees (latitude, longitude) for square cells of `cell_m` metres at the
    city's latitude: a fixed grid, so a cell is the same square on every page and every night."""
    lat_step = cell_m / METRES_PER_DEGREE_LAT
    lon_step = cell_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(settings.MAP_CENTER_LAT)))
    return lat_step, lon_step


def grid_counts(
    queryset: QuerySet, *, cell_m: float = HEAT_CELL_M, by_type: bool = False
) -> Iterable[tuple]:
    """(row, col[, service_type_id], count) per grid cell, aggregated in the database."""
    lat_step, lon_step = heat_steps(cell_m)
    keys = ["cell_row", "cell_col", *(["service_type_id"] if by_type else [])]
    return (
        queryset.filter(latitude__isnull=False)
        .order_by()
        .annotate(
            cell_row=Floor(F("latitude") / lat_step), cell_col=Floor(F("longitude") / lon_step)
        )
        .values(*keys)
        .annotate(n=Count("id"))
        .values_list(*keys, "n")
    )
