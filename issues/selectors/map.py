"""The map's viewport: the public issues in a box, one by one when zoomed in, clustered on a grid
in SQL when zoomed out, never more than MAP_FEATURE_CAP features whatever the data size."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Avg, Count, F, Min, QuerySet
from django.db.models.functions import Floor
from django.urls import reverse

from issues.filters import IssueFilters
from issues.models import Issue, Status

# Whatever the data size, one viewport response carries at most this many features.
MAP_FEATURE_CAP = 500
# From this zoom on (a few streets across) the map shows individual issues instead of clusters.
STREET_ZOOM = 16
# Cells per 256 px tile side: 4 gives clusters roughly 64 px apart on screen.
CELLS_PER_TILE = 4
CLUSTER_CACHE_SECONDS = 60


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def cell_size(zoom: int) -> float:
    """Grid cell edge in degrees for a zoom level: a quarter of a map tile."""
    return 360.0 / (2**zoom) / CELLS_PER_TILE


# A map feature's columns, read as plain tuples: the zoomed-in map shows up to MAP_FEATURE_CAP
# issues, and building two model instances for each was most of its time.
FEATURE_FIELDS = (
    "id",
    "public_id",
    "status",
    "latitude",
    "longitude",
    "address",
    "requested_at",
    "service_type__name",
    "service_type__service_code",
)


class _FeatureWriter:
    """What every issue feature of one response shares, worked out once: the status labels in
    the active language and the issue-page URL (one reverse() instead of one per feature)."""

    PLACEHOLDER = "PUBLICID0"

    def __init__(self):
        self.labels = {status.value: str(status.label) for status in Status}
        self.url_head, self.url_tail = reverse(
            "issues:detail", kwargs={"public_id": self.PLACEHOLDER}
        ).split(self.PLACEHOLDER)

    def feature(self, row: tuple) -> dict:
        _, public_id, status, latitude, longitude, address, requested_at, name, code = row
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
            "properties": {
                "id": public_id,
                "url": f"{self.url_head}{public_id}{self.url_tail}",
                "status": status,
                "status_label": self.labels[status],
                "service_name": name,
                "service_code": code,
                "requested": requested_at.isoformat(),
                "address": address,
            },
        }


def _located(filters: IssueFilters, bbox: BBox) -> QuerySet[Issue]:
    # The bbox is a range on latitude then longitude: the (latitude, longitude) index serves it.
    return filters.apply(Issue.objects.public()).in_bbox(
        bbox.south, bbox.west, bbox.north, bbox.east
    )


def _individual(queryset: QuerySet[Issue], limit: int) -> list[tuple]:
    """Up to `limit` issues as FEATURE_FIELDS tuples, in no particular order."""
    return list(
        # No ORDER BY: with one, PostgreSQL walks the requested_at index and filters by the box,
        # which slows as issues accumulate; without, it reads the box through the
        # (latitude, longitude) index. Any `limit` rows will do: more than the cap means clusters.
        queryset.order_by().values_list(*FEATURE_FIELDS)[:limit]
    )


def _cluster_cells(queryset: QuerySet[Issue], zoom: int) -> list[dict]:
    """One SQL GROUP BY over grid cells: count, mean position (always inside its issues'
    bounding box) and the lowest id, for at most MAP_FEATURE_CAP cells, busiest first."""
    size = cell_size(zoom)
    return list(
        queryset.order_by()  # the model's default ordering would join the GROUP BY
        .annotate(cx=Floor(F("longitude") / size), cy=Floor(F("latitude") / size))
        .values("cx", "cy")
        .annotate(n=Count("id"), lat=Avg("latitude"), lon=Avg("longitude"), first=Min("id"))
        .order_by("-n", "cy", "cx")[:MAP_FEATURE_CAP]
    )


def _cluster_features(cells: list[dict], zoom: int) -> list[dict]:
    """Cells as GeoJSON. A cell holding a single issue comes back as that issue, read now from
    the public issues: the cells may be a minute old, and an issue hidden since then must not
    show its address."""
    size = cell_size(zoom)
    single_ids = [c["first"] for c in cells if c["n"] == 1]
    singles = {
        row[0]: row
        for row in _individual(Issue.objects.public().filter(pk__in=single_ids), len(single_ids))
    }
    writer = _FeatureWriter()
    features = []
    for cell in cells:
        if cell["n"] == 1 and cell["first"] in singles:
            features.append(writer.feature(singles[cell["first"]]))
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [cell["lon"], cell["lat"]]},
                "properties": {
                    "cluster": True,
                    "count": cell["n"],
                    # The cell's extent, so a client can zoom to it on click.
                    "bbox": [
                        cell["cx"] * size,
                        cell["cy"] * size,
                        (cell["cx"] + 1) * size,
                        (cell["cy"] + 1) * size,
                    ],
                },
            }
        )
    return features


def _snap_to_cells(bbox: BBox, zoom: int) -> BBox:
    """Grow the box to whole grid cells, so a cell at the edge counts all its issues (counts do
    not change while panning) and nearby viewports share one cached answer."""
    size = cell_size(zoom)
    return BBox(
        west=max(-180.0, math.floor(bbox.west / size) * size),
        south=max(-90.0, math.floor(bbox.south / size) * size),
        east=min(180.0, math.ceil(bbox.east / size) * size),
        north=min(90.0, math.ceil(bbox.north / size) * size),
    )


def map_features(bbox: BBox, zoom: int, filters: IssueFilters) -> dict:
    """The public issues in a viewport as a GeoJSON FeatureCollection.

    Below STREET_ZOOM issues are aggregated in SQL into grid cells (cluster=true, count);
    from STREET_ZOOM on they come one by one, unless the box still holds more than the cap, in
    which case they are clustered on that zoom's finer grid. Never more than MAP_FEATURE_CAP
    features, so the response size does not grow with the data.

    Cluster counts are cached for CLUSTER_CACHE_SECONDS whatever is written: a zoomed-out view
    aggregates every issue in the city (linear in their number), is the same for everyone, and
    a minute's delay in a count is harmless. What a count of one shows (id, address) is read
    fresh from the public issues every time, so a hidden issue leaves the map at once.
    """
    clustered = zoom < STREET_ZOOM
    features: list[dict] = []
    if not clustered:
        rows = _individual(_located(filters, bbox), MAP_FEATURE_CAP + 1)
        if len(rows) <= MAP_FEATURE_CAP:
            # Newest first, like the list: (requested_at, id), descending.
            rows.sort(key=lambda row: (row[6], row[0]), reverse=True)
            writer = _FeatureWriter()
            features = [writer.feature(row) for row in rows]
        else:
            clustered = True
    if clustered:
        snapped = _snap_to_cells(bbox, zoom)
        key = (
            "map-cells:"
            + hashlib.sha256(
                repr((zoom, snapped, sorted(filters.as_params().items()), MAP_FEATURE_CAP)).encode()
            ).hexdigest()
        )
        cells = cache.get(key)
        if cells is None:
            cells = _cluster_cells(_located(filters, snapped), zoom)
            cache.set(key, cells, CLUSTER_CACHE_SECONDS)
        features = _cluster_features(cells, zoom)
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "zoom": zoom,
            "clustered": clustered,
            "count": sum(f["properties"].get("count", 1) for f in features),
            "cap": MAP_FEATURE_CAP,
        },
    }
