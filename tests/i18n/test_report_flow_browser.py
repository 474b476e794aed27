"""Reporting a problem in Spanish and in Arabic in Chromium on a phone (390x844, no tiles, no
outside network): the report page, a type, the pin on the map, an answer, a description, send,
and the thank-you, all in the language; axe finds nothing serious; the Arabic page is mirrored.
And the home map's counted sentences, built by the script, in each language's plural forms.

Mirroring on a phone: the send button spans the form's whole width at 390 px in both languages
(a big target for a thumb, on purpose), so it has no side to be on; that is asserted, and the
mirroring is measured on what does sit at one side: the steps' numbers, the "Use my location"
button and the checkbox beside its label start at the right edge in Arabic and at the left in
English. (tests/i18n/test_rtl_browser.py measures the send button itself at tablet width.)"""

import pytest

from departments.models import Department
from issues.models import Issue
from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_attribute, make_issue, make_service_type

pytestmark = pytest.mark.browser

WORDS = {
    "es": {
        "title": "Reportar un problema",
        "type": "Bache en la calle",
        "question": "¿Qué tamaño tiene?",
        "answer": "Más grande que una rueda",
        "send": "Enviar reporte",
        "thanks": "Gracias. Recibimos su reporte",
        "description": "Hay un hoyo profundo en el cruce peatonal",
    },
    "ar": {
        "title": "أبلغ عن مشكلة",
        "type": "حفرة في الشارع",
        "question": "ما حجمها تقريبًا؟",
        "answer": "أكبر من إطار السيارة",
        "send": "أرسل البلاغ",
        "thanks": "شكرًا لك. وصل بلاغك",
        "description": "حفرة عميقة في ممر المشاة",
    },
}


@pytest.fixture
def city(transactional_db):
    from departments.demo import WARDS_FILE, DemoReport, load_wards

    load_wards(DemoReport(), WARDS_FILE)
    department = Department.objects.create(name="Transportation", slug="cdot")
    pothole = make_service_type(
        department,
        code="pothole",
        name="Pothole in Street",
        group="Streets",
        translations={
            "name": {"es": WORDS["es"]["type"], "ar": WORDS["ar"]["type"]},
            "group": {"es": "Calles", "ar": "الشوارع"},
        },
    )
    make_attribute(
        pothole,
        "SIZE",
        "singlevaluelist",
        description="About how big is it?",
        required=True,
        values=[
            {"key": "small", "name": "Smaller than a plate"},
            {"key": "large", "name": "Larger than a tyre"},
        ],
        translations={
            "description": {"es": WORDS["es"]["question"], "ar": WORDS["ar"]["question"]},
            "choice:small": {"es": "Más pequeño que un plato", "ar": "أصغر من طبق"},
            "choice:large": {"es": WORDS["es"]["answer"], "ar": WORDS["ar"]["answer"]},
        },
    )
    return pothole


def phone(browser, live_server, locale: str):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale=locale, has_touch=True
    )
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    context.set_default_timeout(15_000)
    return context


def sides(page) -> dict:
    """Where things sit in the form, as distances from its left and right edges."""
    form = page.locator("#report-form").bounding_box()

    def gaps(selector: str) -> dict:
        box = page.locator(selector).first.bounding_box()
        return {
            "left": box["x"] - form["x"],
            "right": form["x"] + form["width"] - (box["x"] + box["width"]),
            "width": box["width"],
        }

    return {
        "form": form,
        "step": gaps(".step legend .step__n"),
        "locate": gaps("#locate"),
        "checkbox": gaps("#id_hide_name"),
        "send": gaps("form .actions button[type='submit']"),
    }


def report_in(browser, live_server, locale: str) -> dict:
    language = locale.split("-")[0]
    words = WORDS[language]
    context = phone(browser, live_server, locale)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report/")
        html = page.locator("html")
        assert html.get_attribute("lang") == language
        assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator("h1").inner_text() == words["title"]
        where = sides(page)
        # The type, by its name in the language; its question comes in the language too.
        page.locator("#id_service_code").select_option(label=words["type"])
        page.get_by_text(words["question"]).wait_for()
        # The pin: the map opens on the city centre (the Loop); tap it there.
        box = page.locator("#report-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("() => document.getElementById('id_latitude').value !== ''")
        marker = page.locator("#report-map .leaflet-marker-icon").first
        marker.wait_for()
        assert marker.get_attribute("alt") == ("Marcador" if language == "es" else "الدبوس")
        # Leaflet's own buttons are named in the language too.
        zoom_in = page.locator("#report-map .leaflet-control-zoom-in")
        assert zoom_in.get_attribute("aria-label") == ("Acercar" if language == "es" else "تكبير")
        page.get_by_label(words["answer"]).check()
        page.locator("#id_description").fill(words["description"])
        page.locator("#id_email").fill(f"{language}@example.net")
        assert serious_axe_violations(page) == []
        page.get_by_role("button", name=words["send"]).click()
        page.wait_for_url("**/issues/*/?new=1")
        issue = Issue.objects.get(reporter_email=f"{language}@example.net")
        assert issue.reporter_language == language
        thanks = page.locator(".messages .message").filter(has_text=issue.public_id)
        assert words["thanks"] in thanks.first.inner_text()
        assert page.locator("html").get_attribute("lang") == language
        assert serious_axe_violations(page) == []
        return where
    finally:
        context.close()


def test_a_resident_reports_in_spanish_on_a_phone(browser, live_server, city):
    where = report_in(browser, live_server, "es-US")
    # Left to right: the step numbers and "Use my location" start at the left edge.
    assert where["step"]["left"] < where["step"]["right"]
    assert abs(where["locate"]["left"]) < 2


def test_a_resident_reports_in_arabic_on_a_phone_and_the_form_is_mirrored(
    browser, live_server, city
):
    arabic = report_in(browser, live_server, "ar")
    context = phone(browser, live_server, "en-US")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report/")
        english = sides(page)
    finally:
        context.close()
    # The send button spans the form in both languages: on a phone it has no side.
    for where in (arabic, english):
        assert where["send"]["left"] < 2 and where["send"]["right"] < 2
    # What starts a line in English starts it in Arabic too, from the other edge: the steps'
    # numbers, "Use my location" and the "don't show my name" checkbox are at the right.
    for part in ("step", "locate", "checkbox"):
        assert abs(arabic[part]["right"] - english[part]["left"]) < 2, part
        assert arabic[part]["left"] > arabic[part]["right"], part


@pytest.mark.parametrize(
    ("locale", "title"),
    [
        ("es-US", "5 avisos: Nuevo: 5"),
        ("pl", "5 zgłoszeń: Nowe: 5"),
        ("ar", "5 بلاغات: جديد: 5"),
        ("zh-CN", "5 个问题：新报告：5"),
    ],
)
def test_the_maps_groups_are_counted_in_the_language(browser, live_server, city, locale, title):
    for i in range(5):
        make_issue(
            city, point=(CITY_HALL[0] + i * 0.0001, CITY_HALL[1]), attributes={"SIZE": ["small"]}
        )
    context = phone(browser, live_server, locale)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/?lat={CITY_HALL[0]}&lon={CITY_HALL[1]}&zoom=11")
        ring = page.locator("#map .cluster-icon--mix").first
        ring.wait_for()
        marker = page.locator("#map .leaflet-marker-icon").first
        assert marker.get_attribute("title").split(" – ")[0] == title
        assert serious_axe_violations(page) == []
    finally:
        context.close()
