"""Reads of the city's catalogue that pages, the workbench and the API share: service types for a
picker, response templates a department may use, wards and their outlines for maps, where a report
goes in the city's own system, and asset layers: the assets nearest a point and a layer's map."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from django.db.models import F, FloatField, Max, Min, Q, QuerySet, Value
from django.db.models.functions import Power
from shapely.geometry import mapping

from departments import geo
from departments.geo import (
    BBox,
    cluster_feature,
    distance_m,
    rows_or_cells,
    within_radius,
)
from departments.models import (
    Asset,
    AssetCell,
    AssetLayer,
    Department,
    ResponseTemplate,
    ServiceType,
    ServiceTypeUpstream,
    UpstreamEndpoint,
    Ward,
)
from departments.wards import shape_from_geojson

# Simplified by about 20 m: the city map draws all 50 outlines at once, and at that zoom nobody
# sees the difference, while the file shrinks to a fraction of the stored boundaries.
CITY_OUTLINE_TOLERANCE = 0.0002
WARD_OUTLINE_TOLERANCE = 0.0001


def _usable(text: str) -> bool:
    # PostgreSQL refuses NUL in a query; no code contains one, so it simply matches nothing.
    return bool(text) and "\x00" not in text


def active_service_types() -> QuerySet[ServiceType]:
    """The types residents can report, in the order a list shows them, each knowing whether it
    has questions (Open311's `metadata`) without a query per type."""
    return ServiceType.objects.active().with_metadata_flag().order_by("group", "name")


def service_types_for_filter() -> QuerySet[ServiceType]:
    """Every type, retired ones too: old reports are still filtered by them."""
    # With its translations: lists show each type in the reader's language (no query per type).
    return ServiceType.objects.order_by("name").only("service_code", "name", "translations")


def service_type_by_code(service_code: str) -> ServiceType | None:
    """A type by its code, retired or not (a report to a retired one is told so), or None."""
    if not _usable(service_code):
        return None
    return ServiceType.objects.filter(service_code=service_code).first()


def service_types_grouped() -> list[tuple[str, list[ServiceType]]]:
    """Active service types grouped for a <select> with <optgroup>s, groups in name order."""
    groups: dict[str, list[ServiceType]] = {}
    for service_type in ServiceType.objects.active().order_by("group", "name"):
        groups.setdefault(service_type.group or "", []).append(service_type)
    return list(groups.items())


def _active_type(service_code: str) -> QuerySet[ServiceType]:
    if not _usable(service_code):
        return ServiceType.objects.none()
    return (
        ServiceType.objects.active().filter(service_code=service_code).select_related("asset_layer")
    )


def service_type_with_attributes(service_code: str) -> ServiceType | None:
    """An active type by its code, with its questions and its asset layer, or None."""
    return _active_type(service_code).prefetch_related("attributes").first()


def service_type_with_layer(service_code: str) -> ServiceType | None:
    """An active type by its code with its asset layer (no questions), or None."""
    return _active_type(service_code).first()


def response_templates_for(
    department_ids, *, status: str | None = None
) -> QuerySet[ResponseTemplate]:
    """Active templates a department may use: its own and the city-wide ones."""
    templates = ResponseTemplate.objects.filter(active=True).filter(
        Q(department__isnull=True) | Q(department_id__in=list(department_ids))
    )
    if status:
        templates = templates.filter(Q(status="") | Q(status=status))
    return templates.select_related("department").order_by("title")


def response_templates_valid_for(
    *, department_ids, service_type_ids, statuses=None
) -> QuerySet[ResponseTemplate]:
    """Active templates that fit every one of a set of issues (one issue's page, or a bulk
    action's selection): a department's template only when all are that department's, a type's
    template only when all are of that type, and (given `statuses`) a status's template only for
    those statuses. City-wide, type-less, status-less templates fit everything."""
    department_ids, service_type_ids = set(department_ids), set(service_type_ids)
    scope = Q(department__isnull=True)
    if len(department_ids) == 1:
        scope |= Q(department_id__in=department_ids)
    types = Q(service_type__isnull=True)
    if len(service_type_ids) == 1:
        types |= Q(service_type_id__in=service_type_ids)
    templates = ResponseTemplate.objects.filter(scope, types, active=True)
    if statuses is not None:
        templates = templates.filter(Q(status="") | Q(status__in=list(statuses)))
    return templates.select_related("department", "service_type").order_by("title")


def wards_for_filter() -> QuerySet[Ward]:
    return Ward.objects.only("id", "number", "name").order_by("number")


def wards_bounds(numbers) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) around the wards with these numbers, or None for none."""
    box = Ward.objects.filter(number__in=list(numbers)).aggregate(
        s=Min("min_lat"), w=Min("min_lon"), n=Max("max_lat"), e=Max("max_lon")
    )
    return None if box["s"] is None else (box["s"], box["w"], box["n"], box["e"])


# --- outlines for maps ------------------------------------------------------------------------

_ward_outline_cache: dict[tuple, dict] = {}
_outline_cache: dict[tuple, dict] = {}

# The home map's outlines at two levels of detail, (tolerance in degrees, decimals kept): "city"
# for the zoom the map opens at and below (one screen pixel is 0.0007 degrees at zoom 11 and
# 0.00034 at 12, so 0.0003 and ~10 m steps are below a pixel: 12 KB compressed for Chicago's 50
# wards), "street" once a person zooms in to streets (about 10 m, 1 m steps).
OUTLINE_DETAILS: dict[str, tuple[float, int]] = {"city": (0.0003, 4), "street": (0.0001, 5)}


def _compact_geometry(boundary: dict, tolerance: float, decimals: int = 5) -> dict:
    """Simplified (topology kept) and rounded (5 decimals: ~1 m): a fraction of the stored size."""
    geom = shape_from_geojson(boundary).simplify(tolerance, preserve_topology=True)
    return _round(mapping(geom), decimals)


def _round(geojson: dict, decimals: int = 5) -> dict:
    def walk(coords):
        if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
            return [round(coords[0], decimals), round(coords[1], decimals)]
        return [walk(c) for c in coords]

    return {"type": geojson["type"], "coordinates": walk(geojson["coordinates"])}


def _version_hash(version: tuple) -> str:
    count, changed, top = version
    stamp = f"{count}-{top}-{changed.timestamp() if changed else 0}"
    return hashlib.sha256(stamp.encode()).hexdigest()[:16]


def outlines_version() -> str:
    """A short hash that changes whenever any ward's boundary may have: the outlines' URLs carry
    it, so browsers may keep an outline file for a year. One small aggregate over the wards."""
    return _version_hash(Ward.objects.version())


def outlines_version_and_city_extent() -> tuple[str, tuple[float, float, float, float] | None]:
    """outlines_version() and the city's extent (west, south, east, north) over all wards, or
    None without wards: what the home map opens on. Still one small aggregate."""
    version, extent = Ward.objects.version_and_extent()
    return _version_hash(version), extent


def ward_outlines(tolerance: float = CITY_OUTLINE_TOLERANCE, decimals: int = 5) -> tuple[str, dict]:
    """(version, GeoJSON FeatureCollection) of every ward's compact outline.

    Cached per process and keyed by the wards' version, so an edited boundary shows at once. The
    version is outlines_version()'s."""
    version = Ward.objects.version()
    key = (*version, tolerance, decimals)
    cached = _outline_cache.get(key)
    if cached is None:
        features = [
            {
                "type": "Feature",
                "id": number,
                "properties": {"number": number, "name": name, "slug": slug},
                "geometry": _compact_geometry(boundary, tolerance, decimals),
            }
            for number, name, slug, boundary in Ward.objects.order_by("number").values_list(
                "number", "name", "slug", "boundary"
            )
        ]
        # One entry per level of detail: drop only the entries of an older version.
        for stale in [k for k in _outline_cache if k[:3] != key[:3]]:
            del _outline_cache[stale]
        cached = _outline_cache[key] = {"type": "FeatureCollection", "features": features}
    return _version_hash(version), cached


def ward_outline(ward: Ward, tolerance: float = WARD_OUTLINE_TOLERANCE) -> dict:
    """One ward's outline, simplified less than the city map's: the ward page draws it large.

    Cached per process, keyed by the ward's `updated_at` as ward_outlines is by the wards'
    version, so an edited boundary shows at once: simplifying it was ~0.5 ms of every cold
    ward page, the same each time. Callers read it, never change it."""
    key = (ward.pk, ward.updated_at, tolerance)
    cached = _ward_outline_cache.get(key)
    if cached is None:
        for stale in [k for k in _ward_outline_cache if k[0] == ward.pk]:
            del _ward_outline_cache[stale]
        cached = _ward_outline_cache[key] = _compact_geometry(ward.boundary, tolerance)
    return cached


@dataclass(frozen=True)
class UpstreamRoute:
    """Where a report of a type, worked by a department, goes in the city's system."""

    endpoint: UpstreamEndpoint
    service_code: str
    attribute_map: dict = field(default_factory=dict)


def upstream_route(*, service_type: ServiceType, department: Department) -> UpstreamRoute | None:
    """The type's own endpoint if it names one, else the department's; None when the type is
    kept local or nobody named an endpoint. A switched-off endpoint still gets its reports: they
    wait in the outbox until it is switched on. Two queries at most."""
    mapping_ = ServiceTypeUpstream.objects.filter(service_type=service_type).first()
    if mapping_ is not None and mapping_.never_send:
        return None
    endpoint_id = (mapping_ and mapping_.endpoint_id) or department.upstream_id
    if endpoint_id is None:
        return None
    endpoint = UpstreamEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return None
    return UpstreamRoute(
        endpoint=endpoint,
        service_code=(mapping_ and mapping_.service_code) or service_type.service_code,
        attribute_map=(mapping_ and mapping_.attribute_map) or {},
    )


# --- asset layers -----------------------------------------------------------------------------

NEAREST_COUNT = 5
# The nearest assets are looked for in growing boxes: most pins find five in the first.
NEAREST_RADII_M = (250, 1000, 4000)
# What a map point of an asset shows, read as plain tuples (up to MAP_FEATURE_CAP per answer).
ASSET_POINT_FIELDS = ("id", "source_id", "name", "kind", "latitude", "longitude", "adopter_count")


def asset_layers() -> QuerySet[AssetLayer]:
    return AssetLayer.objects.order_by("name")


def asset_layer(slug: str) -> AssetLayer | None:
    return AssetLayer.objects.filter(slug=slug).first() if _usable(slug) else None


def asset_in_layer(layer: AssetLayer, source_id: str) -> Asset | None:
    """One asset of a layer by its source id, with its ward, or None."""
    if not _usable(source_id):
        return None
    return (
        Asset.objects.filter(layer=layer, source_id=source_id)
        .select_related("layer", "ward")
        .defer("ward__boundary")
        .first()
    )


def nearest_assets(
    layer: AssetLayer, latitude: float, longitude: float, *, count: int = NEAREST_COUNT
) -> list[Asset]:
    """The layer's `count` assets nearest a point, nearest first, each with `distance_m`.

    Each try reads a box around the point through the (layer, latitude, longitude) index and
    lets the database sort the few rows in it by a flat-earth distance (exact enough to rank
    at city scale); only when the box holds fewer than `count` does a wider box follow."""
    scale = math.cos(math.radians(latitude))
    flat = Power(F("latitude") - Value(latitude, FloatField()), 2) + Power(
        (F("longitude") - Value(longitude, FloatField())) * Value(scale, FloatField()), 2
    )
    found: list[Asset] = []
    for radius in NEAREST_RADII_M:
        box = within_radius(Asset.objects.filter(layer=layer), latitude, longitude, radius)
        found = list(box.annotate(flat=flat).order_by("flat", "id")[:count])
        if len(found) >= count:
            break
    for asset in found:
        asset.distance_m = round(distance_m(latitude, longitude, asset.latitude, asset.longitude))
    return found


def _asset_point(layer: AssetLayer, row: tuple) -> dict:
    _pk, source_id, name, kind, latitude, longitude, adopters = row
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": {
            "id": source_id,
            "name": name,
            "kind": kind,
            "adopters": adopters,
            "available": layer.adoptable and adopters < layer.max_adopters,
        },
    }


def _counted_asset_cells(layer: AssetLayer, bbox: BBox, zoom: int) -> list[dict] | None:
    """A zoomed-out layer map's cells read from the counters kept in step with every write
    (AssetCell, departments.asset_cells), busiest first, as grid_cells gives them: the cost
    depends on the cells in the box, not on the assets. None where the counters cannot answer
    (a zoom they do not keep, a layer whose cells were never built)."""
    if zoom not in AssetCell.ZOOMS:
        return None
    if not AssetCell.objects.filter(layer=layer, zoom=AssetCell.BUILT).exists():
        return None
    return geo.stored_cells(AssetCell.objects.filter(layer=layer), bbox, zoom, "adopted")


def asset_map_features(layer: AssetLayer, bbox: BBox, zoom: int) -> dict:
    """A layer's assets in a viewport as a GeoJSON FeatureCollection: clustered like the
    issues' map when zoomed out (each cluster also counting its adopted assets), one by one
    from street zoom, never more than MAP_FEATURE_CAP features."""

    def located(box: BBox) -> QuerySet[Asset]:
        return Asset.objects.filter(layer=layer).in_bbox(box.south, box.west, box.north, box.east)

    def individual(queryset: QuerySet[Asset], limit: int) -> list[tuple]:
        return list(queryset.order_by().values_list(*ASSET_POINT_FIELDS)[:limit])

    counted = _counted_asset_cells(layer, bbox, zoom)
    if counted is not None:
        clustered, found = True, counted
    else:
        clustered, found = rows_or_cells(
            bbox,
            zoom,
            located=located,
            individual=individual,
            cache_key=("assets", layer.pk),
            adopted=Q(adopter_count__gt=0),
        )
    if not clustered:
        features = [_asset_point(layer, row) for row in sorted(found, key=lambda r: r[1])]
    else:
        single_ids = [cell["first"] for cell in found if cell["n"] == 1]
        singles = {row[0]: row for row in individual(Asset.objects.filter(pk__in=single_ids), 500)}
        features = [
            _asset_point(layer, singles[cell["first"]])
            if cell["n"] == 1 and cell["first"] in singles
            else cluster_feature(cell, zoom, adopted=cell["adopted"])
            for cell in found
        ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "layer": layer.slug,
            "zoom": zoom,
            "clustered": clustered,
            "count": sum(f["properties"].get("count", 1) for f in features),
        },
    }
