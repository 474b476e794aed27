"""import_wards: load or replace a city's wards, and move issues to the ward that now holds them."""

import json

import pytest
from django.core.management import CommandError

from departments.models import Ward
from departments.wards import WardIndex
from issues.models import Issue
from tests.dashboards.test_rollups import assert_equals_rebuild
from tests.factories import CITY_HALL, make_issue

pytestmark = pytest.mark.django_db

# A point well inside ward 10 on the 2023 map (South Chicago), which the subset file lacks.
WARD_10_POINT = (41.7305, -87.5510)


def test_wards_numbered_three_ways_are_loaded_from_a_real_file(run_command, data_dir):
    output = run_command("import_wards", str(data_dir / "chicago_wards_subset.geojson"))

    assert "3 created, 0 updated, 0 removed" in output
    assert list(Ward.objects.values_list("number", "slug")) == [
        (1, "ward-1"),
        (2, "ward-2"),
        (42, "ward-42"),
    ]
    assert Ward.objects.containing(*CITY_HALL).number == 42


def test_the_name_field_names_the_wards(run_command, data_dir):
    run_command(
        "import_wards",
        str(data_dir / "chicago_wards_subset.geojson"),
        "--name-field",
        "alderman_office",
    )
    assert Ward.objects.get(number=2).name == "Office of ward 2"


def test_issues_reported_before_the_wards_existed_are_placed_afterwards(run_command, data_dir):
    issue = make_issue(point=CITY_HALL)
    assert (issue.ward, issue.needs_triage) == (None, True)

    output = run_command("import_wards", str(data_dir / "chicago_wards_subset.geojson"))

    assert "1 issues moved" in output
    issue.refresh_from_db()
    assert (issue.ward.number, issue.needs_triage) == (42, False)


def test_replacing_the_map_removes_missing_wards_and_flags_their_issues(
    run_command, data_dir, chicago_wards
):
    downtown = make_issue(point=CITY_HALL)
    south = make_issue(point=WARD_10_POINT)
    no_point = make_issue(point=None, address="1 Unknown St")
    assert (downtown.ward.number, south.ward.number) == (42, 10)

    output = run_command(
        "import_wards", str(data_dir / "chicago_wards_subset.geojson"), "--replace"
    )

    assert "0 created, 3 updated, 47 removed" in output
    downtown.refresh_from_db()
    south.refresh_from_db()
    no_point.refresh_from_db()
    assert (downtown.ward.number, downtown.needs_triage) == (42, False)
    assert (south.ward, south.needs_triage) == (None, True)
    assert Issue.objects.count() == 3
    assert Ward.objects.count() == 3
    # The removed ward's issue now counts as "no ward" on the dashboards.
    assert_equals_rebuild()


def test_without_replace_other_wards_are_kept(run_command, data_dir, chicago_wards):
    run_command("import_wards", str(data_dir / "chicago_wards_subset.geojson"))
    assert Ward.objects.count() == 50


def write(tmp_path, features) -> str:
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


def square(x, y, size=0.01):
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            [{"properties": {"name": "A"}, "geometry": square(-87.6, 41.8)}],
            "feature 1 has no “ward” property",
        ),
        (
            [{"properties": {"ward": "north"}, "geometry": square(-87.6, 41.8)}],
            "“north” is not a ward number",
        ),
        (
            [
                {"properties": {"ward": "1"}, "geometry": square(-87.6, 41.8)},
                {"properties": {"ward": "01"}, "geometry": square(-87.5, 41.8)},
            ],
            "ward 1 appears twice",
        ),
        ([{"properties": {"ward": "1"}, "geometry": square(1160000, 1900000, 500)}], "not WGS84"),
        (
            [{"properties": {"ward": "1"}, "geometry": {"type": "Point", "coordinates": [0, 1]}}],
            "not a polygon",
        ),
    ],
)
def test_a_bad_file_is_refused_whole_and_changes_nothing(
    run_command, tmp_path, chicago_wards, features, message
):
    before = list(Ward.objects.values_list("number", "updated_at"))
    with pytest.raises(CommandError, match=message) as error:
        run_command("import_wards", write(tmp_path, features), "--replace")
    assert "Nothing was changed" in str(error.value)
    assert list(Ward.objects.values_list("number", "updated_at")) == before


def test_a_self_touching_polygon_is_repaired_not_refused(run_command, tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[-87.6, 41.8], [-87.5, 41.9], [-87.5, 41.8], [-87.6, 41.9], [-87.6, 41.8]]
        ],
    }
    run_command(
        "import_wards", write(tmp_path, [{"properties": {"ward": "5"}, "geometry": bowtie}])
    )
    WardIndex.invalidate()
    assert Ward.objects.containing(41.85, -87.58).number == 5


def test_a_file_that_is_not_geojson_is_refused(run_command, data_dir):
    with pytest.raises(CommandError, match="cannot read"):
        run_command("import_wards", str(data_dir / "nyc311_sample.csv"))
