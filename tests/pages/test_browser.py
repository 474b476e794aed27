"""A new resident in headless Chromium: the map, reporting with a pin, a photo and an answer,
voting and following, and axe on every residents' page."""

import pytest

from departments.models import Department
from issues import services
from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_attribute, make_issue, make_service_type, make_user
from tests.pages.conftest import SIZES, jpeg_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def city(transactional_db):
    from departments.demo import WARDS_FILE, DemoReport, load_wards

    load_wards(DemoReport(), WARDS_FILE)
    department = Department.objects.create(name="Transportation", slug="cdot")
    pothole = make_service_type(
        department, code="pothole", name="Pothole in Street", group="Streets & Sidewalks"
    )
    make_attribute(
        pothole,
        "SIZE",
        "singlevaluelist",
        description="About how big is it?",
        required=True,
        values=SIZES,
    )
    make_service_type(department, code="graffiti", name="Graffiti Removal", group="Sanitation")
    return pothole


@pytest.fixture
def verified_user(transactional_db):
    return make_user("walker@example.org", display_name="Walker", email_verified=True)


def _sign_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/profile/")


def test_map_shows_issues_from_the_viewport_endpoint(page, live_server, city):
    for i in range(5):
        make_issue(
            city, point=(CITY_HALL[0] + i * 0.01, CITY_HALL[1]), attributes={"SIZE": ["small"]}
        )
    with page.expect_response(lambda r: "/map/issues.geojson" in r.url) as response:
        page.goto(live_server.url + "/")
    assert response.value.status == 200
    page.wait_for_selector("#map[data-loaded]")
    markers = page.locator("#map .cluster-icon, #map path.leaflet-interactive")
    assert markers.count() >= 1
    # Tiles cannot load here: the map says so and still shows the issues.
    page.wait_for_selector("#map.map--no-tiles")
    assert serious_axe_violations(page) == []


def test_new_resident_reports_a_problem_with_pin_answer_and_photo(page, live_server, city):
    page.goto(live_server.url + "/report/")
    box = page.locator("#report-map").bounding_box()
    # The map opens on the city centre (the Loop): drop the pin there.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("details#coords summary").click()
    assert page.locator("#id_latitude").input_value() != ""
    page.locator("#id_service_code").select_option("pothole")
    page.get_by_label("Larger than a tyre").check()
    page.locator("#id_address").fill("State and Madison")
    page.locator("#id_description").fill("Deep hole in the crosswalk")
    page.locator("#id_photos").set_input_files(
        files=[{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((400, 300))}]
    )
    page.locator("#id_email").fill("newcomer@example.net")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url("**/issues/*/?new=1")
    assert page.locator(".request-id--big").is_visible()
    photo = page.locator(".gallery img").first
    photo.wait_for()
    page.wait_for_function("() => document.querySelector('.gallery img').naturalWidth > 0")
    assert "Larger than a tyre" in page.content()
    assert serious_axe_violations(page) == []


def test_signed_in_resident_votes_and_follows(page, live_server, city, verified_user):
    issue = make_issue(city, attributes={"SIZE": ["small"]})
    _sign_in(page, live_server, verified_user)
    page.goto(live_server.url + issue.get_absolute_url())
    page.get_by_role("button", name="I have this too").click()
    page.wait_for_selector("text=1 person has this too")
    page.get_by_role("button", name="Follow: email me updates").click()
    page.get_by_role("button", name="Unfollow").wait_for()
    assert serious_axe_violations(page) == []
    page.goto(live_server.url + "/accounts/profile/")
    assert issue.public_id in page.content()
    assert serious_axe_violations(page) == []


def test_residents_pages_have_no_serious_axe_violations(page, live_server, city):
    issue = make_issue(city, attributes={"SIZE": ["large"]}, reporter_name="Pat")
    services.add_comment(issue=issue, author=make_user(display_name="Neighbour"), body="Me too")
    paths = [
        "/report/?type=pothole",
        "/track/",
        "/track/?id=NOPE-NOPE",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/issues/ZZZZ-ZZZZ/",
        "/?status=open",
    ]
    found = {}
    for path in paths:
        page.goto(live_server.url + path)
        violations = serious_axe_violations(page)
        if violations:
            found[path] = violations
    assert found == {}


def test_report_form_errors_are_announced_and_reachable(page, live_server, city):
    page.goto(live_server.url + "/report/")
    page.get_by_role("button", name="Send report").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Please check your report" in summary.inner_text()
    assert serious_axe_violations(page) == []


def test_with_javascript_off_a_resident_reports_by_typing_the_place(browser, live_server, city):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report/")
        assert page.locator("#report-map-wrap").is_hidden()
        page.locator("#id_service_code").select_option("pothole")
        page.get_by_role("button", name="Show the questions for this type").click()
        page.get_by_label("Smaller than a plate").check()
        page.locator("details#coords summary").click()
        page.locator("#id_latitude").fill(str(CITY_HALL[0]))
        page.locator("#id_longitude").fill(str(CITY_HALL[1]))
        page.locator("#id_address").fill("121 N LaSalle St")
        page.locator("#id_email").fill("offline@example.net")
        page.get_by_role("button", name="Send report").click()
        page.wait_for_url("**/issues/*/?new=1")
        assert "Smaller than a plate" in page.content()
    finally:
        context.close()
