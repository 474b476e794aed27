"""One raw record (a CSV row or a JSON object) to one `ImportRow`, or a `Reject` saying why not.

Real exports are dirty: HTML entities in addresses, wards written "Ward 21", "21" and "01",
coordinates that are empty, null or 0,0, zip codes that went through a spreadsheet ("2128.0"),
dates in three formats. Everything here is forgiving where the meaning is clear and refuses
(with a reason a person can act on) where it is not.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

from accounts.text import clean_text as shared_clean_text
from issues.importers.formats import ColumnMapping
from issues.models import DESCRIPTION_MAX, Status

# The five statuses, as strings: the hot loop compares strings, not enum members.
OPEN, CLOSED, ARCHIVED = Status.OPEN.value, Status.CLOSED.value, Status.ARCHIVED.value
CLOSED_VALUES = frozenset((CLOSED, ARCHIVED))
STATUS_VALUES = frozenset(Status.values)


class RowError(ValueError):
    """A row that cannot be imported; the message goes to the rejects file."""


@dataclass(slots=True)
class ImportRow:
    line: int
    external_id: str
    service_name: str
    service_code: str
    group: str
    agency: str
    description: str
    status: str
    status_notes: str
    address: str
    zipcode: str
    latitude: float | None
    longitude: float | None
    requested_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    expected_at: datetime | None
    media_url: str
    source_ward: int | None
    ward_id: int | None = None

    def __reduce__(self):
        # Pickled (from the reader process to its parent) as the constructor's arguments: the
        # default for a slotted dataclass names every field in every row, which cost each side
        # ~0.2 s more per 100,000 rows, the parent's share holding the GIL its writers need.
        return (ImportRow, _field_values(self))


_field_values = attrgetter(*(f.name for f in fields(ImportRow)))


def clean_text(value) -> str:
    """Strip, decode HTML entities (twice: '&amp;amp;' is common), drop control characters and
    squeeze runs of spaces."""
    if value is None or value == "":
        return ""  # most of an export's columns on most rows
    text = str(value)
    if "&" not in text and text.isprintable():
        # Most values: nothing to decode and no character but the ASCII space that the rule
        # below would change, so only runs of spaces to squeeze, and most have none (the
        # reader process cleans ~16 values a row; the general path cost it ~1 s per 100,000).
        if "  " in text or text.startswith(" ") or text.endswith(" "):
            return " ".join(text.split())
        return text
    if "&" in text:
        text = html.unescape(html.unescape(text))
    # Control characters out, by the site's one rule (accounts/text.py). PostgreSQL refuses NUL
    # in text: left in, it cost the whole batch a row-by-row retry and the row itself.
    return shared_clean_text(text.replace("\x00", " "), multiline=False)


def first(raw: dict, columns: tuple[str, ...]) -> str:
    for column in columns:
        value = raw.get(column)
        if value is not None:
            text = clean_text(value)
            if text:
                return text
    return ""


@lru_cache(maxsize=16)
def _zone(name: str):
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


def parse_datetime(text: str, mapping: ColumnMapping) -> datetime | None:
    """ISO 8601 (with or without offset) or one of the mapping's formats; naive times are local
    to the mapping's city. Empty means None; anything else unparseable raises RowError."""
    text = text.strip()
    if not text:
        return None
    value = None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in mapping.date_formats:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise RowError(f"unparseable date “{text[:40]}”")
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(mapping.timezone))
    if not 1990 <= value.year <= 2100:
        raise RowError(f"implausible date “{text[:40]}”")
    return value


def parse_coordinate(text: str) -> float | None:
    text = text.strip()
    if not text or text.lower() in ("null", "none", "nan", "n/a"):
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise RowError(f"coordinate “{text[:30]}” is not a number") from exc
    return value if value == value else None  # NaN


def parse_point(lat_text: str, lon_text: str) -> tuple[float | None, float | None]:
    """A usable (lat, lon), or (None, None) for missing, 0,0 and out-of-range placeholders."""
    lat, lon = parse_coordinate(lat_text), parse_coordinate(lon_text)
    if lat is None or lon is None:
        return None, None
    # 0,0 (or 0 on one axis) is how many systems write "no location": it is in the Gulf of Guinea.
    if lat == 0 or lon == 0:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


_WARD_RE = re.compile(r"(\d+)")


def parse_ward_number(text: str) -> int | None:
    """'Ward 21', '21', '01' and 'ward-7' all name a ward; '0', blanks and words do not."""
    match = _WARD_RE.search(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return number if 0 < number < 1000 else None


def parse_zip(text: str) -> str:
    """US zip codes that lost their leading zero in a spreadsheet ('2128.0' -> '02128')."""
    text = text.strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if text.isdigit() and 3 <= len(text) < 5:
        text = text.zfill(5)
    return text[:16]


def map_status(text: str, mapping: ColumnMapping, closed_at: datetime | None) -> str:
    """The source's status in our words; an unknown word falls back to what the dates say."""
    mapped = mapping.status_map.get(text.strip().lower())
    if mapped in STATUS_VALUES:
        return mapped
    return CLOSED if closed_at else OPEN


def to_row(line: int, raw: dict, mapping: ColumnMapping) -> ImportRow:
    """Raises RowError when the row cannot be imported."""
    m = mapping
    service_name = first(raw, m.service_name)[:120]
    service_code = first(raw, m.service_code)[:64]
    if not service_name and not service_code:
        raise RowError("no service type (empty type column)")
    requested_at = parse_datetime(first(raw, m.requested_at), m)
    if requested_at is None:
        raise RowError("no request date")
    closed_at = parse_datetime(first(raw, m.closed_at), m)
    updated_at = parse_datetime(first(raw, m.updated_at), m)
    expected_at = parse_datetime(first(raw, m.expected_at), m)
    status = map_status(first(raw, m.status), m, closed_at)
    if status in CLOSED_VALUES and closed_at is None:
        # Open311 has no closed time: the last update of a closed request is when it closed.
        closed_at = updated_at or requested_at
    if status not in CLOSED_VALUES:
        closed_at = None
    updated_at = max(t for t in (requested_at, updated_at, closed_at) if t is not None)
    latitude, longitude = parse_point(first(raw, m.latitude), first(raw, m.longitude))
    address = first(raw, m.address)[:255]
    if latitude is None and not address:
        raise RowError("no coordinates and no address")
    description = " — ".join(
        text for text in (clean_text(raw.get(c)) for c in m.description) if text
    )
    media_url = first(raw, m.media_url)
    return ImportRow(
        line=line,
        external_id=first(raw, m.id)[:64],
        service_name=service_name or service_code,
        service_code=service_code,
        group=first(raw, m.group)[:80],
        agency=first(raw, m.agency)[:120],
        description=description[:DESCRIPTION_MAX],
        status=status,
        status_notes=first(raw, m.status_notes)[:DESCRIPTION_MAX],
        address=address,
        zipcode=parse_zip(first(raw, m.zipcode)),
        latitude=latitude,
        longitude=longitude,
        requested_at=requested_at,
        updated_at=updated_at,
        closed_at=closed_at,
        expected_at=expected_at,
        media_url=media_url[:500] if media_url.startswith(("http://", "https://")) else "",
        source_ward=parse_ward_number(first(raw, m.ward)) if m.ward else None,
    )
