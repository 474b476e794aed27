"""Reading an asset file: CSV (a point as latitude/longitude columns or as WKT), GeoJSON points,
or a GTFS stops.txt, each record to one `AssetRow` or a `Reject` saying why not.

Which column holds what is data (`AssetColumns`), with defaults that find the usual names
(Chicago's data portal `the_geom`/`SYSTEMSTOP`/`PUBLIC_NAM`, GTFS `stop_id`/`stop_lat`, plain
`id`/`name`/`latitude`); everything else in a record is kept as the asset's attributes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from departments.importing.readers import Source, SourceError, bad_encoding
from departments.importing.rejects import Reject

FORMATS = ("csv", "geojson", "gtfs")
ID_MAX, NAME_MAX, KIND_MAX = 64, 200, 64
# GTFS location_type: 0 (or empty) is a stop; the others are stations, entrances and nodes.
GTFS_STOP_TYPES = ("", "0")
WKT_POINT = re.compile(
    r"^\s*POINT\s*Z?\s*\(\s*(-?[\d.]+(?:[eE]-?\d+)?)\s+(-?[\d.]+(?:[eE]-?\d+)?)(?:\s+\S+)?\s*\)\s*$",
    re.IGNORECASE,
)


class AssetRowError(ValueError):
    """A record that cannot be an asset; the message goes to the rejects file."""


@dataclass(frozen=True)
class AssetColumns:
    """The source's names for each of our fields, first present wins. `kind` may instead be one
    value for every row (`fixed_kind`, e.g. "shelter")."""

    id: tuple[str, ...] = ("source_id", "asset_id", "id", "SYSTEMSTOP", "stop_id", "OBJECTID")
    name: tuple[str, ...] = ("name", "PUBLIC_NAM", "stop_name", "NAME", "title")
    kind: tuple[str, ...] = ("kind", "KIND", "asset_type", "type")
    latitude: tuple[str, ...] = ("latitude", "lat", "LATITUDE", "LAT", "stop_lat", "y", "Y")
    longitude: tuple[str, ...] = (
        "longitude",
        "lon",
        "long",
        "lng",
        "LONGITUDE",
        "LON",
        "stop_lon",
        "x",
        "X",
    )
    geometry: tuple[str, ...] = ("the_geom", "geometry", "wkt", "WKT", "location", "the_geom_4326")
    fixed_kind: str = ""

    def choose(self, header: list[str]) -> ChosenColumns:
        """The columns of this file that hold each field; a file with no id or no point
        column cannot be read at all."""
        present = set(header)

        def pick(names: tuple[str, ...]) -> str:
            return next((n for n in names if n in present), "")

        chosen = ChosenColumns(
            id=pick(self.id),
            name=pick(self.name),
            kind="" if self.fixed_kind else pick(self.kind),
            latitude=pick(self.latitude),
            longitude=pick(self.longitude),
            geometry=pick(self.geometry),
            fixed_kind=self.fixed_kind,
        )
        if not chosen.id:
            raise SourceError(f"no id column (looked for {', '.join(self.id)})")
        if not (chosen.latitude and chosen.longitude) and not chosen.geometry:
            raise SourceError(
                "no point: neither latitude/longitude columns nor a WKT geometry column "
                f"(looked for {', '.join(self.latitude)} / {', '.join(self.longitude)}, "
                f"or {', '.join(self.geometry)})"
            )
        return chosen

    def with_overrides(self, **names: str) -> AssetColumns:
        """The defaults with the columns a person named on the command line put first."""
        changes = {key: (value,) for key, value in names.items() if value and key != "fixed_kind"}
        if names.get("fixed_kind"):
            changes["fixed_kind"] = names["fixed_kind"]
        return replace(self, **changes)


@dataclass(frozen=True)
class ChosenColumns:
    id: str
    name: str
    kind: str
    latitude: str
    longitude: str
    geometry: str
    fixed_kind: str

    @cached_property
    def used(self) -> frozenset[str]:
        """The columns read into fields: every other one is kept as an attribute."""
        return frozenset(
            {self.id, self.name, self.kind, self.latitude, self.longitude, self.geometry} - {""}
        )


@dataclass(slots=True)
class AssetRow:
    line: int
    source_id: str
    name: str
    kind: str
    latitude: float
    longitude: float
    attributes: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)  # the record as read, for the rejects file
    ward_id: int | None = None


def clean(value) -> str:
    """One line of text: stripped, spaces squeezed, NUL (which PostgreSQL refuses) dropped."""
    if value is None:
        return ""
    return " ".join(str(value).replace("\x00", " ").split())


def _coordinate(text: str, what: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise AssetRowError(f"{what} “{clean(text)[:30]}” is not a number") from None
    if not math.isfinite(value):
        raise AssetRowError(f"{what} “{clean(text)[:30]}” is not a number")
    return value


def parse_point(raw: dict, columns: ChosenColumns) -> tuple[float, float]:
    """(latitude, longitude) in WGS84 degrees from the WKT column or the two columns."""
    wkt = clean(raw.get(columns.geometry)) if columns.geometry else ""
    if wkt:
        match = WKT_POINT.match(wkt)
        if match is None:
            raise AssetRowError(f"geometry “{wkt[:40]}” is not a WKT POINT")
        lon, lat = _coordinate(match[1], "longitude"), _coordinate(match[2], "latitude")
    else:
        lat_text = clean(raw.get(columns.latitude)) if columns.latitude else ""
        lon_text = clean(raw.get(columns.longitude)) if columns.longitude else ""
        if not lat_text or not lon_text:
            raise AssetRowError("no point (latitude and longitude are empty)")
        lat, lon = _coordinate(lat_text, "latitude"), _coordinate(lon_text, "longitude")
    if lat == 0 and lon == 0:
        raise AssetRowError("no point (0, 0 is a placeholder, not a place)")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AssetRowError(
            f"{lat}, {lon} is not a WGS84 latitude/longitude (re-project the file to EPSG:4326)"
        )
    return lat, lon


def to_asset_row(line: int, raw: dict, columns: ChosenColumns) -> AssetRow:
    # A GeoJSON feature without the id property may carry its own id ("@id").
    source_id = clean(raw.get(columns.id)) or clean(raw.get("@id"))
    if not source_id:
        raise AssetRowError(f"no id (column {columns.id} is empty)")
    if len(source_id) > ID_MAX:
        raise AssetRowError(f"the id is {len(source_id)} characters; at most {ID_MAX}")
    latitude, longitude = parse_point(raw, columns)
    kind = columns.fixed_kind or (clean(raw.get(columns.kind)) if columns.kind else "")
    attributes = {}
    used = columns.used
    for key, value in raw.items():
        if key in used or key.startswith("@") or value in (None, ""):
            continue
        attributes[clean(key)[:64]] = clean(value) if isinstance(value, str) else value
    return AssetRow(
        line=line,
        source_id=source_id,
        name=clean(raw.get(columns.name))[:NAME_MAX] if columns.name else "",
        kind=kind[:KIND_MAX],
        latitude=latitude,
        longitude=longitude,
        attributes=attributes,
        raw=raw,
    )


CSV_COLUMNS = AssetColumns()
GTFS_COLUMNS = AssetColumns(
    id=("stop_id",), name=("stop_name",), latitude=("stop_lat",), longitude=("stop_lon",)
)
# A feature's id property, else the feature's own id; the point is always its geometry.
GEOJSON_COLUMNS = AssetColumns(
    id=(*CSV_COLUMNS.id, "@id"), latitude=("@latitude",), longitude=("@longitude",), geometry=()
)
DEFAULT_COLUMNS = {"csv": CSV_COLUMNS, "gtfs": GTFS_COLUMNS, "geojson": GEOJSON_COLUMNS}


class AssetFile:
    """An opened asset file: iterate for (line, AssetRow | Reject); `done`/`total` feed the
    progress bar and `header` names the rejects file's columns."""

    def __init__(self, path: str | Path, *, fmt: str = "", **column_names: str):
        self.path = Path(path)
        self.format = fmt or guess_format(self.path)
        if self.format not in FORMATS:
            raise SourceError(f"unknown format “{self.format}” (csv, geojson or gtfs)")
        self.columns = DEFAULT_COLUMNS[self.format].with_overrides(**column_names)
        self.header: list[str] = []
        self.total = self.path.stat().st_size
        self._source: Source | None = None
        self._features: list | None = None
        self._index = 0

    @property
    def done(self) -> int:
        if self._features is not None:
            return self._index
        return self._source.done if self._source else 0

    def __iter__(self) -> Iterator[tuple[int, AssetRow | Reject]]:
        records = self._geojson() if self.format == "geojson" else self._csv()
        chosen = None
        for line, record in records:
            if isinstance(record, Reject):
                yield line, record
                continue
            if chosen is None:
                chosen = self.columns.choose(self.header)
            try:
                if self.format == "gtfs":
                    _check_gtfs_stop(record)
                yield line, to_asset_row(line, record, chosen)
            except AssetRowError as exc:
                yield line, Reject(line, str(exc), record)

    def _csv(self) -> Iterator[tuple[int, dict | Reject]]:
        self._source = Source(self.path, "csv")
        for line, record in self._source:
            self.header = self._source.header
            yield line, record

    def _geojson(self) -> Iterator[tuple[int, dict | Reject]]:
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8-sig", errors="surrogateescape"))
        except json.JSONDecodeError as exc:
            raise SourceError(f"not JSON: {exc}") from exc
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list):
            raise SourceError("expected a GeoJSON FeatureCollection")
        self._features, self.total = features, len(features)
        keys: dict[str, None] = dict.fromkeys(("@id", "@latitude", "@longitude"))
        for feature in features[:1000]:
            if isinstance(feature, dict) and isinstance(feature.get("properties"), dict):
                keys.update(dict.fromkeys(feature["properties"]))
        self.header = list(keys)
        for index, feature in enumerate(features, start=1):
            self._index = index
            yield index, _feature_record(index, feature)


def _feature_record(index: int, feature) -> dict | Reject:
    """A Point feature as a flat record: its properties, its id as "@id" (used when the
    properties name none) and its coordinates as "@latitude"/"@longitude"."""
    if not isinstance(feature, dict):
        return Reject(index, "not a GeoJSON feature", {"@id": str(feature)[:200]})
    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    record = {**properties, "@id": feature.get("id")}
    geometry = feature.get("geometry") or {}
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if isinstance(geometry, dict) and geometry.get("type") == "MultiPoint" and coordinates:
        coordinates = coordinates[0] if len(coordinates) == 1 else None
    elif not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        return Reject(index, f"not a point ({kind or 'no geometry'})", record)
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return Reject(index, "a point without two coordinates", record)
    record["@longitude"], record["@latitude"] = str(coordinates[0]), str(coordinates[1])
    if bad_encoding(v for v in record.values() if isinstance(v, str)):
        return Reject(index, "bad encoding (not UTF-8)", record)
    return record


def _check_gtfs_stop(record: dict) -> None:
    location_type = clean(record.get("location_type"))
    if location_type not in GTFS_STOP_TYPES:
        what = {"1": "a station", "2": "an entrance", "3": "a generic node", "4": "a boarding area"}
        raise AssetRowError(
            f"location_type {location_type} is {what.get(location_type, 'not a stop')}, not a stop"
        )


def guess_format(path: Path) -> str:
    """By name: *.geojson / *.json are GeoJSON, stops.txt is GTFS, anything else CSV."""
    name = path.name.lower()
    if name.endswith((".geojson", ".json")):
        return "geojson"
    if name == "stops.txt" or name.endswith("_stops.txt"):
        return "gtfs"
    return "csv"
