"""Distances and the city's fixed grid, on plain latitude/longitude columns (no GeoDjango).

Everything that measures metres on the map uses these: the "Is this it?" check, Open311's radius
search, hotspot detection and the dashboards' heat grid, so they agree on what "within 150 m"
means and on which square a report falls in. The distances themselves are departments/geo.py's
(the catalogue's assets measure with them too), named here for the issues' code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Floor

from departments.geo import METRES_PER_DEGREE_LAT, bbox_around, degrees_around, distance_m

__all__ = [
    "HEAT_CELL_M",
    "METRES_PER_DEGREE_LAT",
    "bbox_around",
    "degrees_around",
    "distance_m",
    "grid_counts",
    "heat_steps",
]

# Heat-grid squares on the ward dashboards, fixed city-wide so squares line up across wards.
HEAT_CELL_M = 200


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
