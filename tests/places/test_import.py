"""import_places: the three formats, idempotent by source id, the rejects file with each line's
number and reason; and address points found and named exactly."""

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from departments.models import Place, PlaceKind
from departments.places.search import reverse, search

pytestmark = pytest.mark.django_db

OPENADDRESSES = [
    ["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "POSTCODE", "ID", "HASH"],
    ["-87.67740", "41.91010", "1612", "N MILWAUKEE AVE", "", "CHICAGO", "60647", "A1", "h1"],
    ["-87.66880", "41.94720", "3600", "N ASHLAND AVE", "2F", "CHICAGO", "60613", "A2", "h2"],
    ["-87.66880", "41.94720", "36OO", "N ASHLAND AVE", "", "CHICAGO", "60613", "A3", "h3"],
    ["-87.66880", "", "3602", "N ASHLAND AVE", "", "CHICAGO", "60613", "A4", "h4"],
    ["-87.66880", "41.94720", "3604", "", "", "CHICAGO", "60613", "A5", "h5"],
    ["-87.66880", "41.94720", "3606", "N ASHLAND AVE", "", "CHICAGO", "60613", "A1", "h6"],
    ["-87.66880", "141.94720", "3608", "N ASHLAND AVE", "", "CHICAGO", "60613", "A7", "h7"],
]


def write(path: Path, rows) -> Path:
    with open(path, "w", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def run(*args) -> str:
    out = StringIO()
    call_command("import_places", *map(str, args), "--no-progress", stdout=out)
    return out.getvalue()


def test_openaddresses_points_are_imported_and_bad_lines_rejected_with_line_and_reason(
    chicago_wards, tmp_path
):
    path = write(tmp_path / "oa.csv", OPENADDRESSES)
    rejects = tmp_path / "rejects.csv"
    output = run(path, "--format", "openaddresses", "--rejects", rejects)
    assert "2 created" in output and "5 rejected" in output
    kept = {p.source_id: p for p in Place.objects.all()}
    assert set(kept) == {"A1", "A2"}
    assert kept["A2"].name == "3600 N Ashland Ave #2F" and kept["A2"].ward.number == 47
    assert kept["A1"].kind == PlaceKind.ADDRESS and kept["A1"].number == 1612
    with open(rejects, newline="") as f:
        rows = {row["_line"]: row["_reason"] for row in csv.DictReader(f)}
    assert rows == {
        "4": "house number “36OO” is not a whole number",
        "5": "no point (latitude and longitude are empty)",
        "6": "no street name",
        "7": "the id repeats line 2",
        "8": rows["8"],
    }
    assert "WGS84" in rows["8"]


def test_importing_the_same_file_again_changes_nothing_and_a_moved_point_is_updated(
    chicago_wards, tmp_path
):
    path = write(tmp_path / "oa.csv", OPENADDRESSES[:3])
    run(path, "--format", "openaddresses", "--rejects", tmp_path / "r.csv")
    assert "2 unchanged" in run(path, "--format", "openaddresses", "--rejects", tmp_path / "r.csv")
    moved = [OPENADDRESSES[0], OPENADDRESSES[1], [*OPENADDRESSES[2]]]
    moved[2][1] = "41.94730"
    path = write(tmp_path / "oa2.csv", moved)
    assert "1 updated" in run(path, "--format", "openaddresses", "--rejects", tmp_path / "r.csv")
    assert Place.objects.get(source_id="A2").latitude == 41.9473
    assert Place.objects.count() == 2


def test_an_address_point_is_found_by_number_and_names_a_pin_on_it(chicago_wards, tmp_path):
    run(write(tmp_path / "oa.csv", OPENADDRESSES[:3]), "--format", "openaddresses",
        "--rejects", tmp_path / "r.csv")  # fmt: skip
    assert search("1612 n milwaukee")[0].name == "1612 N Milwaukee Ave"
    assert search("1612 Milwaukee Avenue")[0].name == "1612 N Milwaukee Ave"
    assert reverse(41.91015, -87.67745).name == "1612 N Milwaukee Ave"


def test_landmarks_from_any_csv_described_by_a_mapping(chicago_wards, tmp_path):
    path = write(
        tmp_path / "parks.csv",
        [
            ["PARK_NO", "PARK_NAME", "Y", "X"],
            ["1", "WRIGLEY FIELD", "41.94822", "-87.65535"],
            ["2", "HUMBOLDT PARK", "41.90558", "-87.70199"],
        ],
    )
    mapping = "id=PARK_NO,name=PARK_NAME,lat=Y,lon=X,kind=landmark"
    assert "2 created" in run(path, "--mapping", mapping, "--rejects", tmp_path / "r.csv")
    found = search("wrigley")
    assert found[0].name == "Wrigley Field" and found[0].kind == PlaceKind.LANDMARK
    assert found[0].ward_number == 44


def test_a_file_without_the_formats_columns_is_refused_whole(db, tmp_path):
    path = write(tmp_path / "x.csv", [["a", "b"], ["1", "2"]])
    with pytest.raises(CommandError, match="missing column"):
        run(path, "--format", "intersections", "--rejects", tmp_path / "r.csv")
    with pytest.raises(CommandError, match="bad mapping"):
        run(path, "--mapping", "colour=a", "--rejects", tmp_path / "r.csv")
    assert not Place.objects.exists()
