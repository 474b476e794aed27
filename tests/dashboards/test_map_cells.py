"""The zoomed-out map reads counters kept in step with every write (issues.models.MapCell), not a
GROUP BY over every issue; until they are built it groups the issues as before. That the counters
equal a rebuild after every kind of write is test_rollups.py's
test_rollup_equals_a_rebuild_after_every_kind_of_write (MapCell is in rollups.LAYOUT)."""

from __future__ import annotations

import math

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments import geo
from issues import services
from issues.dashboards import recount, rollups
from issues.models import MapCell, Status
from tests.factories import make_issue

URL = reverse("issues:viewport")
CHICAGO = "-87.94,41.64,-87.52,42.03"


def _spread(service_type, n: int) -> list:
    return [
        make_issue(service_type, point=(41.80 + (i % 7) * 0.013, -87.75 + (i // 7) * 0.021))
        for i in range(n)
    ]


def _features(client, zoom: int) -> list:
    data = client.get(URL, {"bbox": CHICAGO, "zoom": zoom}).json()
    return sorted(
        (
            f["properties"].get("count", 1),
            f["properties"].get("id", ""),
            tuple(round(c, 9) for c in f["geometry"]["coordinates"]),
        )
        for f in data["features"]
    )


def _unbuild():
    MapCell.objects.filter(zoom=MapCell.BUILT).delete()


@pytest.fixture
def built():
    """Every set of zooms built while the database is empty, then kept in step by each write.
    Made here, not taken from the migrations' mark (0040 marks the street and world zooms of
    an empty database built): a reused test database (--reuse-db) lost that mark to the
    previous run's transactional tests, whose flush empties every table, and 0013's mark for
    the zooms 3-15 was taken out again by 0025, so without this those zooms read the issues."""
    recount.rebuild_map_cells()


@pytest.mark.django_db
def test_zoomed_out_map_reads_the_counters_not_the_issues(client, service_type):
    _spread(service_type, 30)
    recount.rebuild_map_cells()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"bbox": CHICAGO, "zoom": 11}).status_code == 200
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert grouped == []
    assert any("issues_mapcell" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("zoom", [0, 3, 9, 11, 13, 15, 16, 17])
def test_counters_answer_as_the_grouping_of_every_issue_did(
    client, service_type, staff_user, chicago_wards, built, zoom
):
    staff = staff_user
    issues = _spread(service_type, 40)
    services.change_status(issue=issues[0], to=Status.CLOSED, by=staff)
    services.set_hidden(target=issues[1], hidden=True, by=staff, reason="Abuse")
    services.place_issue(issue=issues[2], latitude=41.95, longitude=-87.70, by=staff)
    counted = _features(client, zoom)
    _unbuild()
    cache.clear()  # the public page cache
    grouped = _features(client, zoom)
    assert counted == grouped
    assert sum(count for count, _, _ in counted) == 39  # one hidden


@pytest.mark.django_db
def test_until_built_the_map_groups_the_issues_and_the_release_step_builds_them(
    client, service_type, capsys
):
    _spread(service_type, 10)
    _unbuild()
    assert not rollups.map_cells_built()
    before = _features(client, 11)
    assert sum(count for count, _, _ in before) == 10
    call_command("rebuild_map_cells", "--if-unbuilt")
    assert "rebuilt" in capsys.readouterr().out
    assert rollups.map_cells_built()
    call_command("rebuild_map_cells", "--if-unbuilt")
    assert "nothing to do" in capsys.readouterr().out
    make_issue(service_type, point=(41.90, -87.65))
    assert sum(count for count, _, _ in _features(client, 11)) == 11


@pytest.mark.django_db
def test_a_filtered_map_still_groups_the_issues(client, service_type):
    _spread(service_type, 5)
    with CaptureQueriesContext(connection) as queries:
        data = client.get(URL, {"bbox": CHICAGO, "zoom": 11, "status": "open"}).json()
    assert sum(f["properties"].get("count", 1) for f in data["features"]) == 5
    assert not any("issues_mapcell" in q["sql"] for q in queries.captured_queries)


LOOP = "-87.640,41.878,-87.625,41.890"


def _crowd(service_type, n: int) -> list:
    """n issues around City Hall, a few metres apart: one street-level box holds them all."""
    return [
        make_issue(service_type, point=(41.8800 + (i % 10) * 0.0009, -87.6380 + (i // 10) * 0.0011))
        for i in range(n)
    ]


def _street(client, bbox: str = LOOP, zoom: int = 16) -> tuple[dict, list]:
    with CaptureQueriesContext(connection) as queries:
        data = client.get(URL, {"bbox": bbox, "zoom": zoom}).json()
    return data, [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
@pytest.mark.parametrize("zoom", [16, 17])
def test_a_crowded_street_box_is_clustered_from_the_counters_not_the_issues(
    client, service_type, staff_user, monkeypatch, built, zoom
):
    monkeypatch.setattr(geo, "MAP_FEATURE_CAP", 5)
    issues = _crowd(service_type, 30)
    services.change_status(issue=issues[0], to=Status.CLOSED, by=staff_user)
    services.set_hidden(target=issues[1], hidden=True, by=staff_user, reason="Abuse")
    data, sql = _street(client, zoom=zoom)
    assert data["properties"]["clustered"] is True
    assert len(data["features"]) == 5  # the cap: the busiest cells
    assert not any("GROUP BY" in q for q in sql)
    assert not any('FROM "issues_issue"' in q and "COUNT" in q for q in sql)  # no count
    # The same clusters, statuses and lone issues as grouping the issues gave.
    counted = data["features"]
    _unbuild()
    cache.clear()
    grouped, sql = _street(client, zoom=zoom)
    assert any("GROUP BY" in q for q in sql)
    assert sorted(map(repr, grouped["features"])) == sorted(map(repr, counted))


@pytest.mark.django_db
def test_a_quiet_street_box_shows_its_issues_one_by_one_from_one_read(client, service_type, built):
    _crowd(service_type, 12)
    make_issue(service_type, point=(41.95, -87.70))  # outside the box
    data, sql = _street(client)
    assert data["properties"]["clustered"] is False
    assert len(data["features"]) == 12
    assert all("cluster" not in f["properties"] for f in data["features"])
    # Whether built, the cells with what they hold, the issues: no count of the box.
    assert len(sql) == 3


@pytest.mark.django_db
def test_a_box_whose_edge_cells_decide_counts_its_issues_from_the_index(
    client, service_type, monkeypatch, built
):
    """Six issues in the box's edge cells, three of them outside the box: the cells alone
    cannot tell whether the box holds more than the cap (5), so the index counts it."""
    monkeypatch.setattr(geo, "MAP_FEATURE_CAP", 5)
    size = geo.cell_size(16)
    west = (math.floor(-87.6320 / size) + 0.5) * size  # the box starts mid-cell
    for i in range(3):
        make_issue(service_type, point=(41.8830 + i * 0.0001, west + size * 0.2))  # inside
        make_issue(service_type, point=(41.8830 + i * 0.0001, west - size * 0.2))  # outside
    bbox = f"{west},41.880,{west + 10 * size},41.886"
    data, sql = _street(client, bbox)
    assert data["properties"]["clustered"] is False
    assert len(data["features"]) == 3
    assert len(sql) == 4  # built, cells, the capped count, the issues


@pytest.mark.django_db
@pytest.mark.parametrize("zoom", [0, 2])
def test_the_whole_world_zooms_read_the_counters_too(client, service_type, built, zoom):
    _spread(service_type, 12)
    data, sql = _street(client, "-180,-85,180,85", zoom)
    assert not any("GROUP BY" in q for q in sql)
    assert [f["properties"]["count"] for f in data["features"]] == [12]


@pytest.mark.django_db
def test_a_deploy_that_adds_zooms_fills_them_alone_and_groups_until_then(
    client, service_type, monkeypatch, capsys
):
    """MapCell.ZOOM_SETS[1] arrives on a database with issues (migration 0040 marks nothing):
    the street zooms group the issues until the release step fills that set, which leaves the
    zoomed-out cells as they were."""
    monkeypatch.setattr(geo, "MAP_FEATURE_CAP", 5)
    _crowd(service_type, 6)  # in four cells at zoom 16, under the cap
    recount.rebuild_map_cells()  # every set built, then the new one forgotten
    MapCell.objects.filter(zoom=MapCell.BUILT, cell_row=1).delete()
    MapCell.objects.filter(zoom__in=MapCell.ZOOM_SETS[1]).update(n=F("n") + 7)  # not to be read
    zoomed_out = list(MapCell.objects.filter(zoom__in=MapCell.ZOOM_SETS[0]).values_list())
    assert not rollups.map_cells_built()

    data, sql = _street(client)
    assert any("GROUP BY" in q for q in sql)
    assert data["properties"]["count"] == 6

    call_command("rebuild_map_cells", "--if-unbuilt")
    assert "rebuilt" in capsys.readouterr().out
    assert rollups.map_cells_built()
    assert list(MapCell.objects.filter(zoom__in=MapCell.ZOOM_SETS[0]).values_list()) == zoomed_out
    cache.clear()
    data, sql = _street(client)
    assert not any("GROUP BY" in q for q in sql)
    assert data["properties"]["count"] == 6
    call_command("rebuild_map_cells", "--if-unbuilt")
    assert "nothing to do" in capsys.readouterr().out
