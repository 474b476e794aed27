"""import_311 on the real (dirty) Boston, NYC and Bloomington files, and on a Chicago CSV
described by a JSON mapping, through the management command as an operator runs it."""

import csv
import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError
from django.db import connection

from departments.importing.progress import Progress
from departments.models import Department, ServiceType
from issues.models import Issue, Notification, StatusChange
from tests.dashboards.test_rollups import assert_equals_rebuild
from tests.factories import CITY_HALL, LAKE_MICHIGAN, make_department, make_service_type

pytestmark = pytest.mark.django_db


def read_rejects(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_boston_rows_are_imported_and_the_two_without_any_location_are_rejected(
    run_command, data_dir, tmp_path
):
    output = run_command("import_311", str(data_dir / "boston311_sample.csv"), "--format", "boston")

    assert "600 rows read" in output
    assert "598 created, 0 updated, 2 rejected" in output
    assert "rejected 2: no coordinates and no address" in output
    rejects = read_rejects(tmp_path / "rejects.csv")
    assert [(r["_line"], r["_reason"]) for r in rejects] == [
        ("119", "no coordinates and no address"),
        ("573", "no coordinates and no address"),
    ]
    # The original columns come along, so the file can be fixed and imported again.
    assert rejects[0]["case_enquiry_id"] == "101005861543"
    assert Issue.objects.filter(external_source="boston311").count() == 598


def test_boston_values_are_cleaned_and_no_one_is_emailed(run_command, data_dir):
    run_command("import_311", str(data_dir / "boston311_sample.csv"), "--format", "boston")

    issue = Issue.objects.get(external_source="boston311", external_id="101005838416")
    assert issue.address == "INTERSECTION of City Sq & Harvard St Charlestown MA"
    assert issue.source == "import"
    assert issue.status == "open"
    assert issue.service_type.name == "Street Light Outages"
    assert issue.department.name == "Public Works Department"
    assert issue.expected_at is not None
    assert len(issue.public_id) == 9
    first = Issue.objects.get(external_id="101005870246")
    assert first.zipcode == "02128"
    # Boston is not in Chicago's wards: kept, and flagged for staff to place.
    assert not Issue.objects.filter(external_source="boston311", needs_triage=False).exists()
    assert not Issue.objects.filter(address__contains="&amp;").exists()
    assert Notification.objects.count() == 0


def test_new_service_types_are_created_inactive_and_existing_ones_matched_by_name(
    run_command, data_dir
):
    public_works = make_department("Public Works Department")
    existing = make_service_type(public_works, code="streetlight", name="street light  OUTAGES")

    run_command("import_311", str(data_dir / "boston311_sample.csv"), "--format", "boston")

    assert Issue.objects.filter(service_type=existing).count() > 100
    created = ServiceType.objects.get(name="Sidewalk Repair (Make Safe)")
    assert created.active is False
    assert created.department == public_works
    assert Department.objects.filter(name="Public Works Department").count() == 1


def test_reimporting_the_same_file_updates_instead_of_duplicating(run_command, data_dir):
    path = str(data_dir / "boston311_sample.csv")
    run_command("import_311", path, "--format", "boston")
    changes = StatusChange.objects.count()

    output = run_command("import_311", path, "--format", "boston")

    assert "0 created, 598 updated" in output
    assert Issue.objects.count() == 598
    assert StatusChange.objects.count() == changes


def nyc_with_64454142_closed(source, tmp_path) -> str:
    """The NYC sample as a later export: request 64454142 closed on 27 March 2025."""
    rows = list(csv.reader(StringIO(source.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == "64454142":
            row[header.index("Status")] = "Closed"
            row[header.index("Closed Date")] = "03/27/2025 09:00:00 AM"
    changed = tmp_path / "nyc-later.csv"
    with open(changed, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return str(changed)


def test_a_reimport_that_closes_a_request_records_the_change(run_command, data_dir, tmp_path):
    source = data_dir / "nyc311_sample.csv"
    run_command("import_311", str(source), "--format", "nyc")
    issue = Issue.objects.get(external_source="nyc311", external_id="64454142")
    assert issue.status == "in_progress"

    run_command("import_311", nyc_with_64454142_closed(source, tmp_path), "--format", "nyc")

    issue.refresh_from_db()
    assert issue.status == "closed"
    assert issue.closed_at == datetime(2025, 3, 27, 13, 0, tzinfo=UTC)
    last = issue.status_changes.order_by("created_at", "id").last()
    assert (last.from_status, last.to_status) == ("in_progress", "closed")
    # The dashboards' counters followed both imports, the second one's closure included.
    assert_equals_rebuild()


def test_nyc_statuses_and_times_are_mapped(run_command, data_dir):
    output = run_command("import_311", str(data_dir / "nyc311_sample.csv"), "--format", "nyc")

    assert "235 created" in output
    counts = {
        s: Issue.objects.filter(external_source="nyc311", status=s).count()
        for s in ("open", "acknowledged", "in_progress", "closed")
    }
    assert counts == {"open": 19, "acknowledged": 1, "in_progress": 17, "closed": 198}
    noisy = Issue.objects.get(external_id="64446107")
    assert noisy.requested_at == datetime(2025, 3, 25, 3, 33, 7, tzinfo=UTC)
    assert noisy.closed_at == datetime(2025, 3, 25, 4, 45, 11, tzinfo=UTC)
    assert noisy.department.name == "New York City Police Department"
    assert "Banging/Pounding" in noisy.description
    assert noisy.status_notes.startswith("The Police Department responded")
    history = list(noisy.status_changes.values_list("from_status", "to_status"))
    assert history == [("", "open"), ("open", "closed")]
    # Three rows have an address but no coordinates: kept, to be placed by staff.
    assert Issue.objects.filter(external_source="nyc311", latitude__isnull=True).count() == 3


def test_an_open311_servers_requests_json_moves_over(run_command, data_dir, tmp_path):
    output = run_command(
        "import_311", str(data_dir / "open311_requests_bloomington.json"), "--format", "open311"
    )

    assert "18 created, 0 updated, 3 rejected" in output
    zero = Issue.objects.get(external_id="4fbd2b76b1fe2c195f000000")
    assert (zero.latitude, zero.longitude) == (None, None)  # "lat": 0, "long": 0 means no point
    assert zero.address == "612 W Coolidge DR"
    closed = Issue.objects.filter(external_source="open311", status="closed")
    assert closed.count() == 3
    assert all(issue.closed_at for issue in closed)
    assert Issue.objects.exclude(media_url="").count() == 1
    reasons = {r["_reason"] for r in read_rejects(tmp_path / "rejects.csv")}
    assert reasons == {"no coordinates and no address"}


CHICAGO_MAPPING = {
    "name": "chicago",
    "external_source": "chicago311",
    "id": "SR_NUMBER",
    "service_name": "SR_TYPE",
    "agency": "OWNER_DEPARTMENT",
    "status": "STATUS",
    "address": "STREET_ADDRESS",
    "latitude": "LATITUDE",
    "longitude": "LONGITUDE",
    "requested_at": "CREATED_DATE",
    "closed_at": "CLOSED_DATE",
    "ward": "WARD",
    "date_formats": ["%m/%d/%Y %I:%M:%S %p"],
    "timezone": "America/Chicago",
    "status_map": {"Completed": "closed"},
}


def write_chicago_file(tmp_path, rows: list[list[str]]) -> str:
    header = "SR_NUMBER,SR_TYPE,OWNER_DEPARTMENT,STATUS,STREET_ADDRESS,LATITUDE,LONGITUDE,CREATED_DATE,CLOSED_DATE,WARD\n"
    path = tmp_path / "chicago.csv"
    body = "".join(",".join(row) + "\n" for row in rows)
    path.write_bytes((header + body).encode("utf-8"))
    return str(path)


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "chicago.json"
    path.write_text(json.dumps(CHICAGO_MAPPING))
    return str(path)


def test_a_mapped_city_csv_is_placed_in_wards_by_point(
    run_command, tmp_path, chicago_wards, mapping_file
):
    lat, lon = CITY_HALL
    path = write_chicago_file(
        tmp_path,
        [
            [
                "SR1",
                "Pothole in Street",
                "CDOT",
                "Open",
                "121 N LaSalle &amp; Co",
                str(lat),
                str(lon),
                "05/01/2025 09:00:00 AM",
                "",
                "42",
            ],
            [
                "SR2",
                "Pothole in Street",
                "CDOT",
                "Completed",
                "Lake",
                str(LAKE_MICHIGAN[0]),
                str(LAKE_MICHIGAN[1]),
                "05/01/2025 09:00:00 AM",
                "05/03/2025 10:00:00 AM",
                "Ward 2",
            ],
            [
                "SR3",
                "Pothole in Street",
                "CDOT",
                "Open",
                "",
                "",
                "",
                "05/01/2025 09:00:00 AM",
                "",
                "3",
            ],
            ["SR4", "Pothole in Street", "CDOT", "Open", "1 Main", "", "", "last tuesday", "", "3"],
        ],
    )

    output = run_command("import_311", path, "--mapping", mapping_file)

    assert "2 created, 0 updated, 2 rejected" in output
    in_ward = Issue.objects.get(external_id="SR1")
    assert in_ward.ward.number == 42
    assert in_ward.needs_triage is False
    assert in_ward.address == "121 N LaSalle & Co"
    assert in_ward.requested_at == datetime(2025, 5, 1, 14, 0, tzinfo=UTC)
    in_lake = Issue.objects.get(external_id="SR2")
    assert (in_lake.ward, in_lake.needs_triage, in_lake.status) == (None, True, "closed")
    reasons = {r["_line"]: r["_reason"] for r in read_rejects(tmp_path / "rejects.csv")}
    assert reasons == {"4": "no coordinates and no address", "5": "unparseable date “last tuesday”"}


def test_the_source_ward_column_is_used_only_when_asked_and_only_without_a_point(
    run_command, tmp_path, chicago_wards, mapping_file
):
    path = write_chicago_file(
        tmp_path,
        [
            [
                "SR9",
                "Graffiti",
                "DSS",
                "Open",
                "2 Elm St",
                "",
                "",
                "05/01/2025 09:00:00 AM",
                "",
                "Ward 07",
            ]
        ],
    )
    run_command("import_311", path, "--mapping", mapping_file)
    assert Issue.objects.get(external_id="SR9").ward is None

    run_command("import_311", path, "--mapping", mapping_file, "--wards-from-column")
    assert Issue.objects.get(external_id="SR9").ward.number == 7


def test_bad_bytes_and_broken_rows_are_rejected_with_their_line_and_the_rest_imported(
    run_command, tmp_path, mapping_file
):
    header = b"SR_NUMBER,SR_TYPE,OWNER_DEPARTMENT,STATUS,STREET_ADDRESS,LATITUDE,LONGITUDE,CREATED_DATE,CLOSED_DATE,WARD\n"
    good = b"SR1,Graffiti,DSS,Open,1 Elm St,,,05/01/2025 09:00:00 AM,,1\n"
    latin1 = b"SR2,Graffiti,DSS,Open,Caf\xe9 Ave,,,05/01/2025 09:00:00 AM,,1\n"
    short = b"SR3,Graffiti,DSS\n"
    multiline = b'SR4,Graffiti,DSS,Open,"2 Elm St\nrear",,,05/01/2025 09:00:00 AM,,1\n'
    after = b"SR5,Graffiti,DSS,Open,3 Elm St,,,05/01/2025 09:00:00 AM,,1\n"
    path = tmp_path / "dirty.csv"
    path.write_bytes(header + good + latin1 + short + multiline + after)

    output = run_command("import_311", str(path), "--mapping", mapping_file)

    assert "3 created, 0 updated, 2 rejected" in output
    reasons = {r["_line"]: r["_reason"] for r in read_rejects(tmp_path / "rejects.csv")}
    assert reasons == {"3": "bad encoding (not UTF-8)", "4": "expected 10 columns, found 3"}
    assert Issue.objects.get(external_id="SR4").address == "2 Elm St rear"
    assert Issue.objects.filter(external_id="SR5").exists()


def test_a_fixed_rejects_file_can_be_imported_as_it_is(run_command, data_dir, tmp_path):
    run_command("import_311", str(data_dir / "boston311_sample.csv"), "--format", "boston")
    rejects = read_rejects(tmp_path / "rejects.csv")
    rejects[0]["location"] = "1 City Hall Sq Boston MA 02201"
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rejects[0]))
        writer.writeheader()
        writer.writerows(rejects)

    output = run_command(
        "import_311", str(fixed), "--format", "boston", "--rejects", str(tmp_path / "again.csv")
    )

    assert "1 created, 0 updated, 1 rejected" in output
    assert Issue.objects.get(external_id="101005861543").address.startswith("1 City Hall Sq")


def test_reimport_costs_a_constant_number_of_queries_not_one_per_row(
    run_command, data_dir, django_assert_num_queries
):
    path = str(data_dir / "nyc311_sample.csv")
    run_command("import_311", path, "--format", "nyc")
    # PostgreSQL writes through COPY and a staging step (departments/importing/bulk.py); SQLite
    # through batched INSERTs: a different, but fixed, number of statements. One of them asks
    # whether the gazetteer has places to geocode the rows that came without a point, two keep
    # the weekly close histogram (uncounting, recounting). On PostgreSQL six keep the import's
    # run (issues.models.ImportRun: made, then counted in a savepoint of its own), new issues or
    # not (a batch with new issues renews the run's lease in one more), and two per batch ask
    # which updated issues still wait to be counted.
    with django_assert_num_queries(40 if connection.vendor == "postgresql" else 25):
        run_command("import_311", path, "--format", "nyc")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.csv", "--format", "nyc"], "No such file"),
        (["{boston}"], "exactly one of --format or --mapping"),
        (["{boston}", "--format", "nyc", "--mapping", "x.json"], "exactly one of"),
        (["{boston}", "--mapping", "{boston}"], "cannot read mapping"),
        (["{bloomington}", "--format", "nyc"], "expected 41 columns"),
    ],
)
def test_operator_mistakes_get_a_clear_message(run_command, data_dir, args, message):
    paths = {
        "{boston}": str(data_dir / "boston311_sample.csv"),
        "{bloomington}": str(data_dir / "open311_requests_bloomington.json"),
    }
    args = [paths.get(a, a) for a in args]
    if message.startswith("expected"):
        # A JSON file read as CSV is not a crash: every line is rejected, and the summary says so.
        assert "rejected" in run_command("import_311", *args)
        return
    with pytest.raises(CommandError, match=message):
        run_command("import_311", *args)


def test_progress_bar_shows_rate_and_eta_on_a_terminal_and_nothing_otherwise():
    stream = StringIO()
    bar = Progress("file.csv", stream=stream, enabled=True, interval=0)
    bar.update(5000, 50, 100)
    bar.finish(10000)
    assert "rows/s" in stream.getvalue()
    assert "ETA" in stream.getvalue()
    assert "100.0%" in stream.getvalue()

    quiet = StringIO()  # StringIO is not a terminal
    Progress("file.csv", stream=quiet).update(5000, 50, 100, force=True)
    assert quiet.getvalue() == ""


def test_a_public_id_clash_is_redrawn_not_rejected(run_command, data_dir, monkeypatch):
    from issues.importers import publicids

    taken = make_service_type()
    existing = Issue.objects.create(
        service_type=taken, department=taken.department, address="1 Main St"
    )
    real_draw = publicids.draw_public_ids
    calls = []

    def clashing_first(count):
        ids = real_draw(count)
        if not calls:
            ids[0] = existing.public_id  # the unique index must catch this one
        calls.append(count)
        return ids

    monkeypatch.setattr(publicids, "draw_public_ids", clashing_first)

    output = run_command("import_311", str(data_dir / "nyc311_sample.csv"), "--format", "nyc")

    assert "235 created" in output
    assert len(calls) >= 2
    assert Issue.objects.filter(public_id=existing.public_id).count() == 1


def test_a_refused_batch_keeps_the_service_types_its_rows_need(run_command, data_dir, monkeypatch):
    """The batch is written again row by row after the database refuses it; the service types it
    created must still exist for those rows (they are created outside the batch's transaction)."""
    from django.db import DatabaseError

    from departments.importing import bulk

    real_add_rows = bulk.add_rows

    def refuse_whole_batches(model, rows):
        if len(rows) > 2:  # one issue writes at most two history rows
            raise DatabaseError("simulated: the server refused the batch")
        return real_add_rows(model, rows)

    monkeypatch.setattr(bulk, "add_rows", refuse_whole_batches)

    output = run_command("import_311", str(data_dir / "boston311_sample.csv"), "--format", "boston")

    assert "598 created" in output
    type_ids = set(Issue.objects.values_list("service_type_id", flat=True))
    assert type_ids and ServiceType.objects.filter(pk__in=type_ids).count() == len(type_ids)


def test_public_pages_cached_before_a_reimport_show_its_changes(
    run_command, data_dir, tmp_path, client, monkeypatch
):
    """COPY bypasses the signals that invalidate the public page cache; the importer moves the
    counters itself, for the lists and for each updated issue's page."""
    from issues import pagecache

    monkeypatch.setattr(pagecache, "_minute", lambda: 29_000_000)  # no minute boundary mid-test
    source = data_dir / "nyc311_sample.csv"
    run_command("import_311", str(source), "--format", "nyc")
    issue = Issue.objects.get(external_source="nyc311", external_id="64454142")
    url = issue.get_absolute_url()
    client.get(url)
    cached = client.get(url)
    assert cached["X-Page-Cache"] == "hit"

    run_command("import_311", nyc_with_64454142_closed(source, tmp_path), "--format", "nyc")

    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss"
    # The timeline now ends with the closure the second import brought.
    assert fresh.content.count(b"Closed") > cached.content.count(b"Closed")
