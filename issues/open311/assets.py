"""The read-only assets extension, /open311/v2/assets.json: a city's asset layers (bus stops,
street lights) for apps built on them, like Raleigh's Adopt-A-Bus-Shelter.

`layer` (comma-separated slugs), `lat`/`long`/`radius` (nearest first), `page`/`page_size`.
Each asset says which service codes report against it (send its `asset_id` as the attribute
of that name when creating a request) and how many people look after it. Documented, from the
same names, in issues/open311/openapi.py and openapi_schemas.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from departments.geo import within_radius
from departments.models import Asset, AssetLayer, ServiceType
from issues.open311.errors import Open311Error
from issues.open311.query import _int, _param, _split, read_distance

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_RADIUS_M = 5000
FIELDS = (
    "id",
    "layer_id",
    "layer__slug",
    "layer__adoptable",
    "layer__max_adopters",
    "source_id",
    "name",
    "kind",
    "latitude",
    "longitude",
    "ward__number",
    "adopter_count",
    "attributes",
)


@dataclass
class AssetQuery:
    layers: list[AssetLayer] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    radius: float | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_params(cls, params) -> AssetQuery:
        q = cls()
        slugs = _split(_param(params, "layer"))
        if slugs:
            q.layers = list(AssetLayer.objects.filter(slug__in=slugs))
            missing = sorted(set(slugs) - {layer.slug for layer in q.layers})
            if missing:
                raise Open311Error(404, _("layer “%(l)s” was not found.") % {"l": missing[0][:60]})
        q.page = _int(params, "page", 1, 1, 1_000_000)
        q.page_size = _int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        q.lat, q.lon, q.radius = read_distance(params, MAX_RADIUS_M)
        return q


def _assets(query: AssetQuery) -> QuerySet[Asset]:
    assets = Asset.objects.all()
    if query.layers:
        assets = assets.filter(layer__in=query.layers)
    if query.radius is None:
        return assets.order_by("layer_id", "source_id", "id")
    # Nearest first: the haversine term the radius test computed is the distance's order.
    return within_radius(assets, query.lat, query.lon, query.radius).order_by("haversine_a", "id")


def asset_page(query: AssetQuery) -> tuple[list[dict], bool]:
    """One page of assets as plain values, and whether another page follows."""
    offset = (query.page - 1) * query.page_size
    rows = list(_assets(query).values(*FIELDS)[offset : offset + query.page_size + 1])
    return rows[: query.page_size], len(rows) > query.page_size


def serialize(rows: list[dict], request) -> list[dict]:
    """GeoReport-style dicts; attributes as code/value pairs, so XML stays well-formed whatever
    the source file called its columns."""
    codes: dict[int, list[str]] = {}
    layer_ids = {row["layer_id"] for row in rows}
    types = ServiceType.objects.active().filter(asset_layer_id__in=layer_ids)
    for layer_id, code in types.order_by("service_code").values_list(
        "asset_layer_id", "service_code"
    ):
        codes.setdefault(layer_id, []).append(code)
    head, tail = reverse("issues:asset", args=["LAYER0", "ASSET0"]).split("LAYER0/ASSET0")
    out = []
    for row in rows:
        adopters, allowed = row["adopter_count"], row["layer__max_adopters"]
        page = f"{head}{row['layer__slug']}/{row['source_id']}{tail}"
        out.append(
            {
                "asset_id": row["source_id"],
                "layer": row["layer__slug"],
                "name": row["name"] or None,
                "kind": row["kind"] or None,
                "lat": row["latitude"],
                "long": row["longitude"],
                "ward": row["ward__number"],
                "service_codes": codes.get(row["layer_id"], []),
                "adoptable": row["layer__adoptable"],
                "adopters": adopters,
                "available": row["layer__adoptable"] and adopters < allowed,
                "url": request.build_absolute_uri(page),
                "attributes": [
                    {"code": str(code), "value": str(value)}
                    for code, value in (row["attributes"] or {}).items()
                ],
            }
        )
    return out


# The OpenAPI description (issues/open311/openapi.py) of the answer and its arguments.
ASSET_SCHEMA = {
    "type": "object",
    "required": ["asset_id", "layer", "lat", "long", "service_codes", "adopters", "attributes"],
    "properties": {
        "asset_id": {"type": "string"},
        "layer": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "kind": {"type": ["string", "null"]},
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "ward": {"type": ["integer", "null"]},
        "service_codes": {"type": "array", "items": {"type": "string"}},
        "adoptable": {"type": "boolean"},
        "adopters": {"type": "integer", "minimum": 0},
        "available": {"type": "boolean"},
        "url": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "value"],
                "properties": {"code": {"type": "string"}, "value": {"type": "string"}},
            },
        },
    },
}
ASSET_ARGUMENTS = (
    ("layer", {"type": "string"}, "Comma-separated layer slugs; all layers when absent."),
    ("lat", {"type": "number", "minimum": -90, "maximum": 90}, "With long and radius."),
    ("long", {"type": "number", "minimum": -180, "maximum": 180}, "With lat and radius."),
    (
        "radius",
        {"type": "number", "minimum": 0, "maximum": MAX_RADIUS_M},
        "Metres around lat/long; the nearest assets come first.",
    ),
    ("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "1-based page."),
    (
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        f"Default {DEFAULT_PAGE_SIZE}.",
    ),
)
