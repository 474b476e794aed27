"""The map (home page, its list fragment) and the report form, what a resident on a phone meets
first, in each language with no English left: the report form as first shown and as sent back
with errors, the confirmation pages, the "please wait" pages, the place search page, and the
strings the map's scripts are given (config and data- attributes), counted sentences in each
language's own plural forms (issues/plurals.py)."""

import html
import json
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from departments.models import Ward
from issues.models import Issue
from issues.notify.links import report_confirm_url
from issues.plurals import plural_forms
from tests.factories import (
    CITY_HALL,
    make_attribute,
    make_department,
    make_issue,
    make_service_type,
    make_user,
    square_boundary,
)
from tests.i18n.test_pages_translated import (
    CITY_CONTENT,
    LANGUAGES,
    POTHOLE_NAMES,
    get,
    leftover_english,
)

pytestmark = pytest.mark.django_db

POTHOLE = POTHOLE_NAMES
# What people and the city wrote, shown as written: the address, the description, the request
# numbers, the reporter's email, a street's name.
WRITTEN = CITY_CONTENT | {"121 N LaSalle St", "A deep pothole", "anon@example.org"}


@pytest.fixture
def city(db):
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    pothole = make_service_type(
        make_department("Transportation"),
        code="pothole",
        name="Pothole in Street",
        group="Streets",
        description="Holes in the road surface.",
        translations={
            "name": POTHOLE,
            "group": {"es": "Calles", "pl": "Ulice", "zh-hans": "街道", "ar": "الشوارع"},
            "description": {
                "es": "Agujeros en la calzada.",
                "pl": "Ubytki w nawierzchni.",
                "zh-hans": "路面上的坑洞。",
                "ar": "حفر في سطح الطريق.",
            },
        },
    )
    make_attribute(
        pothole,
        "SIZE",
        "singlevaluelist",
        description="About how big is it?",
        values=[{"key": "small", "name": "Smaller than a plate"}],
        translations={
            "description": {
                "es": "¿Qué tamaño tiene?",
                "pl": "Jak duża jest?",
                "zh-hans": "大约有多大？",
                "ar": "ما حجمها تقريبًا؟",
            },
            "choice:small": {
                "es": "Más pequeño que un plato",
                "pl": "Mniejsza niż talerz",
                "zh-hans": "比盘子小",
                "ar": "أصغر من طبق",
            },
        },
    )
    return pothole


@pytest.fixture
def issues(city):
    return [make_issue(city) for _ in range(3)]


def written(issues) -> set[str]:
    return WRITTEN | {issue.public_id for issue in issues}


def no_english_left(client, url, extra=frozenset()) -> dict[str, str]:
    english = get(client, url, "en")
    pages, leftovers = {}, {}
    for language in LANGUAGES:
        pages[language] = get(client, url, language)
        assert f'<html lang="{language}"' in pages[language] or "<html" not in english
        leftovers[language] = leftover_english(english, pages[language], set(extra))
    assert leftovers == {language: [] for language in LANGUAGES}
    return pages


def map_config(html: str) -> dict:
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def strings_of(config: dict) -> list[str]:
    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, str):
            yield value

    return list(walk(config["strings"]))


def test_the_home_page_has_no_english_left(client, issues):
    pages = no_english_left(client, "/", written(issues))
    spanish = pages["es"]
    assert "3 avisos, los más recientes primero" in spanish
    assert spanish.count("Bache en la calle") >= 3  # each row, in the type's Spanish name
    assert "Calles" in spanish  # the types' group in the filter
    assert "3 zgłoszenia, od najnowszych" in pages["pl"]
    assert "3 بلاغات، الأحدث أولًا" in pages["ar"]


@pytest.mark.parametrize(
    "url",
    [
        "/?fragment=list",
        "/?fragment=list&bbox=-87.70,41.85,-87.60,41.90&lat=41.88&lon=-87.63&zoom=15",
        "/?bbox=-87.70,41.85,-87.60,41.90&lat=41.88&lon=-87.63&zoom=15",
        "/?status=nonsense&zoom=99&lat=north",  # every kind of error explained
        "/?fragment=nonsense",
    ],
)
def test_the_list_and_its_errors_have_no_english_left(client, issues, url):
    pages = no_english_left(client, url, written(issues))
    if "bbox" in url:
        assert "en la zona que muestra el mapa" in pages["es"]


def test_one_issue_and_many_pages_are_counted_in_each_language(client, city):
    make_issue(city)
    assert "1 aviso, los más recientes primero" in get(client, "/?fragment=list", "es")
    assert "بلاغ واحد" in get(client, "/?fragment=list", "ar")
    for _ in range(21):
        make_issue(city)
    polish = get(client, "/?fragment=list", "pl")
    assert "22 zgłoszenia, od najnowszych" in polish and "Strona 1 z 2" in polish
    assert "22 بلاغًا، الأحدث أولًا" in get(client, "/?fragment=list", "ar")


def test_the_maps_strings_are_translated(client, issues):
    english = map_config(get(client, "/", "en"))
    for language in LANGUAGES:
        config = map_config(get(client, "/", language))
        same = set(strings_of(config)) & set(strings_of(english))
        # Only the bare placeholders ("%(n)s %(status)s" in Spanish is "%(status)s: %(n)s") may
        # read the same.
        assert {s for s in same if re.sub(r"%\(\w+\)s|[\s,:;]", "", s)} == set(), language
        assert config["strings"]["issues"] == plural_forms("issues", language)
    # Each language's plural categories, as Intl.PluralRules names them.
    assert set(map_config(get(client, "/", "ar"))["strings"]["issues"]) == {
        "zero",
        "one",
        "two",
        "few",
        "many",
        "other",
    }
    assert map_config(get(client, "/", "pl"))["strings"]["issues"]["few"] == "%(n)s zgłoszenia"
    assert map_config(get(client, "/", "pl"))["strings"]["issues"]["many"] == "%(n)s zgłoszeń"
    assert map_config(get(client, "/", "zh-hans"))["strings"]["issues"] == {"other": "%(n)s 个问题"}


def test_the_map_feed_names_types_in_the_language(client, issues):
    url = reverse("issues:viewport") + "?bbox=-87.70,41.85,-87.60,41.90&zoom=18"
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").json()
    names = {f["properties"]["service_name"] for f in spanish["features"]}
    labels = {f["properties"]["status_label"] for f in spanish["features"]}
    assert names == {"Bache en la calle"} and labels == {"Nuevo"}
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert {f["properties"]["service_name"] for f in english["features"]} == {"Pothole in Street"}


def test_the_report_form_has_no_english_left(client, city):
    pages = no_english_left(client, "/report/?type=pothole", WRITTEN)
    assert "Bache en la calle" in pages["es"] and "¿Qué tamaño tiene?" in pages["es"]
    assert "Más pequeño que un plato" in pages["es"]
    # The photo messages keep a {name} slot for the script, and the place search's count its
    # plural forms.
    assert "{name} ocupa más de 10 MB" in pages["es"]
    found = re.search(r'data-found="([^"]+)"', pages["pl"]).group(1).replace("&quot;", '"')
    assert json.loads(found)["many"] == "Znaleziono %(n)s miejsc; wybierz strzałkami"


def test_the_report_form_sent_back_with_errors_has_no_english_left(client, city):
    data = {
        "service_code": "pothole",
        "latitude": "north",
        "description": "A deep pothole",
        "email": "not an address",
    }
    english = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Please check your report" in english
    for language in LANGUAGES:
        response = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400
        page = response.content.decode()
        assert leftover_english(english, page, WRITTEN) == [], language
    spanish = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Revise su reporte" in spanish and ">Latitud</a>:" in spanish


def test_a_report_with_no_place_is_refused_in_the_language(client, city):
    data = {"service_code": "pothole", "description": "A deep pothole", "email": "a@example.org"}
    spanish = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Indique dónde está el problema" in spanish


def test_a_report_sent_in_the_language_thanks_in_it(client, city):
    data = {
        "service_code": "pothole",
        "latitude": CITY_HALL[0],
        "longitude": CITY_HALL[1],
        "description": "A deep pothole",
        "email": "a@example.org",
    }
    response = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="pl", follow=True)
    issue = Issue.objects.get()
    assert f"podaj numer {issue.public_id}" in response.content.decode()


def test_the_rate_limited_report_form_has_no_english_left(client, city, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (0, 3600)}
    data = {"service_code": "pothole", "description": "A deep pothole"}
    english = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 429
    for language in LANGUAGES:
        page = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert leftover_english(english.content.decode(), page, WRITTEN) == [], language


def test_the_please_wait_page_has_no_english_left(city, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": (0, 3600)}
    issue = make_issue(city)
    client = Client()
    client.force_login(make_user())
    url = reverse("issues:vote", args=[issue.public_id])

    def page(language):
        response = client.post(url, {"action": "add"}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 429
        return response.content.decode()

    english = page("en")
    assert "Please wait a while" in english
    for language in LANGUAGES:
        assert leftover_english(english, page(language), written([issue])) == [], language


def test_the_confirmation_pages_have_no_english_left(client, city):
    city.confirm_anonymous = True
    city.save(update_fields=["confirm_anonymous"])
    data = {
        "service_code": "pothole",
        "latitude": CITY_HALL[0],
        "longitude": CITY_HALL[1],
        "description": "A deep pothole",
        "email": "anon@example.org",
    }
    sent = {
        language: client.post("/report/", data, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        for language in ["en", *LANGUAGES]
    }
    issues = list(Issue.objects.all())
    assert len(issues) == 5 and all(issue.is_hidden for issue in issues)
    for language in LANGUAGES:
        assert leftover_english(sent["en"], sent[language], written(issues)) == [], language
    spanish = Issue.objects.get(reporter_language="es")
    assert "<strong>anon@example.org</strong>" in sent["es"]
    assert f'Su reporte <span class="request-id">{spanish.public_id}</span>' in sent["es"]

    path = report_confirm_url(issues[0]).split("://", 1)[1].split("/", 1)[1]
    no_english_left(client, "/" + path, written(issues))


def test_the_place_search_page_has_no_english_left(client, city, tmp_path):
    from tests.places.small import load_small_gazetteer

    load_small_gazetteer(tmp_path)
    url = "/places/?q=Ashland+and+Addison"
    english = get(client, url, "en")
    names = {html.unescape(name) for name in re.findall(r"<strong>([^<]+)</strong>", english)}
    assert names
    pages = no_english_left(client, url, WRITTEN | names)
    assert "Se encontró 1 lugar" in pages["es"] or "Se encontraron" in pages["es"]
    no_english_left(client, "/places/?q=Nowhere+Street+and+Nothing+Avenue", WRITTEN)
    no_english_left(client, "/places/?q=" + "x" * 300, WRITTEN)


def test_the_report_questions_fragment_is_in_the_language(client, city):
    url = reverse("issues:report_questions") + "?type=pothole"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for language in LANGUAGES:
        fragment = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert leftover_english(english, fragment) == [], language


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        ("es", {1: "one", 2: "other", 1_000_000: "many"}),
        ("pl", {1: "one", 3: "few", 5: "many", 22: "few", 12: "many"}),
        ("ar", {0: "zero", 1: "one", 2: "two", 7: "few", 11: "many", 100: "other"}),
    ],
)
def test_each_plural_category_gets_the_form_gettext_gives_its_counts(language, counts):
    # Intl.PluralRules puts each count in a category; the form sent for that category must be
    # the one gettext gives that count (the sample counts in issues/plurals.py stand for all).
    forms = plural_forms("issues", language)
    with translation.override(language):
        for count, category in counts.items():
            assert forms[category] == translation.ngettext("%(n)s issue", "%(n)s issues", count)
    assert settings.LANGUAGE_CODE == "en"


def test_a_question_left_unanswered_is_named_in_the_language(client, city):
    city.attributes.update(required=True)
    data = {"service_code": "pothole", "description": "A deep pothole", "email": "a@example.org"}
    english = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "“About how big is it?” needs an answer." in english
    for language in LANGUAGES:
        page = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert leftover_english(english, page, WRITTEN) == [], language
    spanish = client.post("/report/", data, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "«¿Qué tamaño tiene?» necesita una respuesta." in spanish


def test_the_asset_picker_has_no_english_left(client, city):
    from tests.factories import assets_along, make_layer

    layer = make_layer()
    city.asset_layer = layer
    city.save(update_fields=["asset_layer"])
    assets = assets_along(layer, 3)
    point = f"latitude={CITY_HALL[0]}&longitude={CITY_HALL[1]}"
    # The layer's labels ("street light") are the city's words, like a type's name before it
    # is translated (asset layers have no translations yet).
    names = {asset.name for asset in assets}
    for url in (f"/report/?type=pothole&{point}", "/report/?type=pothole"):
        no_english_left(client, url, WRITTEN | names)
    assert "Ninguno de estos, o no lo sé" in get(client, f"/report/?type=pothole&{point}", "es")


def test_the_default_tile_attribution_is_said_in_the_language(client, city, settings):
    from issues.views.home import OSM_ATTRIBUTION

    settings.MAP_TILE_ATTRIBUTION = OSM_ATTRIBUTION
    spanish = map_config(get(client, "/", "es"))["tileAttribution"]
    assert spanish == (
        '&copy; colaboradores de <a href="https://www.openstreetmap.org/copyright">'
        "OpenStreetMap</a>"
    )
    # A city's own attribution is shown as the city set it.
    settings.MAP_TILE_ATTRIBUTION = "Tiles &copy; City of Chicago"
    own = map_config(get(client, "/?zoom=12", "es"))["tileAttribution"]  # not the cached page
    assert own == "Tiles &copy; City of Chicago"
