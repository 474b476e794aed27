"""On PostgreSQL the downloads are formatted by the database and sent by COPY (issues/opendata/
pgcopy.py): byte for byte what the Python path (the embedded SQLite's) makes, for rows chosen to
differ if anything differs. Skipped, saying why, on SQLite (which has only the Python path)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone

from issues.filters import IssueFilters
from issues.models import Issue, Status
from issues.opendata import exports
from tests.factories import CITY_HALL, make_department, make_issue, make_service_type

pytestmark = pytest.mark.django_db

AWKWARD_TEXT = [
    'He said "fix it", then left',
    "two\nlines",
    "carriage\rreturn and\r\nboth",
    "ends with a newline\n",
    '"',
    '""',
    ",",
    '=HYPERLINK("http://evil.example","click")',
    "+1 312 555 0100",
    "-5 degrees",
    "@SUM(A1)",
    "\tindented",
    "\rreturned",
    "'already quoted",
    " leading space",
    "\\.",
    "back\\slash \\n not a newline \\\\ two",
    "Пожалуйста, почините — 修理してください — أصلحوا الحفرة 🕳️ e\u0301",
    "control \x01\x1f\x7f and \u2028 separators",
    "",
]

# (UTC instant, what it is in Chicago): both sides of 2026's two DST changes, and a fraction of a
# second (isoformat(timespec="seconds") and to_char both cut it off, neither rounds).
INSTANTS = [
    datetime(2026, 3, 8, 7, 59, 59, tzinfo=UTC),  # 01:59:59-06:00
    datetime(2026, 3, 8, 8, 0, 0, tzinfo=UTC),  # 03:00:00-05:00
    datetime(2026, 11, 1, 6, 30, 0, tzinfo=UTC),  # 01:30:00-05:00
    datetime(2026, 11, 1, 7, 30, 0, tzinfo=UTC),  # 01:30:00-06:00 (the same wall time again)
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
]

# Python prints 42.0 where PostgreSQL prints 42; many decimals; an exponent both write alike.
POINTS = [
    (42.0, -88.0),
    (41.123456789012345, -87.98765432109876),
    (0.00001, -0.0001234),
    (-0.0, 0.1 + 0.2),
    (41.88365, -87.63201),
    None,
]


@pytest.fixture
def awkward(wards):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's; SQLite has only the Python path")
    # Not free text: names and codes are never defused, in either path.
    department = make_department('Streets, "Sanitation" & Co')
    kinds = [
        make_service_type(department, code="=cmd", name='-Graffiti, "tags"\n2'),
        make_service_type(department, code="plain", name="Pothole"),
    ]
    statuses = [Status.OPEN, Status.IN_PROGRESS, Status.CLOSED, Status.ARCHIVED]
    issues = []
    for i, text in enumerate(AWKWARD_TEXT):
        point = POINTS[i % len(POINTS)]
        issue = make_issue(kinds[i % 2], point=point or CITY_HALL, description="x")
        instant = INSTANTS[i % len(INSTANTS)]
        Issue.objects.filter(pk=issue.pk).update(
            description=text,
            status_notes=AWKWARD_TEXT[-1 - i],
            address=text[:255],
            zipcode=["", "60602", "=1", "+2"][i % 4],
            status=statuses[i % len(statuses)],
            requested_at=INSTANTS[i % len(INSTANTS)],
            updated_at=INSTANTS[(i + 1) % len(INSTANTS)],
            expected_at=None if i % 3 == 0 else instant,
            closed_at=instant if i % 2 else None,
            vote_count=i,
            # A point kept where no ward is, and an issue with no point at all.
            ward=None if i % 5 == 0 else wards[i % 2],
            latitude=point and point[0],
            longitude=point and point[1],
        )
        issues.append(issue)
    return issues


def _joined(chunks) -> bytes:
    return b"".join(chunks)


def _same(copied: bytes, python: bytes) -> None:
    at = next((i for i, (a, b) in enumerate(zip(copied, python, strict=False)) if a != b), None)
    if at is None:
        assert len(copied) == len(python)
        return
    assert copied[at - 120 : at + 60] == python[at - 120 : at + 60]


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Kolkata", "America/St_Johns", "UTC"])
def test_copy_makes_the_python_paths_bytes(awkward, zone):
    filters = IssueFilters.from_params({})
    with timezone.override(zone):
        _same(_joined(exports.csv_lines(filters)), _joined(exports.csv_in_python(filters)))
        _same(_joined(exports.geojson_chunks(filters)), _joined(exports.geojson_in_python(filters)))


def test_the_downloads_serve_the_copy_path_and_read_back(client, awkward):
    filters = IssueFilters.from_params({})
    response = client.get("/data/issues.csv")
    assert response.status_code == 200
    body = _joined(response.streaming_content)
    assert body == _joined(exports.csv_in_python(filters))
    assert body.startswith(b"\xef\xbb\xbfservice_request_id,")
    text = body.decode().removeprefix("\ufeff")
    rows = {r["service_request_id"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    by_issue = [rows[issue.public_id] for issue in awkward]
    assert [r["description"] for r in by_issue] == [
        "'" + t if t.startswith(exports.FORMULA_STARTS) else t for t in AWKWARD_TEXT
    ]
    assert by_issue[0]["requested_datetime"] == "2026-03-08T01:59:59-06:00"
    assert by_issue[1]["requested_datetime"] == "2026-03-08T03:00:00-05:00"
    assert by_issue[0]["latitude"] == "42.0" and by_issue[0]["ward"] == ""
    geojson = client.get("/data/issues.geojson")
    features = {f["id"]: f for f in json.loads(_joined(geojson.streaming_content))["features"]}
    by_issue = [features[issue.public_id] for issue in awkward]
    assert [f["properties"]["description"] or "" for f in by_issue] == AWKWARD_TEXT
    assert by_issue[5]["geometry"] is None and by_issue[0]["geometry"]["coordinates"] == [
        -88.0,
        42.0,
    ]


def test_filters_narrow_the_copy_as_they_narrow_the_python_path(awkward):
    for params in ({"ward": "42"}, {"status": "closed"}, {"type": "=cmd"}, {"start": "2026-06-01"}):
        filters = IssueFilters.from_params(params)
        copied = _joined(exports.csv_lines(filters))
        assert copied == _joined(exports.csv_in_python(filters))
        assert copied.count(b"\r\n") > 1, params  # not only the header


def test_the_copy_leaves_no_setting_behind_in_a_callers_transaction(awkward):
    # The time zone is set for the COPY alone: left on the connection, Django would read every
    # later timestamp of the caller's transaction as UTC, hours off.
    with transaction.atomic():
        assert _joined(exports.csv_lines(IssueFilters.from_params({})))
        assert Issue.objects.get(pk=awkward[0].pk).requested_at == INSTANTS[0]


def test_a_download_closed_half_way_leaves_the_connection_usable(awkward):
    # A client that goes away: the server closes the stream in the middle of the COPY.
    Issue.objects.filter(pk__in=[i.pk for i in awkward]).update(description="x" * 4000)
    chunks = exports.csv_lines(IssueFilters.from_params({}))
    assert len(next(chunks)) >= exports.WRITE_SIZE
    chunks.close()
    assert Issue.objects.get(pk=awkward[0].pk).requested_at == INSTANTS[0]


@pytest.mark.django_db(transaction=True)
def test_no_transaction_waits_on_the_client(wards, service_type):
    # A download goes at the client's pace: the COPY's transaction (a pooled connection behind
    # PgBouncer, a snapshot on the replica) is over before the first bytes are handed out.
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's; SQLite has only the Python path")
    issues = [make_issue(service_type) for _ in range(40)]
    # More than one write of WRITE_SIZE: the first is handed out while rows remain.
    Issue.objects.update(description="x" * 4000)
    chunks = exports.csv_lines(IssueFilters.from_params({}))
    first = next(chunks)
    waiting_in_a_transaction = connection.in_atomic_block
    body = first + b"".join(chunks)  # read to the end either way, so the test never hangs
    assert not waiting_in_a_transaction
    assert all(issue.public_id.encode() in body for issue in issues)
    assert body == _joined(exports.csv_in_python(IssueFilters.from_params({})))
