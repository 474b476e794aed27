"""Column mappings: how each city's 311 export names the fields we import.

A mapping is data. Adding another city's CSV means writing one more `ColumnMapping` here (or a JSON
file with the same keys, passed as `import_311 FILE --mapping city.json`), not new code. Every
field names a column of the source (or a list of columns, first non-empty wins); `description`
joins all the columns it lists. See docs/import.md for a worked example.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

# Our statuses are open, acknowledged, in_progress, closed, archived (issues.models.Status).
COMMON_STATUS_MAP = {
    "open": "open",
    "opened": "open",
    "new": "open",
    "submitted": "open",
    "unspecified": "open",
    "acknowledged": "acknowledged",
    "assigned": "acknowledged",
    "pending": "acknowledged",
    "received": "acknowledged",
    "in progress": "in_progress",
    "in_progress": "in_progress",
    "started": "in_progress",
    "working": "in_progress",
    "closed": "closed",
    "close": "closed",
    "resolved": "closed",
    "completed": "closed",
    "done": "closed",
    "archived": "archived",
    "cancelled": "closed",
    "canceled": "closed",
}


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    # "csv" for a flat export, "open311-json" for a GeoReport v2 requests.json array.
    reader: str = "csv"
    # Stored as Issue.external_source: re-importing rows with the same source and id updates them.
    external_source: str = ""
    id: tuple[str, ...] = ()
    service_name: tuple[str, ...] = ()
    service_code: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    agency: tuple[str, ...] = ()
    description: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    status_notes: tuple[str, ...] = ()
    address: tuple[str, ...] = ()
    zipcode: tuple[str, ...] = ()
    latitude: tuple[str, ...] = ()
    longitude: tuple[str, ...] = ()
    requested_at: tuple[str, ...] = ()
    updated_at: tuple[str, ...] = ()
    closed_at: tuple[str, ...] = ()
    expected_at: tuple[str, ...] = ()
    media_url: tuple[str, ...] = ()
    ward: tuple[str, ...] = ()
    # strptime formats tried in order after ISO 8601; naive times are in `timezone`.
    date_formats: tuple[str, ...] = ()
    timezone: str = "UTC"
    status_map: dict[str, str] = field(default_factory=lambda: dict(COMMON_STATUS_MAP))

    @classmethod
    def from_dict(cls, data: dict) -> ColumnMapping:
        """A mapping read from JSON; single column names may be given as plain strings."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown mapping keys: {', '.join(sorted(unknown))}")
        values = {}
        for key, value in data.items():
            if key == "status_map":
                values[key] = {**COMMON_STATUS_MAP, **{k.lower(): v for k, v in value.items()}}
            elif key in ("name", "reader", "external_source", "timezone"):
                values[key] = str(value)
            else:
                values[key] = (value,) if isinstance(value, str) else tuple(value)
        if "name" not in values:
            raise ValueError("a mapping needs a name")
        return cls(**values)

    @property
    def source_label(self) -> str:
        return (self.external_source or self.name)[:64]


BOSTON = ColumnMapping(
    name="boston",
    external_source="boston311",
    id=("case_enquiry_id",),
    service_name=("type",),
    group=("reason",),
    # `department` holds codes (PWDx, BWSC); `subject` holds the department's name.
    agency=("subject", "department"),
    description=("case_title",),
    status=("case_status",),
    status_notes=("closure_reason",),
    address=("location", "location_street_name"),
    zipcode=("location_zipcode",),
    latitude=("latitude",),
    longitude=("longitude",),
    requested_at=("open_dt",),
    closed_at=("closed_dt",),
    expected_at=("sla_target_dt",),
    media_url=("submitted_photo",),
    ward=("ward",),
    date_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"),
    timezone="America/New_York",
)

NYC = ColumnMapping(
    name="nyc",
    external_source="nyc311",
    id=("Unique Key",),
    service_name=("Complaint Type",),
    agency=("Agency Name", "Agency"),
    description=("Descriptor", "Location Type"),
    status=("Status",),
    status_notes=("Resolution Description",),
    address=("Incident Address", "Intersection Street 1"),
    zipcode=("Incident Zip",),
    latitude=("Latitude",),
    longitude=("Longitude",),
    requested_at=("Created Date",),
    updated_at=("Resolution Action Updated Date",),
    closed_at=("Closed Date",),
    expected_at=("Due Date",),
    date_formats=("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"),
    timezone="America/New_York",
)

OPEN311 = ColumnMapping(
    name="open311",
    reader="open311-json",
    external_source="open311",
    id=("service_request_id", "token"),
    service_name=("service_name",),
    service_code=("service_code",),
    agency=("agency_responsible",),
    description=("description",),
    status=("status",),
    status_notes=("status_notes",),
    address=("address",),
    zipcode=("zipcode",),
    latitude=("lat",),
    longitude=("long",),
    requested_at=("requested_datetime",),
    updated_at=("updated_datetime",),
    expected_at=("expected_datetime",),
    media_url=("media_url",),
    timezone="UTC",
)

FORMATS: dict[str, ColumnMapping] = {m.name: m for m in (BOSTON, NYC, OPEN311)}


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a custom mapping from a JSON file (same keys as ColumnMapping)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read mapping {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"mapping {path} must be a JSON object")
    return ColumnMapping.from_dict(data)
