"""The list beside the map follows the map: a bbox (the box the map shows) narrows the home list,
server-side and as the ?fragment=list the map's script swaps in; the map's view (lat, lon, zoom)
is read from the query string, bad values are a 400 that says why; the first view is the city."""

import json
import re

import pytest
from django.urls import reverse

from departments.models import Ward
from tests.factories import CITY_HALL, make_issue, square_boundary

HOME = reverse("issues:home")
NORTH = (41.95, -87.65)  # Lakeview, far outside the box around City Hall
AROUND_CITY_HALL = "-87.640,41.878,-87.625,41.890"


@pytest.fixture
def two_places(service_type):
    here = make_issue(service_type, point=CITY_HALL, address="121 N LaSalle St")
    there = make_issue(service_type, point=NORTH, address="3300 N Clark St")
    return here, there


def map_config(html: str) -> dict:
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


@pytest.mark.django_db
def test_a_box_in_the_query_string_lists_only_its_issues_without_javascript(client, two_places):
    here, there = two_places
    html = client.get(HOME, {"bbox": AROUND_CITY_HALL}).content.decode()
    assert here.public_id in html and there.public_id not in html
    assert "1 issue, newest first" in html and "in the area the map shows" in html
    # The way back to the whole city, and a filter form that keeps the box.
    assert "Show the whole city" in html
    assert 'type="hidden" name="bbox" value="-87.640000,41.878000,-87.625000,41.890000"' in html
    # The box is where the map looks, not a filter the person chose.
    assert "filters__on" not in html
    whole = client.get(HOME).content.decode()
    assert here.public_id in whole and there.public_id in whole


@pytest.mark.django_db
def test_the_list_fragment_is_the_list_alone_for_the_box_and_the_filters(
    client, two_places, service_type
):
    here, there = two_places
    response = client.get(HOME, {"bbox": AROUND_CITY_HALL, "fragment": "list"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="home-list"')
    assert "<html" not in html and "map-config" not in html
    assert here.public_id in html and there.public_id not in html
    # Combined with a filter: the box's closed issues only (none).
    closed = client.get(
        HOME, {"bbox": AROUND_CITY_HALL, "status": "closed", "fragment": "list"}
    ).content.decode()
    assert here.public_id not in closed and "0 issues" in closed


@pytest.mark.django_db
def test_the_list_fragment_pages_link_to_the_whole_page(client, service_type):
    for i in range(21):
        make_issue(service_type, point=(CITY_HALL[0] + i * 0.0001, CITY_HALL[1]))
    html = client.get(HOME, {"bbox": AROUND_CITY_HALL, "fragment": "list"}).content.decode()
    [older] = re.findall(r'rel="next" href="([^"]+)"', html)
    assert "fragment" not in older and "bbox=" in older and "page=2" in older


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, says",
    [
        ({"bbox": "1,2,3"}, "bbox must be four numbers"),
        ({"bbox": "a,b,c,d"}, "bbox must be four numbers"),
        ({"bbox": "10,0,5,1"}, "within the globe"),
        ({"bbox": "nan,nan,nan,nan"}, "within the globe"),
        ({"lat": "north", "lon": "-87.6"}, "lat and lon must both be numbers"),
        ({"lat": "41.8"}, "lat and lon must both be numbers"),
        ({"lat": "95", "lon": "-87.6"}, "lat must be within"),
        ({"zoom": "99"}, "zoom must be a whole number from 0 to 22"),
        ({"zoom": "x"}, "zoom must be a whole number"),
        ({"fragment": "map"}, "fragment must be"),
    ],
)
def test_bad_map_parameters_are_a_400_that_says_why(client, params, says):
    for extra in ({}, {"fragment": "list"}):
        response = client.get(HOME, {**extra, **params})
        assert response.status_code == 400, params
        assert says in response.content.decode()


@pytest.mark.django_db
def test_the_map_opens_where_the_query_string_says(client, two_places):
    config = map_config(
        client.get(HOME, {"lat": "41.88", "lon": "-87.63", "zoom": "15"}).content.decode()
    )
    assert config["view"] == {"center": [41.88, -87.63], "zoom": 15}
    assert config["listUrl"] == HOME
    # A filter and the view together: the map's issues keep the filter.
    config = map_config(
        client.get(
            HOME, {"lat": "41.88", "lon": "-87.63", "zoom": "15", "status": "open"}
        ).content.decode()
    )
    assert config["filters"] == {"status": "open"}


@pytest.mark.django_db
def test_the_first_view_fits_the_city_its_wards_cover(client):
    assert map_config(client.get(HOME).content.decode())["cityBounds"] is None
    Ward.objects.create(number=1, name="One", boundary=square_boundary(41.8, -87.7, 0.05))
    Ward.objects.create(number=2, name="Two", boundary=square_boundary(41.9, -87.6, 0.05))
    config = map_config(client.get(HOME).content.decode())
    west, south, east, north = config["cityBounds"]
    assert (west, south, east, north) == pytest.approx((-87.75, 41.75, -87.55, 41.95))
    assert config["view"] == {"center": None, "zoom": None}
