"""The strict Content-Security-Policy (config/security.py) in real Chromium: the map, the
embed inside another page's frame, the report form and the staff workbench with its map all
work under it, with no violation reported (the page's securitypolicyviolation events and the
console's "Content Security Policy" messages are both collected)."""

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.admin.test_browser import PASSWORD, desk, sign_in  # noqa: F401  (desk: fixture)
from tests.factories import CITY_HALL, make_issue

pytestmark = pytest.mark.browser

# Collected in the page before any of its own scripts run; init scripts come from the browser's
# debugging protocol, which the policy does not govern.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    console = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(LISTEN)

    def violations() -> list[str]:
        found = list(console)
        for frame in page.frames:
            # A frame refused by X-Frame-Options is an error page with nothing to read.
            with contextlib.suppress(PlaywrightError):
                found.extend(frame.evaluate("window.__cspViolations || []"))
        return found

    page.csp_violations = violations
    return page


def test_the_map_page_works_under_the_policy(watched, live_server, desk):  # noqa: F811
    page = watched
    response = page.goto(f"{live_server.url}/?status=open")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#map.leaflet-container")
    page.wait_for_selector(".leaflet-interactive, .cluster-icon")
    assert page.csp_violations() == []


def test_the_embed_works_in_another_pages_frame_under_the_policy(
    watched,
    live_server,
    desk,  # noqa: F811
):
    page = watched
    page.goto(f"{live_server.url}/healthz")
    page.set_content(
        f'<iframe id="embed" title="map" width="600" height="400" '
        f'src="{live_server.url}/embed/?ward=42"></iframe>'
    )
    embed = page.frame_locator("#embed")
    embed.locator("#embed-map[data-features]").wait_for(state="attached")
    assert int(embed.locator("#embed-map").get_attribute("data-features")) >= 1
    assert page.csp_violations() == []


def test_the_report_form_works_under_the_policy(watched, live_server, desk):  # noqa: F811
    page = watched
    page.goto(f"{live_server.url}/report/")
    page.wait_for_selector("#report-map.leaflet-container, .leaflet-container")
    page.select_option("select[name=service_code]", "pothole")
    page.wait_for_timeout(300)
    assert page.csp_violations() == []


def test_the_workbench_and_its_map_work_under_the_policy(watched, live_server, desk):  # noqa: F811
    page = watched
    lost = make_issue(desk["pothole"], point=CITY_HALL, description="Seen on the map")
    sign_in(page, live_server, "sam@city.example")
    page.goto(f"{live_server.url}/admin/issues/issue/{lost.pk}/change/")
    page.wait_for_selector("#cf-issue-map.leaflet-container")
    page.goto(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/wards/")
    assert page.csp_violations() == []
    assert PASSWORD


def test_the_listener_does_see_a_violation(watched, live_server, db):
    """The tests above would pass vacuously if violations went unseen: an inline script is
    refused and reported."""
    page = watched
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran === undefined")
    assert any("script-src" in v for v in page.csp_violations())
