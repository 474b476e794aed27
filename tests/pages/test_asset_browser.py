"""Assets in headless Chromium: a resident picks a street light on the map (by mouse and by
keyboard) and from the list, and reports it; a neighbour adopts a shelter and logs a visit; the
asset pages pass axe."""

from __future__ import annotations

import pytest
from django.conf import settings

from departments.models import Department, Ward
from issues.models import Adoption, Issue, Visit
from tests.browser_support import serious_axe_violations
from tests.factories import (
    assets_along,
    make_asset,
    make_layer,
    make_service_type,
    make_user,
    square_boundary,
)
from tests.pages.conftest import jpeg_bytes
from tests.pages.test_browser import _sign_in

pytestmark = pytest.mark.browser

CENTRE = (settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON)  # where the report map opens


@pytest.fixture
def lights(transactional_db):
    """Eight street lights going north from the map's centre, about 33 m apart."""
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CENTRE, 0.05))
    cdot = Department.objects.create(name="Transportation", slug="cdot")
    layer = make_layer("Street lights")
    light_out = make_service_type(cdot, code="street-light-out", name="Street Light Out")
    light_out.asset_layer = layer
    light_out.save()
    make_service_type(cdot, code="pothole", name="Pothole in Street")
    assets_along(layer, 8, start=CENTRE)
    return layer


def _checked_light(page) -> str:
    return page.locator("#asset-picker input[name=asset]:checked").get_attribute("value")


def test_a_resident_picks_a_light_on_the_map_and_from_the_list_and_reports_it(
    page, live_server, lights
):
    page.goto(live_server.url + "/report/")
    box = page.locator("#report-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("#id_service_code").select_option("street-light-out")
    page.locator("#asset-fieldset").wait_for()
    assert page.locator("#asset-picker input[name=asset]").count() == 6  # five and "none"

    # Zoomed in to the street, the layer's lights are markers; a click picks one.
    page.evaluate(f"CivicReport.map.setView([{CENTRE[0] + 0.0005}, {CENTRE[1]}], 18)")
    page.wait_for_selector("#report-map .asset-marker")
    page.locator("#report-map .asset-marker[title='street light 4: Pole 4']").click()
    page.wait_for_function(
        "() => document.querySelector('#asset-picker input[value=\"4\"]:checked')"
    )
    assert "street light 4: Pole 4" in page.locator("p[role=status]").last.inner_text()
    assert page.locator("#id_latitude").input_value() == f"{CENTRE[0] + 3 * 0.0003:.6f}"

    # A keyboard user tabs to a marker and presses Enter.
    page.wait_for_selector("#report-map .asset-marker[title='street light 5: Pole 5']")
    page.locator("#report-map .asset-marker[title='street light 5: Pole 5']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#asset-picker input[value=\"5\"]:checked')"
    )

    # The list: a screen reader's way, and the one without a mouse on the map.
    page.get_by_label("Pole 3", exact=False).check()
    assert _checked_light(page) == "3"
    page.wait_for_selector("#report-map .asset-marker--chosen")
    assert serious_axe_violations(page) == []

    page.locator("#id_description").fill("Dark all night")
    page.locator("#id_email").fill("walker@example.net")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url("**/issues/*/?new=1")
    issue = Issue.objects.get()
    assert issue.asset.source_id == "3" and issue.asset.layer == lights


def test_a_neighbour_adopts_a_shelter_and_logs_a_visit(page, live_server, transactional_db):
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CENTRE, 0.05))
    layer = make_layer(
        "Bus shelters",
        asset_label="bus shelter",
        asset_label_plural="bus shelters",
        adoptable=True,
        care_task="Clean the shelter and pick up litter",
    )
    shelter = make_asset(layer, "1412", point=CENTRE, name="State & Madison", kind="shelter")
    person = make_user("nadia@example.org", display_name="Nadia", email_verified=True)
    _sign_in(page, live_server, person)

    page.goto(f"{live_server.url}/assets/{layer.slug}/{shelter.source_id}/")
    assert serious_axe_violations(page) == []
    page.get_by_role("link", name="Adopt this bus shelter").click()
    assert "Clean the shelter and pick up litter" in page.content()
    page.get_by_label("I agree to do this").check()
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Adopt this bus shelter").click()
    page.get_by_text("You look after it:").wait_for()

    page.get_by_role("link", name="Log a visit").click()
    page.get_by_label("Cleaned it").check()
    page.get_by_label("A note (optional)").fill("Swept the glass and emptied the bin.")
    page.locator("#id_photo").set_input_files(
        files=[{"name": "clean.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((400, 300))}]
    )
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Log my visit").click()
    page.get_by_text("Your visit is logged").wait_for()
    assert "Swept the glass and emptied the bin." in page.content()
    page.wait_for_function("() => document.querySelector('.visit-list img').naturalWidth > 0")
    assert serious_axe_violations(page) == []
    assert Adoption.objects.get().adopter.user == person and Visit.objects.get().image


def test_a_layers_map_and_the_ward_figures_pass_axe(page, live_server, lights):
    for path in (f"/assets/{lights.slug}/", f"/assets/{lights.slug}/wards/", "/assets/"):
        page.goto(live_server.url + path)
        assert serious_axe_violations(page) == [], path
    page.goto(f"{live_server.url}/assets/{lights.slug}/")
    page.wait_for_selector("#asset-layer-map[data-loaded]")
