"""Reporting on a phone (390x844, Chromium, axe; no tiles, no outside network): locate, the pin,
the reports already there, the type, "Is this it?", a photo and its preview, send. And the
header's one row with the tracker behind "Menu"."""

import pytest

from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_attribute, make_issue, make_service_type
from tests.pages.conftest import SIZES, jpeg_bytes

pytestmark = pytest.mark.browser

NEAR_CITY_HALL = {"latitude": CITY_HALL[0] + 0.0002, "longitude": CITY_HALL[1]}


@pytest.fixture
def pothole(transactional_db):
    from departments.demo import WARDS_FILE, DemoReport, load_wards
    from departments.models import Department

    load_wards(DemoReport(), WARDS_FILE)
    department = Department.objects.create(name="Transportation", slug="cdot")
    service_type = make_service_type(department, code="pothole", name="Pothole in Street")
    make_attribute(
        service_type,
        "SIZE",
        "singlevaluelist",
        description="About how big is it?",
        required=True,
        values=SIZES,
    )
    return service_type


def phone(browser, live_server, **options):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-US", has_touch=True, **options
    )
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    context.set_default_timeout(15_000)
    return context


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_resident_reports_from_a_phone_with_location_photo_and_is_this_it(
    browser, live_server, pothole
):
    already = make_issue(pothole, point=CITY_HALL, attributes={"SIZE": ["small"]})
    context = phone(browser, live_server, geolocation=NEAR_CITY_HALL, permissions=["geolocation"])
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report/")
        # "Use my location" sits above the map.
        locate = page.get_by_role("button", name="Use my location")
        assert locate.bounding_box()["y"] < page.locator("#report-map").bounding_box()["y"]
        locate.click()
        page.wait_for_function("() => document.getElementById('id_latitude').value !== ''")
        assert float(page.locator("#id_latitude").input_value()) == pytest.approx(
            NEAR_CITY_HALL["latitude"], abs=1e-5
        )
        # The report already there shows on the report's map, under the pin.
        page.wait_for_selector("#report-map[data-existing='1']")
        assert page.locator("#report-map path.existing-report").count() == 1
        # The type, and at once "Is this it?" right under it, before the questions.
        page.locator("#id_service_code").select_option("pothole")
        nearby = page.locator("#nearby-live .nearby")
        nearby.wait_for()
        assert "Is this it?" in nearby.inner_text() and already.public_id in nearby.inner_text()
        type_box = page.locator("#id_service_code").bounding_box()
        nearby_box = nearby.bounding_box()
        assert 0 <= nearby_box["y"] - (type_box["y"] + type_box["height"]) < 80
        page.get_by_label("Larger than a tyre").check()
        page.locator("#id_description").fill("A second hole beside the first")
        # A photo: its preview shows before anything is sent.
        page.locator("#id_photos").set_input_files(
            files=[{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((400, 300))}]
        )
        preview = page.locator("#photo-preview img")
        preview.wait_for()
        assert preview.get_attribute("src").startswith("blob:")
        page.wait_for_function(
            "() => document.querySelector('#photo-preview img').naturalWidth === 400"
        )
        page.locator("#id_email").fill("phone@example.net")
        assert no_horizontal_scroll(page)
        assert serious_axe_violations(page) == []
        page.get_by_role("button", name="Send report").click()
        page.wait_for_url("**/issues/*/?new=1")
        page.locator(".gallery img").first.wait_for()
        assert no_horizontal_scroll(page)
    finally:
        context.close()


def test_a_refused_location_says_so_and_what_to_do(browser, live_server, pothole):
    context = phone(browser, live_server)  # no geolocation permission: the browser says no
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report/")
        page.get_by_role("button", name="Use my location").click()
        status = page.locator("#locate-status")
        page.wait_for_function(
            "() => document.getElementById('locate-status').textContent.includes('not shared')"
        )
        assert "Search for the place above, or tap the map" in status.inner_text()
    finally:
        context.close()


def test_a_photo_the_site_cannot_take_is_said_before_upload(browser, live_server, pothole):
    context = phone(browser, live_server)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report/")
        page.locator("#id_photos").set_input_files(
            files=[
                {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"},
                {"name": "ok.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()},
            ]
        )
        page.locator(".photo-preview__refused").wait_for()
        assert (
            "notes.pdf is not a JPEG, PNG or WebP photo"
            in page.locator("#photo-preview").inner_text()
        )
        # Only the photo the site can take stays on the input.
        assert page.evaluate("document.getElementById('id_photos').files.length") == 1
    finally:
        context.close()


def test_the_phone_header_is_one_row_with_the_tracker_behind_menu(browser, live_server, pothole):
    issue = make_issue(pothole, attributes={"SIZE": ["small"]})
    context = phone(browser, live_server)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        bar = page.locator(".site-header").bounding_box()
        assert bar["height"] < 80  # one row
        tracker = page.get_by_label("Track a request")
        assert not tracker.is_visible()
        menu = page.get_by_role("button", name="Menu")
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        tracker.fill(issue.public_id)
        tracker.press("Enter")
        page.wait_for_url("**" + issue.get_absolute_url())
        assert no_horizontal_scroll(page)
        assert serious_axe_violations(page) == []
    finally:
        context.close()


def test_without_javascript_the_menu_link_opens_the_tracker(browser, live_server, pothole):
    context = phone(browser, live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/track/")
        assert not page.get_by_label("Track a request").is_visible()
        page.get_by_role("link", name="Menu").click()
        assert page.get_by_label("Track a request").is_visible()
        assert no_horizontal_scroll(page)
    finally:
        context.close()
