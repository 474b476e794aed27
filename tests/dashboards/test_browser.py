"""What a person sees: the league table's map and a ward dashboard, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import serious_axe_violations
from tests.dashboards.conftest import build_scenario, load_some_wards
from tests.factories import make_department

pytestmark = pytest.mark.browser


@pytest.fixture
def scenario(transactional_db):
    return build_scenario(load_some_wards(), make_department("Streets and Sanitation"))


def test_league_table_draws_the_choropleth_and_passes_axe(page, live_server, scenario):
    page.goto(live_server.url + "/wards/?sort=overdue")
    page.wait_for_selector("#wards-map path.leaflet-interactive")
    assert page.locator("#wards-map path.leaflet-interactive").count() == 4
    fills = {
        page.locator("#wards-map path.leaflet-interactive").nth(i).get_attribute("fill")
        for i in range(4)
    }
    assert len(fills) >= 2  # coloured by the measure, not one flat colour
    assert page.locator("#wards-legend li").count() >= 2
    # On a phone the wide table scrolls inside its box; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("th[aria-sort='descending']").inner_text().startswith("Overdue")
    assert serious_axe_violations(page) == []

    # Choosing another measure re-sorts the table and recolours the map.
    page.select_option("#wards-sort", "open")
    page.wait_for_url("**/wards/?sort=open")
    assert page.locator("th[aria-sort='descending']").inner_text().startswith("Open")


def test_ward_dashboard_shows_charts_map_and_passes_axe(page, live_server, scenario):
    page.goto(live_server.url + f"/wards/{scenario.ward.slug}/")
    assert page.locator("svg.wards-chart[role='img']").count() >= 5
    assert page.locator(".wards-headline .wards-fig").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The outline, the heat grid and the open issues (fetched from their feed) are drawn.
    page.wait_for_selector("#wards-map path.leaflet-interactive")
    expected_open = len(
        [
            i
            for i in scenario.refreshed()
            if i.ward_id == scenario.ward.pk and i.is_open and not i.is_hidden
        ]
    )
    page.wait_for_function(
        "n => document.querySelectorAll('#wards-map path.leaflet-interactive').length >= n",
        arg=expected_open,
    )
    assert serious_axe_violations(page) == []

    # A headline number opens the list that produces it.
    first = page.locator(".wards-headline .wards-fig").first
    href = first.get_attribute("href")
    assert href.startswith("/?") and "ward=1" in href and "status=open" in href


def test_ward_dashboard_reads_without_javascript(browser, live_server, scenario):
    context = browser.new_context(java_script_enabled=False)
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    tab = context.new_page()
    tab.goto(live_server.url + f"/wards/{scenario.ward.slug}/")
    assert tab.locator("svg.wards-chart").count() >= 5
    assert tab.locator(".wards-map-fallback").is_visible()
    tab.goto(live_server.url + "/wards/?sort=open&dir=asc")
    assert tab.locator("th[aria-sort='ascending']").count() == 1
    context.close()


def test_comparison_page_fits_a_phone_and_passes_axe(page, live_server, scenario):
    page.goto(live_server.url + f"/wards/compare/?wards={scenario.ward.number}")
    page.check(f"input[name='wards'][value='{scenario.other_ward.number}']")
    page.click("form.wards-compare-form button")
    page.wait_for_selector("#cmp-open")
    assert page.locator(".wards-table--compare").count() == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_axe_violations(page) == []


def test_type_trends_page_fits_a_phone_and_passes_axe(page, live_server, scenario):
    page.goto(live_server.url + "/wards/types/")
    page.click("text=Pothole in Street")
    page.wait_for_selector("#weekly-heading")
    # The phone gets the narrow weekly chart; the wide one is hidden. The click is a
    # navigation, so the stylesheet may land after the heading: expect() waits for it.
    page.wait_for_load_state("load")
    expect(page.locator("svg.wards-chart--narrow").first).to_be_visible()
    expect(page.locator("svg.wards-chart--wide").first).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_axe_violations(page) == []
