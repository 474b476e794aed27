"""/places/search, /places/reverse and the results page through the test client: Nominatim's
JSON shape, each result's ward, and bad input answered with a reason, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


def test_search_answers_in_nominatims_shape_with_the_ward(client, gazetteer):
    response = client.get("/places/search", {"q": "Ashland & Addison"})
    assert response.status_code == 200
    first = response.json()[0]
    assert first["display_name"] == "N Ashland Ave & W Addison St"
    assert (first["lat"], first["lon"]) == ("41.946990", "-87.668860")
    assert first["type"] == "intersection" and first["ward"]["number"] == 47
    assert len(client.get("/places/search", {"q": "ashland"}).json()) == 10


def test_reverse_names_the_point_and_its_ward(client, gazetteer):
    body = client.get("/places/reverse", {"lat": "41.94699", "lon": "-87.66850"}).json()
    assert body["display_name"] == "near N Ashland Ave & W Addison St"
    assert body["in_city"] is True and body["ward"]["number"] == 47


def test_a_pin_in_the_lake_is_flagged_as_outside_every_ward(client, gazetteer):
    body = client.get("/places/reverse", {"lat": "41.90", "lon": "-87.50"}).json()
    assert body["in_city"] is False and body["ward"] is None


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "?!.,;"},
        {"q": "zzqxv & qqqzzv"},
        {"q": "' OR 1=1 --"},
        {"q": "<script>alert(1)</script>"},
        {"q": "\x00"},
        {"q": "ashland", "limit": "lots"},
    ],
)
def test_search_bad_input_is_an_empty_result(client, gazetteer, params):
    response = client.get("/places/search", params)
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_a_500_character_query_is_refused_with_a_reason(client, gazetteer):
    response = client.get("/places/search", {"q": "x" * 500})
    assert response.status_code == 400 and "too long" in response.json()["error"]
    page = client.get("/places/", {"q": "x" * 500})
    assert page.status_code == 400 and "too long" in page.content.decode()


@pytest.mark.parametrize(
    "params",
    [{}, {"lat": "91", "lon": "0"}, {"lat": "0", "lon": "-181"}, {"lat": "a", "lon": "b"},
     {"lat": "nan", "lon": "1"}, {"lat": "1e400", "lon": "1"}],
)  # fmt: skip
def test_reverse_bad_coordinates_are_refused_with_a_reason(client, gazetteer, params):
    response = client.get("/places/reverse", params)
    assert response.status_code == 400 and response.json()["error"]


def test_the_results_page_works_without_javascript(client, gazetteer):
    html = client.get("/places/", {"q": "ashland and addison"}).content.decode()
    assert "N Ashland Ave &amp; W Addison St" in html and "Ward 47" in html
    assert "/report/?latitude=41.946990&amp;longitude=-87.668860&amp;address=N+Ashland" in html
    html = client.get("/places/", {"q": "no such street anywhere"}).content.decode()
    assert "No street, address or intersection matches" in html


def test_the_search_box_is_above_the_maps(client, gazetteer, service_type):
    for url in ("/", "/report/"):
        html = client.get(url).content.decode()
        assert 'action="/places/"' in html and "Street, address or intersection" in html
