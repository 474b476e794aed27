"""Clusters carry the mix of their statuses: exact per-status counts for a fixture, the same
whether the map groups the issues itself or reads the counters kept by every write, and those
counters equal a rebuild of the map's cells."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from issues import services
from issues.dashboards import recount, rollups
from issues.models import MapCell, Status
from tests.factories import make_issue

URL = reverse("issues:viewport")
CHICAGO = "-87.94,41.64,-87.52,42.03"
# Nine issues a few metres apart (one cluster at any zoomed-out level) and, far off, two more.
BLOCK = [(41.8800 + i * 0.0001, -87.6300) for i in range(9)]
NORTH = [(41.9700, -87.7000), (41.9701, -87.7000)]


@pytest.fixture
def statuses(service_type, staff_user, chicago_wards):
    block = [make_issue(service_type, point=p) for p in BLOCK]
    north = [make_issue(service_type, point=p) for p in NORTH]
    for issue in block[:2]:
        services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff_user)
    for issue in block[2:5]:
        services.change_status(issue=issue, to=Status.IN_PROGRESS, by=staff_user)
    services.change_status(issue=block[5], to=Status.CLOSED, by=staff_user)
    # A hidden issue is in no count, whatever its status.
    services.set_hidden(target=block[6], hidden=True, by=staff_user, reason="Abuse")
    services.change_status(issue=north[0], to=Status.CLOSED, by=staff_user)
    return block, north


EXPECTED_BLOCK = {"open": 2, "acknowledged": 2, "in_progress": 3, "closed": 1, "archived": 0}
EXPECTED_NORTH = {"open": 1, "acknowledged": 0, "in_progress": 0, "closed": 1, "archived": 0}


def clusters(client, zoom: int = 11) -> dict[int, dict]:
    cache.clear()  # the grouped cells are cached for a minute
    data = client.get(URL, {"bbox": CHICAGO, "zoom": zoom}).json()
    found = [f["properties"] for f in data["features"] if f["properties"].get("cluster")]
    return {p["count"]: p["statuses"] for p in found}


def cell_rows() -> list[tuple]:
    fields = ("zoom", "cell_row", "cell_col", "n", "id_sum", *MapCell.STATUS_COUNTERS)
    return sorted(MapCell.objects.exclude(zoom=MapCell.BUILT).filter(n__gt=0).values_list(*fields))


@pytest.mark.django_db
def test_each_cluster_counts_its_statuses_exactly(client, statuses):
    assert not rollups.map_cells_built()  # the map groups the issues itself
    assert clusters(client) == {8: EXPECTED_BLOCK, 2: EXPECTED_NORTH}
    # Each cluster's statuses add up to its count, at every clustered zoom.
    for zoom in (5, 9, 11, 13):
        for count, mix in clusters(client, zoom).items():
            assert sum(mix.values()) == count


@pytest.mark.django_db
def test_the_counters_give_the_same_mix_and_equal_a_rebuild(client, statuses, staff_user):
    kept_by_writes = cell_rows()
    recount.rebuild_map_cells()
    assert cell_rows() == kept_by_writes
    assert clusters(client) == {8: EXPECTED_BLOCK, 2: EXPECTED_NORTH}
    # A write after the rebuild moves a count from one status to another, in step.
    block, _north = statuses
    services.change_status(issue=block[0], to=Status.CLOSED, by=staff_user)
    moved = {**EXPECTED_BLOCK, "acknowledged": 1, "closed": 2}  # block[0] was acknowledged
    assert clusters(client)[8] == moved
    kept_by_writes = cell_rows()
    recount.rebuild_map_cells()
    assert cell_rows() == kept_by_writes


@pytest.mark.django_db
def test_a_filtered_map_counts_the_statuses_it_shows(client, statuses):
    cache.clear()
    data = client.get(URL, {"bbox": CHICAGO, "zoom": 11, "status": "open"}).json()
    mixes = [
        f["properties"]["statuses"] for f in data["features"] if f["properties"].get("cluster")
    ]
    assert {"open": 2, "acknowledged": 2, "in_progress": 3, "closed": 0, "archived": 0} in mixes
