"""The open dataset: its fields (documented on /data/ from this same list), and CSV and GeoJSON
streamed in constant memory: on PostgreSQL formatted by the database and sent by COPY
(issues/opendata/pgcopy.py), elsewhere (the embedded SQLite) row by row in Python over a cursor.
Both make the same bytes.

Only public columns are ever selected: no reporter, no contact details, no internal notes, and the
rows come from selectors.public_issues(), which leaves hidden issues out.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import AnyStr

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues import selectors
from issues.filters import IssueFilters
from issues.models import OPEN_STATUSES
from issues.opendata import pgcopy

CHUNK_SIZE = 2000
# Rows are joined into pieces of about this many characters before they are handed to the
# server: one write per row meant one socket send per row, most of a large download's time.
WRITE_SIZE = 64 * 1024


@dataclass(frozen=True)
class Column:
    name: str
    source: str  # the Issue lookup read with .values_list()
    description: str
    kind: str = "text"  # text | free_text | number | datetime | status


COLUMNS = [
    Column("service_request_id", "public_id", _("The request's public id, as on its page.")),
    Column("status", "status", _("open, acknowledged, in_progress, closed or archived.")),
    Column("status_group", "status", _("open or closed (Open311 words)."), "status"),
    Column("service_code", "service_type__service_code", _("The service type's code.")),
    Column("service_name", "service_type__name", _("The service type.")),
    Column("agency_responsible", "department__name", _("The department working it.")),
    Column(
        "ward", "ward__number", _("Council ward number; empty when outside every ward."), "number"
    ),
    Column("description", "description", _("What the reporter wrote."), "free_text"),
    Column("status_notes", "status_notes", _("The city's latest public note."), "free_text"),
    Column("address", "address", _("Address as given."), "free_text"),
    Column("zipcode", "zipcode", _("ZIP code, when known.")),
    Column("latitude", "latitude", _("WGS84 latitude."), "number"),
    Column("longitude", "longitude", _("WGS84 longitude."), "number"),
    Column("requested_datetime", "requested_at", _("When it was reported."), "datetime"),
    Column("updated_datetime", "updated_at", _("Last public change."), "datetime"),
    Column("expected_datetime", "expected_at", _("When a response is due."), "datetime"),
    Column("closed_datetime", "closed_at", _("When it was closed."), "datetime"),
    Column("channel", "source", _("web, open311, import or staff.")),
    Column("votes", "vote_count", _("Residents who said “I have this too”."), "number"),
]
SOURCES = [c.source for c in COLUMNS]
# A cell starting with these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_queryset(filters: IssueFilters) -> QuerySet:
    # Oldest first: the order a downstream system appends in, and stable while new rows arrive.
    return filters.apply(selectors.public_issues()).order_by("requested_at", "id")


def _rows(filters: IssueFilters) -> Iterator[tuple]:
    return export_queryset(filters).values_list(*SOURCES).iterator(chunk_size=CHUNK_SIZE)


def _converters() -> list:
    """One function per column, chosen once per download rather than once per cell: a million
    rows times twenty cells makes the per-cell cost the export's cost."""
    tz = timezone.get_current_timezone()
    open_values = set(_open_values())

    def as_datetime(value):
        return value.astimezone(tz).isoformat(timespec="seconds") if value else None

    def as_status_group(value):
        return "open" if value in open_values else "closed"

    def as_is(value):
        return None if value == "" else value

    by_kind = {"datetime": as_datetime, "status": as_status_group}
    return [by_kind.get(c.kind, as_is) for c in COLUMNS]


def _records(filters: IssueFilters) -> Iterator[dict]:
    names = [c.name for c in COLUMNS]
    converters = _converters()
    for row in _rows(filters):
        yield dict(zip(names, [f(v) for f, v in zip(converters, row, strict=True)], strict=True))


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


def _cell(value, defuse: bool) -> str:
    if value is None:
        return ""
    if defuse and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def buffered(pieces: Iterable[AnyStr], size: int = WRITE_SIZE) -> Iterator[AnyStr]:
    """Join small pieces (text or bytes) into writes of about `size`; memory stays bounded."""
    batch: list[AnyStr] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield batch[0][:0].join(batch)
            batch, length = [], 0
    if batch:
        yield batch[0][:0].join(batch)


def _encoded(pieces: Iterable[str]) -> Iterator[bytes]:
    return (piece.encode() for piece in pieces)


def csv_lines(filters: IssueFilters) -> Iterator[bytes]:
    """The CSV download, in UTF-8 writes of about WRITE_SIZE: the live stream and the built file."""
    queryset = export_queryset(filters)
    if not pgcopy.usable(queryset):
        return csv_in_python(filters)
    header = _encoded(csv_table([c.name for c in COLUMNS], [], []))
    rows = pgcopy.csv_rows(queryset, COLUMNS, _open_values(), FORMULA_STARTS)
    return buffered(itertools.chain(header, rows))


def geojson_chunks(filters: IssueFilters) -> Iterator[bytes]:
    """The GeoJSON download, like csv_lines."""
    queryset = export_queryset(filters)
    if not pgcopy.usable(queryset):
        return geojson_in_python(filters)
    features = pgcopy.geojson_features(queryset, COLUMNS, _open_values(), _url_parts())
    return buffered(itertools.chain([_GEOJSON_START], features, [_GEOJSON_END]))


def csv_in_python(filters: IssueFilters) -> Iterator[bytes]:
    """The CSV made row by row in Python: the embedded SQLite's, and what the PostgreSQL path is
    tested against (tests/opendata/test_pgcopy.py) and measured against (bench/export_speed.py)."""
    return buffered(_encoded(_csv_lines(filters)))


def geojson_in_python(filters: IssueFilters) -> Iterator[bytes]:
    return buffered(_encoded(_geojson_pieces(filters)))


def _open_values() -> list[str]:
    return [s.value for s in OPEN_STATUSES]


_GEOJSON_START = b'{"type":"FeatureCollection","features":['
_GEOJSON_END = b"]}"


def _url_parts() -> tuple[str, str]:
    """An issue's absolute URL is prefix + public id + suffix: reverse() once, not per row."""
    detail = reverse("issues:detail", kwargs={"public_id": "ID"})
    at = detail.index("ID")
    return settings.SITE_URL + detail[:at], detail[at + 2 :]


def _csv_lines(filters: IssueFilters) -> Iterator[str]:
    free_text = [c.kind == "free_text" for c in COLUMNS]
    records = (record.values() for record in _records(filters))
    yield from csv_table([c.name for c in COLUMNS], records, free_text)


def csv_table(header: list[str], rows: Iterable[Iterable], free_text: list[bool]) -> Iterator[str]:
    """A CSV download, line by line: a BOM (so spreadsheet programs read it as UTF-8), the
    header, and each row, with what people wrote (`free_text` columns) defused of formulas."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(
            [_cell(value, defuse) for value, defuse in zip(row, free_text, strict=True)]
        )


def _geojson_pieces(filters: IssueFilters) -> Iterator[str]:
    yield _GEOJSON_START.decode()
    first = True
    prefix, suffix = _url_parts()
    for record in _records(filters):
        lat, lon = record["latitude"], record["longitude"]
        feature = {
            "type": "Feature",
            "id": record["service_request_id"],
            "geometry": None if lat is None else {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                **record,
                "url": prefix + record["service_request_id"] + suffix,
            },
        }
        yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
        first = False
    yield _GEOJSON_END.decode()
