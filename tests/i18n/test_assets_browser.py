"""A layer's map in Spanish, in Chromium: the script's words (the legend, a marker's state,
a cluster's title) come from the page in the reader's language, with the numbers put in place."""

import pytest
from django.conf import settings

from departments.models import Ward
from tests.factories import assets_along, make_layer, square_boundary

pytestmark = pytest.mark.browser

CENTRE = (settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON)


@pytest.fixture
def shelters(transactional_db):
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CENTRE, 0.05))
    layer = make_layer(
        "Bus shelters",
        asset_label="bus shelter",
        asset_label_plural="bus shelters",
        adoptable=True,
        translations={"asset_label_plural": {"es": "marquesinas"}, "name": {"es": "Marquesinas"}},
    )
    assets_along(layer, 8, start=CENTRE)
    return layer


def test_the_layer_maps_words_are_spanish(browser, live_server, shelters):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        tab.goto(f"{live_server.url}/assets/{shelters.slug}/")
        tab.wait_for_selector("#asset-layer-map[data-loaded]")
        legend = tab.locator(".map-legend").inner_text()
        assert "adoptado" in legend and "disponible" in legend
        titles = tab.eval_on_selector_all(
            "#asset-layer-map [title]", "els => els.map(e => e.getAttribute('title'))"
        )
        markers = tab.locator("#asset-layer-map path.leaflet-interactive")
        if markers.count():
            markers.first.click(force=True)
            popup = tab.locator(".leaflet-popup-content").inner_text()
            assert "disponible" in popup
        else:
            # Zoomed out: clusters, titled with the whole Spanish phrase and the numbers in it.
            assert any(t.startswith("Marquesinas: ") and "Acerque el mapa" in t for t in titles)
            assert not any("{count}" in t for t in titles)
    finally:
        context.close()


def test_a_feed_opened_in_a_browser_reads_as_a_page_in_the_readers_language(
    browser, live_server, shelters
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        tab.goto(f"{live_server.url}/feeds/issues/new/")
        tab.wait_for_selector("p.callout")
        assert tab.locator("html").get_attribute("lang") == "ar"
        assert tab.locator("html").get_attribute("dir") == "rtl"
        assert tab.locator("h1").inner_text() == "طلبات جديدة: المدينة كلها"
        assert "انسخ عنوان هذه الصفحة" in tab.locator("p.callout").inner_text()
        assert tab.locator("main p").last.inner_text() == "لا شيء هنا بعد."
        assert tab.title() == "طلبات جديدة: المدينة كلها (موجز)"
    finally:
        context.close()
