"""Names for the demo's pins: the nearest real intersection, so an address matches its pin.

A small demo-side helper over departments/data/chicago_intersections.csv (24,048 named Chicago
intersections; source in departments/data/SOURCES.md). The Places work builds a gazetteer from the
same file; when it lands, the demo can ask it instead and this module goes.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

INTERSECTIONS_FILE = Path(__file__).resolve().parent / "data/chicago_intersections.csv"
CELL_DEG = 0.005  # about 550 m north-south: a pin's nearest corner is in its cell or the next


def _title(street: str) -> str:
    """'N ASHLAND AVE' -> 'N Ashland Ave'; keeps '63RD' as '63rd'."""
    return " ".join(w if len(w) == 1 else w.capitalize() for w in street.split())


@lru_cache(maxsize=1)
def _index() -> dict[tuple[int, int], list[tuple[float, float, str]]]:
    cells: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
    with INTERSECTIONS_FILE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lat, lon = float(row["latitude"]), float(row["longitude"])
            name = f"{_title(row['street_1'])} & {_title(row['street_2'])}"
            cells[(math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG))].append((lat, lon, name))
    return dict(cells)


def nearest_intersection(lat: float, lon: float) -> tuple[str, float, float] | None:
    """(name, lat, lon) of the nearest intersection within about a kilometre, or None."""
    index = _index()
    r, c = math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)
    kx = math.cos(math.radians(lat))
    best, best_d = None, math.inf
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            for p_lat, p_lon, name in index.get((r + dr, c + dc), ()):
                d = (p_lat - lat) ** 2 + ((p_lon - lon) * kx) ** 2
                if d < best_d:
                    best, best_d = (name, p_lat, p_lon), d
    return best


def address_near(lat: float, lon: float) -> str:
    """'Near N Ashland Ave & W Addison St' for a pin; '' where no intersection is near."""
    found = nearest_intersection(lat, lon)
    return f"Near {found[0]}" if found else ""
