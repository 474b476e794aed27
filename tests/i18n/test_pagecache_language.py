"""The public page cache keys on the language: one URL, one cached page per language, and a
page cached in one language is never served to a reader of another."""

import pytest
from django.conf import settings
from django.test import Client

from issues import pagecache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    monkeypatch.setattr(pagecache, "_minute", lambda: 29_000_000)


def lang_of(response) -> str:
    html = response.content.decode()
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_a_spanish_page_is_never_served_to_an_english_reader_and_back(client):
    spanish = client.get("/wards/", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish["X-Page-Cache"] == "miss" and lang_of(spanish) == "es"
    again = client.get("/wards/", HTTP_ACCEPT_LANGUAGE="es")
    assert again["X-Page-Cache"] == "hit" and lang_of(again) == "es"

    english = client.get("/wards/", HTTP_ACCEPT_LANGUAGE="en")
    assert english["X-Page-Cache"] == "miss" and lang_of(english) == "en"
    assert lang_of(client.get("/wards/", HTTP_ACCEPT_LANGUAGE="en")) == "en"
    assert lang_of(client.get("/wards/", HTTP_ACCEPT_LANGUAGE="es")) == "es"
    # Both vary on what chose the language, so no shared cache in front mixes them either.
    for response in (spanish, again, english):
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_the_language_cookie_chooses_the_cached_copy_too():
    arabic = Client()
    arabic.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    first = arabic.get("/wards/", HTTP_ACCEPT_LANGUAGE="en")
    assert lang_of(first) == "ar" and b'dir="rtl"' in first.content
    english = Client().get("/wards/", HTTP_ACCEPT_LANGUAGE="en")
    assert lang_of(english) == "en" and b'dir="ltr"' in english.content
    assert arabic.get("/wards/")["X-Page-Cache"] == "hit"


def test_a_not_modified_answer_is_per_language(client):
    spanish = client.get("/wards/", HTTP_ACCEPT_LANGUAGE="es")
    english = client.get("/wards/", HTTP_ACCEPT_LANGUAGE="en")
    assert spanish["ETag"] != english["ETag"]
    # The Spanish ETag sent by an English reader is not a match: they get the English page.
    response = client.get("/wards/", HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=spanish["ETag"])
    assert response.status_code == 200 and lang_of(response) == "en"
