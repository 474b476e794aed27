"""The frame's pages (accounts, open data, embed, errors), rendered in each language, has no English left in what a person
reads (text, and the labels in alt, title, placeholder, aria-label and button values), apart
from proper names, technical words and what people or the city wrote.

How: the same page is rendered in English and in the language; any piece of visible text that
is the same in both is English left over, unless it is on the allow-list. The other areas have
their own tests beside this one (test_map_, test_issue_page_, test_dashboards_, test_assets_,
test_emails_, test_workbench_translated.py), which reuse its helpers."""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation

from config.errors import server_error
from departments.models import Ward
from tests.factories import make_department, make_service_type, make_user, square_boundary

pytestmark = pytest.mark.django_db

LANGUAGES = ["es", "pl", "zh-hans", "ar"]
# The demo pothole type's name as the city translated it, for every area's tests.
POTHOLE_NAMES = {
    "es": "Bache en la calle",
    "pl": "Dziura w jezdni",
    "zh-hans": "路面坑洞",
    "ar": "حفرة في الشارع",
}
SEEN_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label", "data-copied")
# Proper names, brands, formats and the language switch's names (each in its own language).
ALLOWED = {
    settings.SITE_NAME,
    settings.CITY_NAME,
    "K7M2-9QXR",
    "English",
    "español",
    "polski",
    "简体中文",
    "العربيّة",
    "CSV",
    "GeoJSON",
    "Open311",
    "assets.csv",
    "assets.json",
    "adoptions.csv",
    "url",
    "·",
    "&",
    # The same word in Polish (the catalogue test still fails on any untranslated entry).
    "Menu",
}


class VisibleText(HTMLParser):
    """Text nodes and labelling attributes, skipping <script>, <style>, <code> and <pre>
    (commands and field names, not prose) and the dashboards' definitions (not yet wrapped:
    issues/dashboards/terms.py belongs to the ward pages)."""

    SKIP = {"script", "style", "code", "pre", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skip = tag in self.SKIP or attributes.get("class") == "opendata-definitions"
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source"):
            self.stack.append((tag, skip))
        if self.skipping() and not skip:
            return
        for name in SEEN_ATTRIBUTES:
            if attributes.get(name):
                self.pieces.append(attributes[name].strip())
        if (
            tag == "input"
            and attributes.get("type") in ("submit", "button")
            and "value" in attributes
        ):
            self.pieces.append(attributes["value"].strip())

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self.skipping() and data.strip():
            self.pieces.append(" ".join(data.split()))


def visible(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.pieces


def leftover_english(english: str, translated: str, extra: set[str] = frozenset()) -> list[str]:
    english_pieces = set(visible(english))
    allowed = ALLOWED | extra
    return sorted(
        {
            piece
            for piece in visible(translated)
            if piece in english_pieces
            and piece not in allowed
            and any(ch.isalpha() for ch in piece)
        }
    )


CITY_CONTENT = {"Ward 42", "Ward 42:", settings.OPEN_DATA_LICENCE}


@pytest.fixture
def city(db):
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(41.88, -87.63))
    make_service_type(
        make_department("Transportation"),
        code="pothole",
        name="Pothole in Street",
        translations={"name": POTHOLE_NAMES},
    )


def get(client: Client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    assert response["Content-Language"] == language
    return response.content.decode()


PUBLIC_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/signup/sent/",
    "/accounts/verify/again/",
    "/accounts/verify/MQ/not-a-token/",
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/MQ/not-a-token/",
    "/accounts/password/reset/done/",
    "/data/",
    "/data/?status=nonsense&ward=999",
    "/embed/",
    "/no-such-page/",
]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_have_no_english_left(client, city, url):
    english = get(client, url, "en")
    leftovers = {}
    for language in LANGUAGES:
        translated = get(client, url, language)
        assert f'<html lang="{language}"' in translated
        # The ward's name as the city wrote it (city content, like a street name) and the
        # licence's own title (OPEN_DATA_LICENCE, a legal name).
        leftovers[language] = leftover_english(english, translated, CITY_CONTENT)
    assert leftovers == {language: [] for language in LANGUAGES}


def test_the_password_change_page_has_no_english_left(client):
    client.force_login(make_user())
    english = get(client, "/accounts/password/change/", "en")
    for language in LANGUAGES:
        translated = get(client, "/accounts/password/change/", language)
        assert leftover_english(english, translated) == [], language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_error_pages_have_no_english_left(language):
    factory = RequestFactory()

    def pages() -> list[str]:
        request = factory.post("/report/", {"description": "Hole by the school"})
        context = {"SITE_NAME": settings.SITE_NAME, "CITY_NAME": settings.CITY_NAME}
        return [
            server_error(request).content.decode(),
            render_to_string("503.html", {**context, "retry_after": 30}),
            render_to_string("503.html", {**context, "retry_after": 1}),
        ]

    with translation.override("en"):
        english = pages()
    with translation.override(language):
        translated = pages()
    for before, after in zip(english, translated, strict=True):
        assert leftover_english(before, after) == []
    # What the person typed is shown back as typed.
    assert "Hole by the school" in translated[0]


def test_numbers_are_formatted_for_the_language(client, city):
    from tests.factories import make_issue

    for _ in range(2):
        make_issue()
    spanish = get(client, "/data/", "es")
    assert "2 solicitudes públicas" in spanish
    arabic = get(client, "/data/", "ar")
    assert "طلبان علنيان" in arabic  # Arabic's dual
