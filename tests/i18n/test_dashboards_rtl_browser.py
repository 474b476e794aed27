"""The Arabic ward dashboard in Chromium on a phone: the page is right to left, its charts keep
their axes and numbers left to right with the Arabic labels inside them reading right to left,
nothing scrolls sideways, and axe finds nothing serious."""

import pytest

from tests.browser_support import serious_axe_violations
from tests.dashboards.conftest import build_scenario, load_some_wards
from tests.factories import make_department

pytestmark = pytest.mark.browser

SCREENSHOT = None  # a path here saves the page, to look at it


@pytest.fixture
def scenario(transactional_db):
    s = build_scenario(load_some_wards(), make_department("Streets and Sanitation"))
    s.pothole.translations = {"name": {"ar": "حفرة في الشارع"}}
    s.pothole.save()
    return s


def test_the_arabic_ward_dashboard_on_a_phone(browser, live_server, scenario):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        tab.goto(live_server.url + f"/wards/{scenario.ward.slug}/")
        assert tab.locator("html").get_attribute("dir") == "rtl"
        charts = tab.locator("svg.wards-chart[role='img']")
        assert charts.count() >= 5
        # The charts stay left to right: the axis is at the left of the bars.
        assert charts.first.evaluate("svg => getComputedStyle(svg).direction") == "ltr"
        # A type's bar label is drawn, in Arabic, within its chart.
        label = tab.locator("svg.wards-chart--bars text", has_text="حفرة في الشارع").first
        box, chart = (
            label.bounding_box(),
            label.locator("xpath=ancestor::*[name()='svg']").bounding_box(),
        )
        assert box["width"] > 20
        assert (
            chart["x"] - 1 <= box["x"]
            and box["x"] + box["width"] <= chart["x"] + chart["width"] + 1
        )
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        if SCREENSHOT:
            tab.screenshot(path=SCREENSHOT, full_page=True)
        assert serious_axe_violations(tab) == []
    finally:
        context.close()
