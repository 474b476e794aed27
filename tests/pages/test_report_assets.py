"""Reporting against an asset through the web form: the nearest five without JavaScript, the
fragment the script refreshes, the layer's map, the asset stored with the report, and "this
light is already reported"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import Ward
from issues.models import Issue
from tests.factories import (
    CITY_HALL,
    assets_along,
    make_issue,
    make_layer,
    make_service_type,
    square_boundary,
)

pytestmark = pytest.mark.django_db

PIN = {"latitude": f"{CITY_HALL[0]:.6f}", "longitude": f"{CITY_HALL[1]:.6f}"}


@pytest.fixture
def lights(department):
    """Eight street lights going north from City Hall, about 33 m apart, and the type
    "Street Light Out" reported against them."""
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL, 0.05))
    layer = make_layer("Street lights")
    light_out = make_service_type(department, code="street-light-out", name="Street Light Out")
    light_out.asset_layer = layer
    light_out.save()
    assets_along(layer, 8)
    return layer


def report(client, **data):
    form = {
        "service_code": "street-light-out",
        **PIN,
        "description": "Dark all night",
        "email": "pat@example.net",
        **data,
    }
    return client.post(reverse("issues:report"), form)


def test_a_type_with_a_layer_lists_the_five_nearest_assets_without_javascript(client, lights):
    page = client.get(reverse("issues:report"), {"type": "street-light-out", **PIN})
    html = page.content.decode()
    assert "Which street light is it?" in html
    options = page.context["assets"].options
    assert [a.source_id for a in options] == ["1", "2", "3", "4", "5"]
    assert [a.distance_m for a in options] == [0, 33, 67, 100, 133]
    assert 'name="asset" value="1"' in html and 'id="asset-none"' in html


def test_without_a_pin_the_picker_asks_for_one_and_the_no_javascript_reload_fills_it(
    client, lights
):
    page = client.get(reverse("issues:report"), {"type": "street-light-out"})
    assert "Put the pin on the map" in page.content.decode()
    reloaded = client.post(
        reverse("issues:report"), {"service_code": "street-light-out", **PIN, "choose_type": "1"}
    )
    assert reloaded.status_code == 200
    assert len(reloaded.context["assets"].options) == 5


def test_a_type_without_a_layer_shows_no_picker(client, lights, service_type):
    page = client.get(reverse("issues:report"), {"type": service_type.service_code, **PIN})
    assert "asset-fieldset" not in page.content.decode()


def test_the_fragment_the_script_loads_is_the_same_list(client, lights):
    fragment = client.get(
        reverse("issues:report_assets"), {"type": "street-light-out", **PIN, "asset": "7"}
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    # A light picked on the map further away is listed (and checked) with the nearest five.
    assert [a.source_id for a in fragment.context["assets"].options] == [
        "7",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert 'value="7" id="asset-1" data-lat' in html and "checked" in html
    assert client.get(reverse("issues:report_assets"), {"type": "nope"}).status_code == 400


def test_a_report_names_the_picked_light_and_sits_on_its_point(client, lights):
    response = report(client, asset="3")
    issue = Issue.objects.get()
    assert response.status_code == 302
    assert issue.asset.source_id == "3" and issue.asset.layer == lights
    assert (issue.latitude, issue.longitude) == (issue.asset.latitude, issue.asset.longitude)
    page = client.get(issue.get_absolute_url()).content.decode()
    assert f'href="/assets/{lights.slug}/3/">Pole 3</a>' in page  # the public page names it


def test_an_unknown_asset_is_refused_with_a_message_and_nothing_is_stored(client, lights):
    response = report(client, asset="999")
    assert response.status_code == 400
    assert "There is no street light “999”" in response.content.decode()
    assert not Issue.objects.exists()


def test_none_of_these_sends_the_report_with_the_pin_alone(client, lights):
    report(client, asset="")
    issue = Issue.objects.get()
    assert issue.asset is None and issue.latitude == pytest.approx(CITY_HALL[0])


def test_a_light_already_reported_is_shown_before_a_second_report(client, lights):
    light_out = lights.service_types.get()
    first = make_issue(light_out, point=CITY_HALL, asset=lights.assets.get(source_id="3"))
    picker = client.get(reverse("issues:report"), {"type": "street-light-out", **PIN})
    assert "This street light is already reported:" in picker.content.decode()
    asked = report(client, asset="3")
    html = asked.content.decode()
    assert asked.status_code == 200 and asked.context["duplicate_check"]
    assert "This street light (Pole 3) is already reported" in html and first.public_id in html
    assert Issue.objects.count() == 1
    report(client, asset="3", not_duplicate="1")
    assert Issue.objects.filter(asset__source_id="3").count() == 2


def test_the_layers_map_clusters_when_zoomed_out_and_lists_lights_when_zoomed_in(client, lights):
    url = reverse("issues:asset_map", args=[lights.slug])
    box = f"{CITY_HALL[1] - 0.01},{CITY_HALL[0] - 0.01},{CITY_HALL[1] + 0.01},{CITY_HALL[0] + 0.01}"
    far = client.get(url, {"bbox": box, "zoom": 11}).json()
    assert far["properties"]["clustered"] and far["features"][0]["properties"]["count"] == 8
    near = client.get(url, {"bbox": box, "zoom": 18}).json()
    assert not near["properties"]["clustered"]
    first = near["features"][0]["properties"]
    assert first["id"] == "1" and first["url"] == f"/assets/{lights.slug}/1/"
    assert first["available"] is False  # the layer is not adoptable


def test_the_layers_map_refuses_a_bad_box_and_an_unknown_layer(client, lights):
    url = reverse("issues:asset_map", args=[lights.slug])
    assert client.get(url, {"bbox": "1,2,3"}).status_code == 400
    assert (
        client.get(reverse("issues:asset_map", args=["nope"]), {"bbox": "1,2,3,4"}).status_code
        == 404
    )
