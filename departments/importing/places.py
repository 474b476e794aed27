"""Import the gazetteer (departments/places/) from a file: OpenAddresses address points, an
intersections CSV (two street names and a point), or any CSV described by a column mapping.

Built on the shared import parts, as the asset importer is: the readers, the rejects file with
each line's number and reason, the progress bar, and bulk writes (COPY on PostgreSQL).
Idempotent by the source's id and the kind of place: importing the same file twice changes
nothing; a row the file says something new about is updated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from departments.importing import bulk
from departments.importing.asset_rows import AssetRowError, ChosenColumns, clean, parse_point
from departments.importing.batches import BatchImporter
from departments.importing.readers import Source, SourceError
from departments.importing.rejects import Reject
from departments.models import Place, PlaceKind
from departments.places import normalize

FORMATS = ("openaddresses", "intersections", "csv")
ID_MAX, NAME_MAX, STREET_MAX = 64, 200, 100
SOURCE_FIELDS = (
    "name",
    "street_a",
    "street_b",
    "number",
    "unit",
    "postcode",
    "latitude",
    "longitude",
    "ward_id",
)
# Each format's columns; a --mapping overrides them (field=column).
MAPPINGS = {
    "openaddresses": {
        "id": "ID",
        "lat": "LAT",
        "lon": "LON",
        "number": "NUMBER",
        "street": "STREET",
        "unit": "UNIT",
        "postcode": "POSTCODE",
        "hash": "HASH",
    },
    "intersections": {
        "name": "intersection",
        "street_1": "street_1",
        "street_2": "street_2",
        "postcode": "zipcode",
        "lat": "latitude",
        "lon": "longitude",
    },
    "csv": {"id": "id", "name": "name", "lat": "latitude", "lon": "longitude", "kind": "kind"},
}
MAPPING_FIELDS = (
    "id",
    "name",
    "kind",
    "lat",
    "lon",
    "geometry",
    "number",
    "street",
    "street_1",
    "street_2",
    "unit",
    "postcode",
    "hash",
)


def parse_mapping(text: str) -> dict[str, str]:
    """ "id=OBJECTID,name=PARK_NAME,kind=landmark" to a dict; a `kind` that is one of the kinds
    is that kind for every row, anything else names a column."""
    mapping = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, column = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in MAPPING_FIELDS or not column.strip():
            raise SourceError(
                f"bad mapping “{part.strip()}”: write field=column, the fields being "
                + ", ".join(MAPPING_FIELDS)
            )
        mapping[key] = column.strip()
    return mapping


@dataclass(slots=True)
class PlaceRow:
    line: int
    kind: str
    source_id: str
    name: str
    street_a: str
    street_b: str
    number: int | None
    unit: str
    postcode: str
    latitude: float
    longitude: float
    raw: dict = field(default_factory=dict)
    ward_id: int | None = None


def _short_id(text: str) -> str:
    """A source id from what identifies the row; hashed when too long for the column."""
    return text if len(text) <= ID_MAX else hashlib.sha1(text.encode()).hexdigest()  # noqa: S324


class PlaceFile:
    """An opened place file: iterate for (line, PlaceRow | Reject)."""

    def __init__(self, path: str | Path, *, fmt: str = "csv", mapping: str = ""):
        if fmt not in FORMATS:
            raise SourceError(f"unknown format “{fmt}” ({', '.join(FORMATS)})")
        self.path = Path(path)
        self.format = fmt
        self.columns = {**MAPPINGS[fmt], **parse_mapping(mapping)}
        self.source = Source(self.path, "csv")
        self.total = self.source.total

    @property
    def header(self) -> list[str]:
        return self.source.header

    @property
    def done(self) -> int:
        return self.source.done

    def _check_header(self) -> None:
        present = set(self.header)
        needed = [self.columns.get("lat"), self.columns.get("lon")]
        if self.columns.get("geometry") in present:
            needed = []
        if self.format == "openaddresses":
            needed += [self.columns["number"], self.columns["street"]]
        elif self.format == "intersections":
            needed += [self.columns["street_1"], self.columns["street_2"]]
        else:
            needed += [self.columns.get("name") or self.columns.get("street")]
        missing = [name for name in needed if name not in present]
        if missing:
            raise SourceError(
                "missing column(s) " + ", ".join(str(m) for m in missing) + f" for {self.format}"
            )

    def __iter__(self) -> Iterator[tuple[int, PlaceRow | Reject]]:
        checked = False
        point_columns = ChosenColumns(
            id="",
            name="",
            kind="",
            latitude=self.columns.get("lat", ""),
            longitude=self.columns.get("lon", ""),
            geometry=self.columns.get("geometry", ""),
            fixed_kind="",
        )
        for line, record in self.source:
            if not checked:
                self._check_header()
                checked = True
            if isinstance(record, Reject):
                yield line, record
                continue
            try:
                yield line, self._row(line, record, point_columns)
            except AssetRowError as exc:
                yield line, Reject(line, str(exc), record)

    def _value(self, record: dict, key: str) -> str:
        column = self.columns.get(key)
        return clean(record.get(column)) if column else ""

    def _row(self, line: int, record: dict, point_columns: ChosenColumns) -> PlaceRow:
        latitude, longitude = parse_point(record, point_columns)
        postcode = self._value(record, "postcode")
        postcode = "" if postcode in ("0", "00000") else postcode[:16]
        number, unit, street_b = None, "", ""
        if self.format == "intersections" or (
            self.format == "csv" and self.columns.get("street_1")
        ):
            kind = PlaceKind.INTERSECTION
            one, two = self._value(record, "street_1"), self._value(record, "street_2")
            if not one or not two:
                raise AssetRowError("an intersection needs two street names")
            a, b = normalize.street(one).core, normalize.street(two).core
            if not a or not b:
                raise AssetRowError("a street name has no letters or digits")
            if one.upper() == two.upper():
                raise AssetRowError(f"a street meets itself (“{one}”)")
            street_a, street_b = normalize.pair(a, b)
            name = self._value(record, "name") or f"{one} & {two}"
            source_id = self._value(record, "id") or _short_id(name.upper())
            name = normalize.pretty(name)
        elif self.format == "openaddresses" or self.columns.get("number"):
            kind = PlaceKind.ADDRESS
            text, street_name = self._value(record, "number"), self._value(record, "street")
            if not text.isdigit():
                raise AssetRowError(f"house number “{text[:20]}” is not a whole number")
            if not street_name:
                raise AssetRowError("no street name")
            number, unit = int(text), self._value(record, "unit")[:32]
            street_a = normalize.street(street_name).core
            if not street_a:
                raise AssetRowError("the street name has no letters or digits")
            # The street's pretty form is cached: a city has thousands of addresses per street.
            name = f"{number} {normalize.pretty(street_name)}" + (f" #{unit}" if unit else "")
            source_id = (
                self._value(record, "id")
                or self._value(record, "hash")
                or _short_id(f"{number} {street_name} {unit}".upper())
            )
        else:
            name = self._value(record, "name") or self._value(record, "street")
            column_kind = self.columns.get("kind", "")
            kind = column_kind if column_kind in PlaceKind.values else ""
            kind = kind or clean(record.get(column_kind)).lower() or PlaceKind.LANDMARK
            if kind not in PlaceKind.values:
                raise AssetRowError(f"kind “{kind[:20]}” is not address, intersection or landmark")
            street_a = " ".join(normalize.words(name))
            if not street_a:
                raise AssetRowError("no name")
            source_id = self._value(record, "id") or _short_id(name.upper())
            name = normalize.pretty(name)
        if len(source_id) > ID_MAX:
            raise AssetRowError(f"the id is {len(source_id)} characters; at most {ID_MAX}")
        if number is not None and number > 2_000_000_000:
            raise AssetRowError("the house number is too large")
        return PlaceRow(
            line=line,
            kind=kind,
            source_id=source_id,
            name=name[:NAME_MAX],
            street_a=street_a[:STREET_MAX],
            street_b=street_b[:STREET_MAX],
            number=number,
            unit=unit,
            postcode=postcode,
            latitude=latitude,
            longitude=longitude,
            raw=record,
        )


class PlaceImporter(BatchImporter):
    label = "places"

    def key(self, row: PlaceRow) -> tuple[str, str]:
        return (row.kind, row.source_id)

    def write(self, rows: list[PlaceRow]) -> None:
        stored = {}
        for kind in {row.kind for row in rows}:
            ids = [row.source_id for row in rows if row.kind == kind]
            for values in Place.objects.filter(kind=kind, source_id__in=ids).values(
                "id", "kind", "source_id", *SOURCE_FIELDS
            ):
                stored[(values["kind"], values["source_id"])] = values
        now = timezone.now()
        new, changed = [], []
        for row in rows:
            values = {name: getattr(row, name) for name in SOURCE_FIELDS}
            found = stored.get((row.kind, row.source_id))
            if found is None:
                new.append(
                    {**values, "kind": row.kind, "source_id": row.source_id, "updated_at": now}
                )
            elif any(found[name] != values[name] for name in SOURCE_FIELDS):
                changed.append({"id": found["id"], **values, "updated_at": now})
        bulk.add_rows(Place, new)
        bulk.update_rows(Place, changed, [*SOURCE_FIELDS, "updated_at"])
        self.summary.created += len(new)
        self.summary.updated += len(changed)
        self.summary.unchanged += len(rows) - len(new) - len(changed)
        self.summary.in_no_ward += sum(1 for row in rows if row.ward_id is None)
