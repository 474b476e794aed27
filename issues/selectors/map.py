"""The map's viewport: the public issues in a box, one by one when zoomed in, clustered on a grid
in SQL when zoomed out, never more than MAP_FEATURE_CAP features whatever the data size."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import get_language

from departments import geo
from departments.geo import (
    MAP_FEATURE_CAP,
    STREET_ZOOM,
    BBox,
    cell_size,
    cluster_feature,
    rows_or_cells,
)
from departments.models import ServiceType
from departments.translations import default_language, translated
from issues.filters import IssueFilters
from issues.models import Issue, MapCell, Status

__all__ = ["MAP_FEATURE_CAP", "STREET_ZOOM", "BBox", "cell_size", "map_features"]


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
        self.names = _translated_type_names()
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
                "service_name": self.names.get(code, name),
                "service_code": code,
                "requested": requested_at.isoformat(),
                "address": address,
            },
        }


def _translated_type_names() -> dict[str, str]:
    """Type names in the active language where the city has translated them, by code: one small
    query, and none at all in the city's own language (the rows' names are the originals)."""
    if (get_language() or "").split("-")[0] == default_language():
        return {}
    rows = ServiceType.objects.exclude(translations={}).only("service_code", "name", "translations")
    return {row.service_code: translated(row, "name") for row in rows}


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


# Each cell's count per status, as grid_cells and _counted_cells both name them: a cluster's
# "statuses" (the mix the map draws as a ring).
STATUS_COUNTS = {f"n_{status.value}": Q(status=status.value) for status in Status}


def _statuses(cell: dict) -> dict[str, int]:
    # .get: cells cached for a minute by a version without these counts.
    return {name[2:]: cell.get(name, 0) for name in STATUS_COUNTS}


def _cluster_features(cells: list[dict], zoom: int) -> list[dict]:
    """Cells as GeoJSON. A cell holding a single issue comes back as that issue, read now from
    the public issues: the cells may be a minute old, and an issue hidden since then must not
    show its address."""
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
        features.append(cluster_feature(cell, zoom, statuses=_statuses(cell)))
    return features


def _counted(
    bbox: BBox, zoom: int, filters: IssueFilters
) -> tuple[bool, list[dict] | list[tuple]] | None:
    """The unfiltered map read from the counters kept in step with every write (MapCell,
    issues.dashboards.rollups), as rows_or_cells answers: zoomed out, the cells, busiest
    first; at a street zoom, the issues one by one unless the box's cells hold too many. The
    cost depends on the cells in the box, not on the issues. None where the counters cannot
    answer (filters, a zoom they do not keep, a set of zooms not built yet)."""
    if filters.active or zoom not in MapCell.ZOOMS:
        return None
    built = MapCell.objects.filter(zoom=MapCell.BUILT).values_list("cell_row", flat=True)
    if not any(zoom in MapCell.ZOOM_SETS[i] for i in built if i < len(MapCell.ZOOM_SETS)):
        return None
    counters = tuple(STATUS_COUNTS)
    if zoom < STREET_ZOOM:
        return True, geo.stored_cells(MapCell.objects.all(), bbox, zoom, *counters)
    return geo.stored_rows_or_cells(
        MapCell.objects.all(),
        bbox,
        zoom,
        located=lambda box: _located(filters, box),
        individual=_individual,
        counters=counters,
    )


def map_features(bbox: BBox, zoom: int, filters: IssueFilters) -> dict:
    """The public issues in a viewport as a GeoJSON FeatureCollection.

    Clusters (cluster=true, count) when zoomed out or crowded, issues one by one otherwise, as
    departments.geo.rows_or_cells decides; never more than MAP_FEATURE_CAP features. What a
    count of one shows (id, address) is read fresh from the public issues every time, so a
    hidden issue leaves the map at once.
    """
    counted = _counted(bbox, zoom, filters)
    if counted is not None:
        clustered, found = counted
    else:
        clustered, found = rows_or_cells(
            bbox,
            zoom,
            located=lambda box: _located(filters, box),
            individual=_individual,
            cache_key=("issues", sorted(filters.as_params().items())),
            # issue_lat_lon_status_cov holds the box and is_hidden: the count reads no rows.
            count_first=True,
            **STATUS_COUNTS,
        )
    if clustered:
        features = _cluster_features(found, zoom)
    else:
        # Newest first, like the list: (requested_at, id), descending.
        found.sort(key=lambda row: (row[6], row[0]), reverse=True)
        writer = _FeatureWriter()
        features = [writer.feature(row) for row in found]
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
