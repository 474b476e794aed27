"""Reads of the city's catalogue that pages, the workbench and the API share: service types for a
picker, response templates a department may use, wards and their outlines for maps, and where a
report goes in the city's own system."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Max, Min, Q, QuerySet
from shapely.geometry import mapping

from departments.models import (
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
    return ServiceType.objects.order_by("name").only("service_code", "name")


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


def service_type_with_attributes(service_code: str) -> ServiceType | None:
    """An active type by its code, with its questions, or None."""
    if not _usable(service_code):
        return None
    return (
        ServiceType.objects.active()
        .filter(service_code=service_code)
        .prefetch_related("attributes")
        .first()
    )


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


def wards_for_filter() -> QuerySet[Ward]:
    return Ward.objects.only("id", "number", "name").order_by("number")


def wards_bounds(numbers) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) around the wards with these numbers, or None for none."""
    box = Ward.objects.filter(number__in=list(numbers)).aggregate(
        s=Min("min_lat"), w=Min("min_lon"), n=Max("max_lat"), e=Max("max_lon")
    )
    return None if box["s"] is None else (box["s"], box["w"], box["n"], box["e"])


# --- outlines for maps ------------------------------------------------------------------------

_outline_cache: dict[tuple, dict] = {}


def _compact_geometry(boundary: dict, tolerance: float) -> dict:
    """Simplified (topology kept) and rounded to ~1 m: a fraction of the stored size."""
    geom = shape_from_geojson(boundary).simplify(tolerance, preserve_topology=True)
    return _round(mapping(geom))


def _round(geojson: dict) -> dict:
    def walk(coords):
        if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
            return [round(coords[0], 5), round(coords[1], 5)]
        return [walk(c) for c in coords]

    return {"type": geojson["type"], "coordinates": walk(geojson["coordinates"])}


def ward_outlines(tolerance: float = CITY_OUTLINE_TOLERANCE) -> tuple[str, dict]:
    """(version, GeoJSON FeatureCollection) of every ward's compact outline.

    Cached per process and keyed by the wards' version, so an edited boundary shows at once."""
    count, changed, top = Ward.objects.version()
    key = (count, changed, top, tolerance)
    cached = _outline_cache.get(key)
    if cached is None:
        features = [
            {
                "type": "Feature",
                "id": number,
                "properties": {"number": number, "name": name, "slug": slug},
                "geometry": _compact_geometry(boundary, tolerance),
            }
            for number, name, slug, boundary in Ward.objects.order_by("number").values_list(
                "number", "name", "slug", "boundary"
            )
        ]
        _outline_cache.clear()
        cached = _outline_cache[key] = {"type": "FeatureCollection", "features": features}
    version = f"{count}-{top}-{changed.timestamp() if changed else 0}"
    return version, cached


def ward_outline(ward: Ward, tolerance: float = WARD_OUTLINE_TOLERANCE) -> dict:
    """One ward's outline, simplified less than the city map's: the ward page draws it large."""
    return _compact_geometry(ward.boundary, tolerance)


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
