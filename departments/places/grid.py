"""The address-grid plug-in: how a city's house numbers lie along its streets.

A city whose numbers follow a grid names a module in `settings.PLACES_ADDRESS_GRID` (Chicago's is
departments/places/chicago.py); a city without one leaves the setting empty and house numbers are
found only where address points were imported. The module provides

    position(number: int, direction: str, known: Sequence[tuple[float, float]])
        -> tuple[float, float] | None

placing `number` on one street given the (latitude, longitude) of that street's known
intersections, or None when the number is not on it. The search finds the intersections; the
plug-in only does the city's arithmetic, so it needs no database and is tested alone.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Sequence
from functools import cache
from types import ModuleType

from django.conf import settings


@cache
def _load(path: str) -> ModuleType | None:
    return importlib.import_module(path) if path else None


def address_grid() -> ModuleType | None:
    """The configured grid module, or None."""
    return _load(getattr(settings, "PLACES_ADDRESS_GRID", "") or "")


def interpolate(
    target: float, measured: Sequence[tuple[float, float, float]], *, reach: float
) -> tuple[float, float] | None:
    """The point at `target` along a street whose known points are (grid value, lat, lon):
    linear between the two that bracket it; None when it lies more than `reach` beyond both
    ends (past where the street is known to run)."""
    points = sorted(measured)
    if not points:
        return None
    if target < points[0][0] - reach or target > points[-1][0] + reach:
        return None
    if len(points) == 1 or target <= points[0][0]:
        return points[0][1], points[0][2]
    if target >= points[-1][0]:
        return points[-1][1], points[-1][2]
    for (v0, lat0, lon0), (v1, lat1, lon1) in itertools.pairwise(points):
        if v0 <= target <= v1:
            share = 0.0 if v1 == v0 else (target - v0) / (v1 - v0)
            return lat0 + (lat1 - lat0) * share, lon0 + (lon1 - lon0) * share
    return None
