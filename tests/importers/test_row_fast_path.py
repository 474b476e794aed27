"""The reader's one-pass row cleaning (records.clean_values, records.to_row) against the field-by-
field path it replaced: every row of the real files, and random dirty rows, give the same row or
the same refusal (no database needed)."""

import random

import pytest

from departments.importing.readers import Source
from issues.importers.formats import BOSTON, NYC, OPEN311, ColumnMapping
from issues.importers.records import (
    CLOSED_VALUES,
    ImportRow,
    RowError,
    clean_text,
    clean_values,
    map_status,
    parse_datetime,
    parse_point,
    parse_ward_number,
    parse_zip,
    to_row,
)
from issues.models import DESCRIPTION_MAX

# What real exports hold and what breaks cleaning: runs of spaces, every kind of whitespace and
# line break, NUL and the other controls, entities (double-escaped too), bidi overrides, lone
# surrogates (undecodable bytes), the joined pass's own separator.
PIECES = [
    "a", "Main St", "&amp;", "&amp;amp;", "&#39;", "&", "&lt;b&gt;", " ", "  ", "\t", "\n",
    "\r\n", "\x00", "\x1f", "\x1e", "\x0b", "\x85", "\xa0", "\u2003", "\u2028", "\u202e",
    "\ud800", "é", "02128", "2128.0", "41.88", "-87.63", "0", "Ward 21", "null",
    "2025-01-24 03:24:56", "03/24/2025 11:33:07 PM", "2012-05-23T15:55:28-04:00", "Closed",
    "Open", "http://x.example/p.jpg", "",
]  # fmt: skip


DATES = ["2025-01-24 03:24:56", " 03/24/2025 11:33:07 PM", "2012-05-23T15:55:28-04:00 ", ""]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))


def _random_record(rng: random.Random, mapping: ColumnMapping) -> dict:
    """A record with a random dirty value in each column the mapping reads (and one it does
    not), some columns missing; dates mostly readable, so that most rows get past them."""
    dates = {c for name in ("requested_at", "closed_at", "updated_at", "expected_at")
             for c in getattr(mapping, name)}  # fmt: skip
    raw = {}
    for column in [*mapping.read_columns, "unused"]:
        if rng.random() < 0.1:
            continue  # a column the record lacks (JSON)
        if column in dates and rng.random() < 0.9:
            raw[column] = rng.choice(DATES)
        else:
            raw[column] = _random_text(rng)
    return raw


def _field_by_field(line: int, raw: dict, mapping: ColumnMapping) -> ImportRow:
    """records.to_row as it was before the one-pass cleaning: each field's columns cleaned one
    by one, the first non-empty kept."""

    def first(columns):
        for column in columns:
            value = raw.get(column)
            if value is not None:
                text = clean_text(value)
                if text:
                    return text
        return ""

    m = mapping
    service_name = first(m.service_name)[:120]
    service_code = first(m.service_code)[:64]
    if not service_name and not service_code:
        raise RowError("no service type (empty type column)")
    requested_at = parse_datetime(first(m.requested_at), m)
    if requested_at is None:
        raise RowError("no request date")
    closed_at = parse_datetime(first(m.closed_at), m)
    updated_at = parse_datetime(first(m.updated_at), m)
    expected_at = parse_datetime(first(m.expected_at), m)
    status = map_status(first(m.status), m, closed_at)
    if status in CLOSED_VALUES and closed_at is None:
        closed_at = updated_at or requested_at
    if status not in CLOSED_VALUES:
        closed_at = None
    updated_at = max(t for t in (requested_at, updated_at, closed_at) if t is not None)
    latitude, longitude = parse_point(first(m.latitude), first(m.longitude))
    address = first(m.address)[:255]
    if latitude is None and not address:
        raise RowError("no coordinates and no address")
    description = " — ".join(t for t in (clean_text(raw.get(c)) for c in m.description) if t)
    media_url = first(m.media_url)
    return ImportRow(
        line=line,
        external_id=first(m.id)[:64],
        service_name=service_name or service_code,
        service_code=service_code,
        group=first(m.group)[:80],
        agency=first(m.agency)[:120],
        description=description[:DESCRIPTION_MAX],
        status=status,
        status_notes=first(m.status_notes)[:DESCRIPTION_MAX],
        address=address,
        zipcode=parse_zip(first(m.zipcode)),
        latitude=latitude,
        longitude=longitude,
        requested_at=requested_at,
        updated_at=updated_at,
        closed_at=closed_at,
        expected_at=expected_at,
        media_url=media_url[:500] if media_url.startswith(("http://", "https://")) else "",
        source_ward=parse_ward_number(first(m.ward)) if m.ward else None,
    )


def _outcome(convert, line: int, raw: dict, mapping: ColumnMapping):
    try:
        return convert(line, raw, mapping)
    except RowError as exc:
        return str(exc)


def test_clean_values_cleans_each_value_as_clean_text_does():
    rng = random.Random(19)
    for _ in range(20_000):
        values = [_random_text(rng) for _ in range(rng.randint(1, 8))]
        assert clean_values(values) == [clean_text(v) for v in values], values
    # JSON sources: None and numbers, beside strings.
    values = [None, 41.88, 7, "  a  b ", "&amp;"]
    assert clean_values(values) == [clean_text(v) for v in values]


@pytest.mark.parametrize(
    ("name", "mapping"),
    [
        ("boston311_sample.csv", BOSTON),
        ("nyc311_sample.csv", NYC),
        ("open311_requests_bloomington.json", OPEN311),
    ],
)
def test_every_row_of_the_real_files_is_read_as_before(data_dir, name, mapping):
    compared = 0
    for line, raw in Source(data_dir / name, mapping.reader):
        if isinstance(raw, dict):
            expected = _outcome(_field_by_field, line, raw, mapping)
            assert _outcome(to_row, line, raw, mapping) == expected, (name, line)
            compared += 1
    assert compared > 10  # the Open311 file holds 21 requests


@pytest.mark.parametrize("mapping", [BOSTON, NYC, OPEN311], ids=lambda m: m.name)
def test_random_dirty_rows_are_read_as_before(mapping):
    rng = random.Random(21)
    outcomes = set()
    for line in range(5_000):
        raw = _random_record(rng, mapping)
        expected = _outcome(_field_by_field, line, raw, mapping)
        assert _outcome(to_row, line, raw, mapping) == expected, raw
        outcomes.add(type(expected))
    assert outcomes == {ImportRow, str}  # both rows read and rows refused were compared
