"""The zoomed-out map reads counters kept in step with every write (issues.models.MapCell), not a
GROUP BY over every issue; until they are built it groups the issues as before. That the counters
equal a rebuild after every kind of write is test_rollups.py's
test_rollup_equals_a_rebuild_after_every_kind_of_write (MapCell is in rollups.LAYOUT)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
@pytest.mark.parametrize("zoom", [3, 9, 11, 13, 15])
def test_counters_answer_as_the_grouping_of_every_issue_did(
    client, service_type, staff_user, chicago_wards, zoom
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
