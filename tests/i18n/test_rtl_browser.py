"""Arabic in Chromium on a phone: the report page is right to left and mirrored (what sits at
the start of a line in English sits at its end in Arabic), the map keeps its left-to-right
controls, and axe finds nothing serious.

This checks the layout, which is the same whatever the words (test_report_flow_browser.py does
the whole report in Spanish and Arabic). At 390 px the send button spans the whole
width, so the mirroring is measured on the header (brand and "Menu" swap ends), on the
form's labels (they start at the right edge), and at tablet width on the send button itself."""

import pytest

from departments.models import Department
from tests.browser_support import serious_axe_violations
from tests.factories import make_service_type

pytestmark = pytest.mark.browser


@pytest.fixture
def city(transactional_db):
    department = Department.objects.create(name="Transportation", slug="cdot")
    return make_service_type(department, code="pothole", name="Pothole in Street")


def open_report(browser, live_server, locale: str, width: int = 390):
    context = browser.new_context(viewport={"width": width, "height": 844}, locale=locale)
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto(live_server.url + "/report/")
    tab.wait_for_function("getComputedStyle(document.body).margin !== ''")
    return context, tab


def boxes(tab) -> dict:
    def box(selector: str) -> dict:
        return tab.locator(selector).first.bounding_box()

    return {
        "brand": box(".site-header .brand"),
        "report": box(".site-header .button--report"),
        "label": box("label[for='id_description']"),
        "form": box("label[for='id_description'] >> xpath=.."),
        "send": box("form .actions button[type='submit']"),
        "menu": box(".site-header .site-menu__toggle"),
        "width": tab.viewport_size["width"],
    }


def test_the_arabic_report_page_is_mirrored_on_a_phone(browser, live_server, city):
    context, arabic = open_report(browser, live_server, "ar")
    try:
        assert arabic.locator("html").get_attribute("dir") == "rtl"
        assert arabic.locator("html").get_attribute("lang") == "ar"
        ar = boxes(arabic)
        # The brand is at the start: the right in Arabic, the "report" button on the left.
        assert ar["report"]["x"] < ar["brand"]["x"]
        # Labels start at the right edge of their field.
        label_end = ar["label"]["x"] + ar["label"]["width"]
        assert abs(label_end - (ar["form"]["x"] + ar["form"]["width"])) < 2
        # The map stays left to right inside (Leaflet's controls where Leaflet puts them).
        assert (
            arabic.evaluate(
                "getComputedStyle(document.querySelector('.leaflet-container')).direction"
            )
            == "ltr"
        )
        assert serious_axe_violations(arabic) == []
    finally:
        context.close()

    context, english = open_report(browser, live_server, "en-US")
    try:
        assert english.locator("html").get_attribute("dir") == "ltr"
        en = boxes(english)
        assert en["brand"]["x"] < en["report"]["x"]
        assert abs(en["label"]["x"] - en["form"]["x"]) < 2
        # Mirror images: the header's row is brand ... report, Menu. What starts the row in
        # English (the brand) ends it in Arabic, and what ends it (Menu) starts it; the words'
        # widths differ, so the edges are compared with the page's edges.
        width = en["width"]
        assert abs((ar["brand"]["x"] + ar["brand"]["width"]) - (width - en["brand"]["x"])) < 2
        assert abs(ar["menu"]["x"] - (width - en["menu"]["x"] - en["menu"]["width"])) < 2
    finally:
        context.close()


def test_the_send_button_changes_sides_at_tablet_width(browser, live_server, city):
    sides = {}
    for locale in ("ar", "en-US"):
        context, tab = open_report(browser, live_server, locale, width=800)
        try:
            send = boxes(tab)["send"]
            sides[locale] = "left" if send["x"] + send["width"] / 2 < 400 else "right"
        finally:
            context.close()
    # The send button sits at the start of its row: the right in Arabic, the left in English.
    assert sides == {"ar": "right", "en-US": "left"}
