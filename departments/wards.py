"""Point-in-ward lookup with shapely, cached per process.

The prepared geometries are built once per process and rebuilt when the wards change. A change in
this process clears the cache at once (Ward.save/delete); a change made by another process (an import,
the admin on another worker) is noticed through a cheap version query (count, newest update, largest
id) asked on every lookup (Ward.objects.index()), which also catches rows that vanished with a
rolled-back transaction. This module is geometry only: the ward rows come from departments.models.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

import shapely
from shapely.geometry import shape as to_shape
from shapely.prepared import prep


def shape_from_geojson(geojson: dict):
    """A shapely (Multi)Polygon from a GeoJSON geometry, or a Feature holding one."""
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson["geometry"]
    geom = to_shape(geojson)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"expected a Polygon or MultiPolygon, got {geom.geom_type}")
    return geom


class WardIndex:
    _lock = threading.Lock()
    _current: WardIndex | None = None

    def __init__(self, version: tuple, rows: Sequence[tuple[int, dict]]):
        self.version = version
        self.ids = [ward_id for ward_id, _ in rows]
        self.geoms = [shape_from_geojson(boundary) for _, boundary in rows]
        self.prepared = [prep(g) for g in self.geoms]
        self.tree = shapely.STRtree(self.geoms) if self.geoms else None

    @classmethod
    def current(
        cls, version: tuple, load_rows: Callable[[], Sequence[tuple[int, dict]]]
    ) -> WardIndex:
        """The index for the wards at `version`, built from `load_rows()` (id, boundary) when the
        cached one is older."""
        current = cls._current
        if current is not None and current.version == version:
            return current
        with cls._lock:
            cls._current = WardIndex(version, load_rows())
            return cls._current

    @classmethod
    def invalidate(cls) -> None:
        cls._current = None

    def ward_id_at(self, lat: float | None, lon: float | None) -> int | None:
        if lat is None or lon is None or self.tree is None:
            return None
        point = shapely.Point(float(lon), float(lat))
        for i in self.tree.query(point):
            if self.prepared[i].covers(point):
                return self.ids[i]
        return None

    def ward_ids_for(self, points: Iterable[tuple[float | None, float | None]]) -> list[int | None]:
        """Vectorised lookup: one STRtree query for all points instead of one per point."""
        pts = list(points)
        result: list[int | None] = [None] * len(pts)
        if self.tree is None or not pts:
            return result
        valid = [i for i, (lat, lon) in enumerate(pts) if lat is not None and lon is not None]
        if not valid:
            return result
        geoms = shapely.points([(float(pts[i][1]), float(pts[i][0])) for i in valid])
        point_idx, ward_idx = self.tree.query(geoms, predicate="covered_by")
        for p, w in zip(point_idx.tolist(), ward_idx.tolist(), strict=True):
            original = valid[p]
            # A point exactly on a shared edge belongs to both; keep the first (lowest number).
            if result[original] is None:
                result[original] = self.ids[w]
        return result
