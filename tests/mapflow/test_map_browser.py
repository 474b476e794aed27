"""The home map on a phone (390x844, Chromium, no tiles): the list follows the map, the view is in
the address bar and Back restores the previous one; votes and follows without a reload."""

import pytest

from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_issue, make_service_type, make_user

pytestmark = pytest.mark.browser

NORTH = (41.95, -87.65)


@pytest.fixture
def city(transactional_db):
    from departments.demo import WARDS_FILE, DemoReport, load_wards
    from departments.models import Department

    load_wards(DemoReport(), WARDS_FILE)
    department = Department.objects.create(name="Transportation", slug="cdot")
    return make_service_type(department, code="pothole", name="Pothole in Street")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def list_ids(page) -> str:
    return page.locator("#home-list").inner_text()


def test_the_list_follows_the_map_and_back_restores_the_view(page, live_server, city):
    here = make_issue(city, point=CITY_HALL, address="121 N LaSalle St")
    there = make_issue(city, point=NORTH, address="3300 N Clark St")
    page.goto(live_server.url + "/")
    # The first view fits the city: both issues listed, the view written to the address bar.
    page.wait_for_function("() => new URLSearchParams(location.search).has('bbox')")
    page.wait_for_selector("#map[data-loaded]")
    assert here.public_id in list_ids(page) and there.public_id in list_ids(page)
    first_url = page.url
    # Zoom to City Hall's block (as the place search does): the list is that block's.
    with page.expect_response(lambda r: "fragment=list" in r.url):
        page.evaluate(f"window.CivicHomeMap.setView([{CITY_HALL[0]}, {CITY_HALL[1]}], 16)")
    page.wait_for_function(
        f"() => !document.getElementById('home-list').innerText.includes('{there.public_id}')"
    )
    assert here.public_id in list_ids(page)
    assert "zoom=16" in page.url and page.url != first_url
    assert no_horizontal_scroll(page)
    assert serious_axe_violations(page) == []
    # A shared link opens the same view, with the list already narrowed (no script needed).
    zoomed_url = page.url
    # Back: the previous view and its list.
    page.go_back()
    page.wait_for_function("() => window.CivicHomeMap.getZoom() < 16")
    page.wait_for_function(
        f"() => document.getElementById('home-list').innerText.includes('{there.public_id}')"
    )
    assert page.url == first_url
    page.go_forward()
    page.wait_for_function("() => window.CivicHomeMap.getZoom() === 16")
    assert page.url == zoomed_url


def test_a_shared_view_opens_where_it_was(page, live_server, city):
    here = make_issue(city, point=CITY_HALL)
    there = make_issue(city, point=NORTH)
    url = (
        f"{live_server.url}/?lat={CITY_HALL[0]}&lon={CITY_HALL[1]}&zoom=16"
        "&bbox=-87.640,41.878,-87.625,41.890"
    )
    page.goto(url)
    page.wait_for_selector("#map[data-loaded]")
    assert page.evaluate("window.CivicHomeMap.getZoom()") == 16
    center = page.evaluate("window.CivicHomeMap.getCenter()")
    assert center["lat"] == pytest.approx(CITY_HALL[0], abs=1e-4)
    assert here.public_id in list_ids(page) and there.public_id not in list_ids(page)


def test_vote_then_follow_without_a_reload(page, live_server, city):
    issue = make_issue(city)
    user = make_user("walker@example.org", display_name="Walker", email_verified=True)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/profile/")
    page.goto(live_server.url + issue.get_absolute_url())
    # A mark on the page itself: a reload or a navigation would wipe it.
    page.evaluate("window.__stayed = true")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_role("button", name="I have this too").click()
    page.wait_for_selector("text=1 person has this too")
    page.get_by_text("Follow it too").wait_for()
    follow = page.get_by_role("button", name="Follow: email me updates")
    assert follow.evaluate("b => b === document.activeElement")
    follow.click()
    page.get_by_role("button", name="Unfollow").wait_for()
    assert "You follow this issue" in page.locator(".engage__message").inner_text()
    assert page.evaluate("window.__stayed === true")
    assert navigations == []
    assert no_horizontal_scroll(page)
    assert serious_axe_violations(page) == []


def test_clusters_show_their_statuses_and_report_here_is_readable(page, live_server, city):
    from issues import services
    from issues.models import Status
    from tests.factories import make_staff

    staff = make_staff(city.department, email="s@city.example")
    issues = [make_issue(city, point=(CITY_HALL[0] + i * 0.0001, CITY_HALL[1])) for i in range(6)]
    services.change_status(issue=issues[0], to=Status.CLOSED, by=staff)
    services.change_status(issue=issues[1], to=Status.IN_PROGRESS, by=staff)
    page.goto(f"{live_server.url}/?lat={CITY_HALL[0]}&lon={CITY_HALL[1]}&zoom=11")
    ring = page.locator("#map .cluster-icon--mix").first
    ring.wait_for()
    # Three statuses, three arcs, each in its status's colour; the count in the middle.
    arcs = ring.locator("circle[stroke]")
    assert arcs.count() == 3
    assert sorted(arcs.evaluate_all("cs => cs.map(c => c.getAttribute('stroke'))")) == sorted(
        ["#c2410c", "#0b5cad", "#1d6b36"]
    )
    assert ring.locator("text").text_content() == "6"
    title = page.locator("#map .leaflet-marker-icon").first.get_attribute("title")
    assert "4 New" in title and "1 In progress" in title and "1 Closed" in title
    # The legend explains the ring; the popup's button is legible (axe checks its contrast).
    assert "ring shows their statuses" in page.locator(".map-legend").inner_text()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + box["height"] / 2)
    button = page.get_by_role("link", name="Report a problem here")
    button.wait_for()
    colours = button.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert colours == ["rgb(255, 255, 255)", "rgb(11, 92, 173)"]
    button.focus()
    assert button.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    assert serious_axe_violations(page) == []  # after Leaflet's fade-in (browser_support)


def test_use_my_location_above_the_home_map_moves_the_map_and_the_list(browser, live_server, city):
    here = make_issue(city, point=CITY_HALL)
    there = make_issue(city, point=NORTH)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="en-US",
        geolocation={"latitude": CITY_HALL[0], "longitude": CITY_HALL[1]},
        permissions=["geolocation"],
    )
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.wait_for_selector("#map[data-loaded]")
        locate = page.get_by_role("button", name="Use my location")
        assert locate.bounding_box()["y"] < page.locator("#map").bounding_box()["y"]
        locate.click()
        page.wait_for_function("() => new URLSearchParams(location.search).get('zoom') === '16'")
        page.wait_for_function(
            f"() => !document.getElementById('home-list').innerText.includes('{there.public_id}')"
        )
        assert here.public_id in list_ids(page)
        assert no_horizontal_scroll(page)
    finally:
        context.close()
