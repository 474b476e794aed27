"""import_assets on the real CTA bus stops (departments/data/, see its SOURCES.md) and on small
files made to fail: counts, wards, idempotent re-imports, the rejects file, the three formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.importing.asset_rows import AssetFile
from departments.models import Asset, AssetLayer
from departments.selectors import nearest_assets

pytestmark = pytest.mark.django_db

CTA = Path(__file__).resolve().parents[2] / "departments/data/chicago_cta_bus_stops.csv"
CTA_ROWS = 10_760
CTA_OUTSIDE_WARDS = 847  # suburban stops and a few on the city's edge (SOURCES.md)


def run(path, *extra) -> str:
    out = io.StringIO()
    call_command("import_assets", str(path), "--no-progress", *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def cta(chicago_wards, tmp_path) -> AssetLayer:
    out = run(
        CTA, "--layer", "CTA bus stops", "--label", "bus stop", "--rejects", tmp_path / "r.csv"
    )
    assert "10,760 created, 0 updated, 0 unchanged, 0 rejected" in out
    return AssetLayer.objects.get(slug="cta-bus-stops")


def test_the_real_cta_file_imports_every_stop_with_its_ward_and_attributes(cta):
    assert Asset.objects.filter(layer=cta).count() == CTA_ROWS
    assert Asset.objects.filter(layer=cta, ward__isnull=True).count() == CTA_OUTSIDE_WARDS
    stop = Asset.objects.select_related("ward").get(layer=cta, source_id="15189")
    assert stop.name == "Cicero & Berteau"
    assert (round(stop.latitude, 6), round(stop.longitude, 6)) == (41.956892, -87.747509)
    assert stop.ward.number == 45  # Cicero and Berteau, Portage Park (the 2023 map)
    assert stop.attributes == {
        "STREET": "CICERO",
        "CROSS_ST": "BERTEAU (north leg)",
        "DIR": "SB",
        "POS": "FS",
        "ROUTESSTPG": "54,54A",
        "CITY": "CHICAGO",
    }
    assert cta.asset_label == "bus stop" and cta.asset_label_plural == "bus stops"


def test_importing_the_same_file_again_changes_nothing(cta, tmp_path):
    before = dict(Asset.objects.values_list("source_id", "updated_at"))
    out = run(CTA, "--layer", "cta-bus-stops", "--rejects", tmp_path / "again.csv")
    assert "0 created, 0 updated, 10,760 unchanged, 0 rejected" in out
    assert dict(Asset.objects.values_list("source_id", "updated_at")) == before
    assert not (tmp_path / "again.csv").exists()  # nothing rejected, no file


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


HEADER = ["id", "name", "latitude", "longitude", "height_ft"]


def test_a_row_that_changed_is_updated_and_its_ward_follows_its_point(chicago_wards, tmp_path):
    first = write_csv(
        tmp_path / "lights.csv",
        [
            HEADER,
            ["L1", "Pole 1", "41.88365", "-87.63201", "30"],
            ["L2", "Pole 2", "41.9", "-87.7", "30"],
        ],
    )
    run(first, "--layer", "Street lights", "--rejects", tmp_path / "r.csv")
    moved = write_csv(
        tmp_path / "lights2.csv",
        [
            HEADER,
            ["L1", "Pole 1", "41.95", "-87.70", "30"],
            ["L2", "Pole 2", "41.9", "-87.7", "30"],
        ],
    )
    out = run(moved, "--layer", "street-lights", "--rejects", tmp_path / "r2.csv")
    assert "0 created, 1 updated, 1 unchanged" in out
    pole = Asset.objects.select_related("ward").get(source_id="L1")
    assert (pole.latitude, pole.longitude) == (41.95, -87.70)
    assert pole.ward.number != 42 and pole.attributes == {"height_ft": "30"}


def test_every_line_not_imported_is_in_the_rejects_file_with_its_line_and_reason(
    chicago_wards, tmp_path
):
    source = write_csv(
        tmp_path / "bad.csv",
        [
            HEADER,
            ["L1", "Good pole", "41.88365", "-87.63201", "30"],
            ["", "No id", "41.88", "-87.63", "30"],
            ["L3", "No point", "", "", "30"],
            ["L4", "Words", "north", "-87.63", "30"],
            ["L5", "State Plane feet", "1901234", "1160000", "30"],
            ["L6", "Null island", "0", "0", "30"],
            ["L1", "Repeated", "41.88", "-87.63", "30"],
            ["L8", "Too few columns"],
            ["L9", "Another good one", "41.9", "-87.7", ""],
        ],
    )
    rejects = tmp_path / "rejects.csv"
    out = run(source, "--layer", "Street lights", "--rejects", rejects)
    assert "2 created, 0 updated, 0 unchanged, 7 rejected" in out
    assert set(Asset.objects.values_list("source_id", flat=True)) == {"L1", "L9"}
    assert Asset.objects.get(source_id="L1").name == "Good pole"  # the first line with the id
    with rejects.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    reasons = {row["_line"]: row["_reason"] for row in rows}
    assert reasons["3"] == "no id (column id is empty)"
    assert reasons["4"] == "no point (latitude and longitude are empty)"
    assert reasons["5"] == "latitude “north” is not a number"
    assert "not a WGS84 latitude/longitude" in reasons["6"]
    assert reasons["7"] == "no point (0, 0 is a placeholder, not a place)"
    assert reasons["8"] == "the id repeats line 2"
    assert reasons["9"] == "expected 5 columns, found 2"
    # The source's own columns follow, so the file can be fixed and imported again as it is.
    assert next(r for r in rows if r["_line"] == "6")["name"] == "State Plane feet"
    assert list(rows[0])[:2] == ["_line", "_reason"] and "height_ft" in rows[0]


def test_a_wkt_point_column_and_named_columns_are_read(chicago_wards, tmp_path):
    source = write_csv(
        tmp_path / "hydrants.csv",
        [
            ["HYD_NO", "LOCATION", "geom"],
            ["H-7", "LaSalle & Randolph", "POINT (-87.63201 41.88365)"],
        ],
    )
    run(
        source,
        "--layer",
        "Hydrants",
        "--id-column",
        "HYD_NO",
        "--name-column",
        "LOCATION",
        "--geometry-column",
        "geom",
        "--kind",
        "hydrant",
        "--rejects",
        tmp_path / "r.csv",
    )
    hydrant = Asset.objects.select_related("ward").get(source_id="H-7")
    assert (hydrant.name, hydrant.kind, hydrant.ward.number) == (
        "LaSalle & Randolph",
        "hydrant",
        42,
    )


def test_geojson_points_are_imported_and_other_geometries_rejected(chicago_wards, tmp_path):
    features = [
        {
            "type": "Feature",
            "id": 501,
            "properties": {"name": "Drain A"},
            "geometry": {"type": "Point", "coordinates": [-87.63201, 41.88365]},
        },
        {
            "type": "Feature",
            "properties": {"asset_id": "D2", "name": "Drain B", "depth": 2.5},
            "geometry": {"type": "Point", "coordinates": [-87.7, 41.9]},
        },
        {
            "type": "Feature",
            "properties": {"asset_id": "D3"},
            "geometry": {"type": "LineString", "coordinates": [[-87.7, 41.9], [-87.6, 41.9]]},
        },
    ]
    path = tmp_path / "drains.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    out = run(path, "--layer", "Storm drains", "--rejects", tmp_path / "r.csv")
    assert "as geojson: 2 created" in out and "1 rejected" in out
    assert Asset.objects.get(source_id="501").name == "Drain A"  # the feature's own id
    assert Asset.objects.get(source_id="D2").attributes == {"depth": 2.5}
    assert "not a point (LineString)" in (tmp_path / "r.csv").read_text()


def test_a_gtfs_stops_txt_brings_its_stops_and_rejects_its_stations(chicago_wards, tmp_path):
    path = write_csv(
        tmp_path / "stops.txt",
        [
            [
                "stop_id",
                "stop_code",
                "stop_name",
                "stop_lat",
                "stop_lon",
                "location_type",
                "parent_station",
            ],
            ["1", "1", "Jackson & Austin Terminal", "41.87632184", "-87.77410482", "0", ""],
            ["40380", "", "Clark/Lake", "41.885737", "-87.630886", "1", ""],
        ],
    )
    out = run(path, "--layer", "CTA stops", "--rejects", tmp_path / "r.csv")
    assert "as gtfs: 1 created" in out
    assert Asset.objects.get().name == "Jackson & Austin Terminal"
    assert "location_type 1 is a station, not a stop" in (tmp_path / "r.csv").read_text()


def test_a_file_with_no_point_columns_is_refused_whole_and_nothing_is_written(db, tmp_path):
    path = write_csv(tmp_path / "x.csv", [["id", "name"], ["1", "A"]])
    with pytest.raises(CommandError, match="no point"):
        run(path, "--layer", "Things", "--rejects", tmp_path / "r.csv")
    assert not Asset.objects.exists()


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(" ".join(map(str, row)) for row in cursor.fetchall())


def test_the_nearest_assets_query_reads_the_layer_position_index(cta):
    """The five stops nearest a pin come from an index range on (layer, latitude, longitude),
    not a scan of the table: the plan of the very query names the index, on SQLite and on
    PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them in production
    with CaptureQueriesContext(connection) as queries:
        nearest = nearest_assets(cta, 41.88365, -87.63201)
    assert [a.source_id for a in nearest][:1] and len(nearest) == 5
    assert [a.distance_m for a in nearest] == sorted(a.distance_m for a in nearest)
    assert len(queries) == 1  # the first box around the Loop already holds five stops
    plan = plan_of(queries[0]["sql"])
    assert "asset_layer_position" in plan, plan
    assert "Seq Scan" not in plan and "SCAN departments_asset" not in plan, plan


def test_asset_file_guesses_the_format_from_the_name(tmp_path):
    for name, fmt in (("a.geojson", "geojson"), ("stops.txt", "gtfs"), ("lights.csv", "csv")):
        path = tmp_path / name
        path.write_text("{}")
        assert AssetFile(path).format == fmt
