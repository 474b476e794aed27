"""A new resident in headless Chromium: types a place above the report map, chooses a
suggestion with the keyboard, sees the pin and its name, and sends the report; a pin dropped in
the lake is flagged at once. axe on the page with the suggestions open."""

import re

import pytest

from departments import services as department_services
from departments.demo import WARDS_FILE, DemoReport, load_wards
from departments.models import Department
from issues.models import Issue
from tests.browser_support import serious_axe_violations
from tests.factories import make_issue, make_service_type, make_user
from tests.places.small import load_small_gazetteer

pytestmark = pytest.mark.browser


@pytest.fixture
def city(transactional_db, tmp_path):
    load_wards(DemoReport(), WARDS_FILE)
    load_small_gazetteer(tmp_path)
    department = Department.objects.create(name="Transportation", slug="cdot")
    return make_service_type(department, code="pothole", name="Pothole in Street")


def test_type_choose_see_the_pin_and_its_name_then_send(page, live_server, city):
    page.goto(live_server.url + "/report/")
    box = page.get_by_role("combobox", name="Street, address or intersection")
    box.press_sequentially("ashland & addi", delay=30)
    option = page.get_by_role("option", name=re.compile("N Ashland Ave & W Addison St"))
    option.wait_for()
    assert page.locator("#place-q-status").text_content().startswith("1 ")
    assert serious_axe_violations(page) == []
    box.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_function("document.getElementById('id_latitude').value === '41.946990'")
    assert page.locator("#id_longitude").input_value() == "-87.668860"
    page.locator("#pin-place").filter(has_text="Ward 47").wait_for()
    assert page.locator("#id_address").input_value() == "N Ashland Ave & W Addison St"
    assert page.locator("#report-map .leaflet-marker-icon").count() == 1
    page.locator("#id_service_code").select_option("pothole")
    page.locator("#id_description").fill("Deep hole at the corner")
    page.locator("#id_email").fill("newcomer@example.net")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url("**/issues/*/?new=1")
    issue = Issue.objects.get()
    assert issue.address == "N Ashland Ave & W Addison St" and issue.ward.number == 47


def test_a_pin_outside_every_ward_is_flagged_the_moment_it_lands(page, live_server, city):
    page.goto(live_server.url + "/report/")
    page.wait_for_function("window.CivicReport && window.CivicReport.map")
    page.evaluate("window.CivicReport.setPoint(L.latLng(41.90, -87.50), true)")  # the lake
    warning = page.locator("#pin-place")
    warning.filter(has_text="outside every ward").wait_for()
    assert warning.get_by_role("link", name="Move it on the map").get_attribute("href") == (
        "#report-map"
    )


def test_staff_correct_the_place_with_the_same_search(page, live_server, city):
    sam = make_user("sam@city.example", password="correct-horse-battery", display_name="Sam")
    department_services.add_staff(department=city.department, user=sam)
    lost = make_issue(city, point=(41.5, -88.5), source="open311", description="Lost one")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/admin/issues/issue/")
    page.fill("#id_username", "sam@city.example")
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/issues/issue/")
    page.goto(f"{live_server.url}/admin/issues/issue/{lost.pk}/change/")
    box = page.get_by_role("combobox", name="Street, address or intersection")
    box.press_sequentially("kedzie and north", delay=30)
    page.get_by_role("option", name=re.compile("N Kedzie Ave & W North Ave")).click()
    assert page.input_value("#cf-place-form input[name=address]") == "N Kedzie Ave & W North Ave"
    page.click("#cf-place-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    lost.refresh_from_db()
    assert lost.ward.number == 26 and lost.address == "N Kedzie Ave & W North Ave"


def test_choosing_a_place_on_the_home_page_moves_the_map_there(page, live_server, city):
    page.goto(live_server.url + "/")
    box = page.get_by_role("combobox", name="Street, address or intersection")
    box.press_sequentially("kedzie & north", delay=30)
    page.get_by_role("option", name=re.compile("N Kedzie Ave & W North Ave")).wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_function("window.CivicHomeMap && window.CivicHomeMap.getZoom() === 17")
    centre = page.evaluate(
        "[window.CivicHomeMap.getCenter().lat, window.CivicHomeMap.getCenter().lng]"
    )
    assert abs(centre[0] - 41.91012) < 0.0005 and abs(centre[1] + 87.70696) < 0.0005
