"""Assets through Open311: the service definition asks for asset_id, a POST names the asset with
attribute[asset_id], extensions show it, and the read-only assets.json extension (schemathesis
checks it against the OpenAPI document)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from issues.models import Issue
from tests.factories import CITY_HALL, assets_along, make_layer, make_service_type
from tests.open311.test_clients import run_schemathesis

pytestmark = pytest.mark.django_db


@pytest.fixture
def lights(department, wards):
    layer = make_layer("Street lights", adoptable=True, max_adopters=1, care_task="Check it works")
    light_out = make_service_type(department, code="street-light-out", name="Street Light Out")
    light_out.asset_layer = layer
    light_out.save()
    lamps = assets_along(layer, 6)
    lamps[0].attributes = {"LAMP": "LED", "pole height (ft)": "30"}
    lamps[0].save()
    return layer


def post(client, api_key, **data):
    form = {
        "api_key": api_key.raw,
        "service_code": "street-light-out",
        "description": "Out",
        **data,
    }
    return client.post("/open311/v2/requests.json", form)


def test_a_type_with_a_layer_asks_for_the_asset_id(client, lights):
    definition = client.get("/open311/v2/services/street-light-out.json").json()
    [asked] = definition["attributes"]
    assert asked["code"] == "asset_id" and asked["datatype"] == "string" and not asked["required"]
    assert "assets.json?layer=" in asked["datatype_description"]
    services = {s["service_code"]: s for s in client.get("/open311/v2/services.json").json()}
    assert services["street-light-out"]["metadata"] is True


def test_a_post_names_the_asset_and_needs_no_other_location(client, lights, api_key):
    response = post(client, api_key, **{"attribute[asset_id]": "4"})
    assert response.status_code == 200, response.content
    issue = Issue.objects.get(public_id=response.json()[0]["service_request_id"])
    assert issue.asset.source_id == "4" and issue.attributes == {}
    assert (issue.latitude, issue.longitude) == (issue.asset.latitude, issue.asset.longitude)
    detail = client.get(f"/open311/v2/requests/{issue.public_id}.json?extensions=true").json()[0]
    assert detail["extended_attributes"]["asset"] == {
        "asset_id": "4",
        "layer": lights.slug,
        "name": "Pole 4",
    }


def test_an_unknown_asset_is_a_400_that_says_so_and_stores_nothing(client, lights, api_key):
    response = post(
        client,
        api_key,
        lat=str(CITY_HALL[0]),
        long=str(CITY_HALL[1]),
        **{"attribute[asset_id]": "99"},
    )
    assert response.status_code == 400
    assert "is not the id of one of the street lights" in response.json()[0]["description"]
    assert not Issue.objects.filter(asset__isnull=False).exists()


def test_a_type_without_a_layer_refuses_the_asset_attribute(client, lights, api_key, pothole):
    response = post(
        client,
        api_key,
        service_code="pothole",
        lat=str(CITY_HALL[0]),
        long=str(CITY_HALL[1]),
        **{"attribute[SIZE]": "small", "attribute[asset_id]": "4"},
    )
    assert response.status_code == 400
    assert "asset_id" in response.json()[0]["description"]


def test_requests_without_an_asset_say_null_in_the_extensions(client, city):
    rows = client.get("/open311/v2/requests.json?extensions=true").json()
    assert {row["extended_attributes"]["asset"] for row in rows} == {None}


def test_assets_json_finds_the_nearest_assets_of_a_layer(client, lights):
    response = client.get(
        "/open311/v2/assets.json",
        {"layer": lights.slug, "lat": CITY_HALL[0], "long": CITY_HALL[1], "radius": 80},
    )
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    assets = response.json()
    assert [a["asset_id"] for a in assets] == ["1", "2", "3"]  # 0, 33 and 67 m away
    first = assets[0]
    assert first["service_codes"] == ["street-light-out"]
    assert (
        first["ward"] == 42 and first["adoptable"] and first["available"] and first["adopters"] == 0
    )
    assert first["url"] == f"http://testserver/assets/{lights.slug}/1/"
    assert {"code": "pole height (ft)", "value": "30"} in first["attributes"]


def test_assets_json_pages_and_links_the_next_page(client, lights):
    response = client.get("/open311/v2/assets.json", {"page_size": 4})
    assert len(response.json()) == 4 and 'rel="next"' in response["Link"]
    rest = client.get("/open311/v2/assets.json", {"page_size": 4, "page": 2})
    assert len(rest.json()) == 2 and "Link" not in rest


def test_assets_xml_is_well_formed_whatever_the_attribute_names(client, lights):
    response = client.get("/open311/v2/assets.xml", {"layer": lights.slug})
    root = ET.fromstring(response.content)  # noqa: S314 (our own server's output)
    assert root.tag == "assets" and len(root.findall("asset")) == 6
    codes = [a.findtext("code") for a in root.find("asset").find("attributes")]
    assert "pole height (ft)" in codes


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ({"layer": "nope"}, 404, "layer “nope” was not found"),
        ({"lat": "41.8"}, 400, "needs lat, long and radius"),
        (
            {"lat": "41.8", "long": "-87.6", "radius": "99999"},
            400,
            "radius must be a number between 0 and 5000",
        ),
        ({"page_size": "0"}, 400, "page_size must be between"),
    ],
)
def test_assets_json_refuses_what_it_cannot_read(client, lights, query, status, says):
    response = client.get("/open311/v2/assets.json", query)
    assert response.status_code == status
    assert says in json.dumps(response.json(), ensure_ascii=False)


def test_the_openapi_document_describes_assets_json(client, lights):
    document = client.get("/open311/v2/openapi.json").json()
    operation = document["paths"]["/open311/v2/assets.json"]["get"]
    assert operation["operationId"] == "listAssets"
    assert {p["name"] for p in operation["parameters"]} >= {"layer", "lat", "long", "radius"}
    assert "Asset" in document["components"]["schemas"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_errors_in_assets_json_or_in_posts_naming_assets(
    live_server, lights, city, api_key, tmp_path
):
    run_schemathesis(live_server, api_key, tmp_path, examples=5)
