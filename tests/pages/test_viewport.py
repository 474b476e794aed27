"""The viewport endpoint: GeoJSON for a box, clusters when zoomed out, capped, 400 for bad input."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from departments import geo
from issues import selectors, services
from tests.factories import CITY_HALL, make_issue

URL = reverse("issues:viewport")
CHICAGO = "-88.0,41.6,-87.5,42.1"
LOOP = "-87.640,41.878,-87.625,41.890"


def _spread(service_type, n, start=(41.880, -87.635), step=0.0004):
    return [
        make_issue(service_type, point=(start[0] + i * step, start[1] + i * step)) for i in range(n)
    ]


@pytest.mark.django_db
def test_street_zoom_returns_individual_issues_with_public_properties(client, service_type):
    issue = make_issue(service_type, point=CITY_HALL, address="121 N LaSalle St")
    response = client.get(URL, {"bbox": LOOP, "zoom": 17})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert data["type"] == "FeatureCollection"
    [feature] = data["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [CITY_HALL[1], CITY_HALL[0]]}
    props = feature["properties"]
    assert props["id"] == issue.public_id
    assert props["url"] == issue.get_absolute_url()
    assert props["status"] == "open"
    assert props["status_label"] == "New"
    assert props["service_name"] == "Pothole in Street"
    assert props["service_code"] == "pothole"
    assert props["address"] == "121 N LaSalle St"
    assert props["requested"].startswith(str(issue.requested_at.year))
    # Nothing private travels with a feature.
    assert "reporter" not in str(props) and "email" not in str(props)


@pytest.mark.django_db
def test_low_zoom_aggregates_into_grid_clusters_with_counts(client, service_type):
    _spread(service_type, 6, step=0.0002)  # all within one cell at zoom 10
    make_issue(service_type, point=(41.97, -87.70))  # far away, alone in its cell
    data = client.get(URL, {"bbox": CHICAGO, "zoom": 10}).json()
    clusters = [f for f in data["features"] if f["properties"].get("cluster")]
    singles = [f for f in data["features"] if not f["properties"].get("cluster")]
    assert [c["properties"]["count"] for c in clusters] == [6]
    lon, lat = clusters[0]["geometry"]["coordinates"]
    assert 41.880 <= lat <= 41.882 and -87.635 <= lon <= -87.633
    # A cell holding one issue is that issue, ready to click.
    assert len(singles) == 1 and singles[0]["properties"]["id"]
    assert data["properties"]["clustered"] is True
    assert data["properties"]["count"] == 7


@pytest.mark.django_db
def test_never_more_features_than_the_cap(client, service_type, monkeypatch):
    monkeypatch.setattr(geo, "MAP_FEATURE_CAP", 3)
    _spread(service_type, 8, step=0.01)  # eight separate cells at zoom 12
    for zoom in (12, 18):
        data = client.get(URL, {"bbox": CHICAGO, "zoom": zoom}).json()
        assert len(data["features"]) <= 3
    # At street zoom, too many issues in the box fall back to clusters rather than truncating.
    assert client.get(URL, {"bbox": CHICAGO, "zoom": 18}).json()["properties"]["clustered"]


@pytest.mark.django_db
def test_a_box_holding_the_cap_shows_issues_and_one_more_clusters_them(
    client, service_type, staff_user, monkeypatch
):
    monkeypatch.setattr(geo, "MAP_FEATURE_CAP", 3)
    issues = _spread(service_type, 4, step=0.01)
    # A hidden issue is not counted towards the cap.
    services.set_hidden(target=issues[-1], hidden=True, by=staff_user, reason="spam")
    data = client.get(URL, {"bbox": CHICAGO, "zoom": 18}).json()
    assert data["properties"]["clustered"] is False
    assert len(data["features"]) == 3
    services.set_hidden(target=issues[-1], hidden=False, by=staff_user, reason="")
    cache.clear()
    assert client.get(URL, {"bbox": CHICAGO, "zoom": 18}).json()["properties"]["clustered"]


@pytest.mark.django_db
def test_hidden_issues_and_issues_outside_the_box_are_left_out(client, service_type, staff_user):
    shown = make_issue(service_type, point=CITY_HALL)
    hidden = make_issue(service_type, point=(41.8840, -87.6320))
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="spam")
    make_issue(service_type, point=(41.97, -87.70))
    data = client.get(URL, {"bbox": LOOP, "zoom": 18}).json()
    assert [f["properties"]["id"] for f in data["features"]] == [shown.public_id]


@pytest.mark.django_db
def test_filters_apply_to_the_map(client, service_type, graffiti_type, staff_user):
    pothole = make_issue(service_type, point=CITY_HALL)
    tag = make_issue(graffiti_type, point=(41.8837, -87.6321))
    services.change_status(issue=tag, to="closed", by=staff_user)
    ids = lambda params: {  # noqa: E731
        f["properties"]["id"]
        for f in client.get(URL, {"bbox": LOOP, "zoom": 18, **params}).json()["features"]
    }
    assert ids({"type": "pothole"}) == {pothole.public_id}
    assert ids({"status": "closed"}) == {tag.public_id}
    assert ids({"status": "open", "type": "graffiti-x"}) == set()


@pytest.fixture
def graffiti_type(department):
    from tests.factories import make_service_type

    return make_service_type(department, code="graffiti-x", name="Graffiti")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"bbox": "nonsense", "zoom": 12},
        {"bbox": "1,2,3", "zoom": 12},
        {"bbox": "a,b,c,d", "zoom": 12},
        {"bbox": "nan,41,-87,42", "zoom": 12},
        {"bbox": "-87,42,-88,41", "zoom": 12},  # west east of east
        {"bbox": "-88,42,-87,41", "zoom": 12},  # south north of north
        {"bbox": CHICAGO, "zoom": "twelve"},
        {"bbox": CHICAGO, "zoom": 99},
        {"bbox": CHICAGO, "zoom": -1},
        {"bbox": CHICAGO, "zoom": 12, "status": "lost"},
        {"bbox": CHICAGO, "zoom": 12, "start": "yesterday"},
    ],
)
@pytest.mark.django_db
def test_bad_viewport_input_is_a_400_with_an_explanation(client, params):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


@pytest.mark.django_db
def test_longitudes_past_the_antimeridian_are_clamped_not_refused(client, service_type):
    make_issue(service_type, point=CITY_HALL)
    response = client.get(URL, {"bbox": "-200,-95,200,95", "zoom": 2})
    assert response.status_code == 200, response.content
    assert response.json()["properties"]["count"] == 1


@pytest.mark.django_db
def test_viewport_query_count_is_constant(client, service_type, django_assert_num_queries):
    _spread(service_type, 12, step=0.003)
    # Clusters from the counters (issues.models.MapCell): whether they are built, then the cells,
    # plus one for the cells holding a single issue (read fresh); issues one by one in three at
    # the street zooms the counters keep: whether built, the box's cells with how many they
    # hold (so a crowded box reads no issues), then the rows; in two above them: how many the
    # box holds (from the index), then the rows.
    for zoom, queries in ((10, 2), (13, 3), (16, 3), (18, 2)):
        with django_assert_num_queries(queries):
            assert client.get(URL, {"bbox": CHICAGO, "zoom": zoom}).status_code == 200


@pytest.mark.django_db
def test_a_cell_at_the_edge_of_the_view_counts_all_its_issues(client, service_type):
    size = selectors.cell_size(10)
    # Two issues in one cell, one each side of the view's western edge.
    cell_west = (-87.70 // size) * size
    make_issue(service_type, point=(41.88, cell_west + size * 0.2))
    make_issue(service_type, point=(41.88, cell_west + size * 0.8))
    edge = cell_west + size * 0.5
    data = client.get(URL, {"bbox": f"{edge},41.6,-87.5,42.1", "zoom": 10}).json()
    assert [f["properties"]["count"] for f in data["features"]] == [2]


@pytest.mark.django_db
def test_zoomed_out_answers_are_cached_briefly(client, service_type, django_assert_num_queries):
    make_issue(service_type, point=CITY_HALL)
    make_issue(service_type, point=(41.8837, -87.6321))
    client.get(URL, {"bbox": CHICAGO, "zoom": 10})
    with django_assert_num_queries(0):
        data = client.get(URL, {"bbox": CHICAGO, "zoom": 10}).json()
    assert data["properties"]["count"] == 2


@pytest.mark.django_db
def test_street_zoom_lists_newest_first_and_ties_by_the_later_report(
    client, service_type, staff_user
):
    from datetime import timedelta

    from django.utils import timezone

    from issues.models import Issue, Status

    older, tie_a, tie_b = _spread(service_type, 3, step=0.0002)
    at = timezone.now() - timedelta(days=1)
    Issue.objects.filter(pk__in=[tie_a.pk, tie_b.pk]).update(requested_at=at)
    Issue.objects.filter(pk=older.pk).update(requested_at=at - timedelta(hours=1))
    services.change_status(issue=older, to=Status.IN_PROGRESS, by=staff_user)
    features = client.get(URL, {"bbox": LOOP, "zoom": 18}).json()["features"]
    assert [f["properties"]["id"] for f in features] == [
        tie_b.public_id,
        tie_a.public_id,
        older.public_id,
    ]
    assert features[2]["properties"]["status_label"] == str(Status.IN_PROGRESS.label)
    assert features[0]["properties"]["requested"] == at.isoformat()


@pytest.mark.django_db
def test_a_lone_issue_in_a_cluster_view_has_the_street_view_properties(client, service_type):
    issue = make_issue(service_type, point=CITY_HALL, address="121 N LaSalle St")
    street = client.get(URL, {"bbox": LOOP, "zoom": 18}).json()["features"]
    clustered = client.get(URL, {"bbox": CHICAGO, "zoom": 10}).json()["features"]
    assert clustered == street
    assert street[0]["properties"]["url"] == issue.get_absolute_url()


@pytest.mark.django_db
def test_a_hidden_issue_leaves_the_clustered_map_at_once(client, service_type, staff_user):
    """Cluster counts may be a minute old, but what a count of one shows (id, address) is read
    fresh: moderation must take an issue's text off the map now, not in a minute."""
    hidden = make_issue(service_type, point=CITY_HALL, address="Offensive text here")
    make_issue(service_type, point=(41.95, -87.70))
    before = client.get(URL, {"bbox": CHICAGO, "zoom": 10}).content.decode()
    assert hidden.public_id in before

    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="abusive")

    after = client.get(URL, {"bbox": CHICAGO, "zoom": 10}).content.decode()
    assert hidden.public_id not in after
    assert "Offensive text here" not in after
