"""base.html's header and footer (config/context_processors.py:chrome): the links and the
language switch's choices are built once per process, yet follow the URL prefix a deployment
runs under and are on every page, the error page included."""

import pytest
from django.urls import reverse, set_script_prefix

from config.context_processors import SITE_LINKS, chrome

pytestmark = pytest.mark.django_db


def test_the_header_links_follow_the_url_prefix():
    plain = chrome()["site_links"]
    try:
        set_script_prefix("/city/")
        prefixed = chrome()["site_links"]
        assert prefixed["report"] == "/city" + plain["report"] == reverse("issues:report")
    finally:
        set_script_prefix("/")
    assert chrome()["site_links"] == plain
    assert plain == {key: reverse(name) for key, name in SITE_LINKS.items()}


def test_every_page_links_what_the_header_names_and_offers_every_language(client, settings):
    page = client.get(reverse("wards:index"), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    for key in ("home", "report", "wards", "data", "login", "signup", "track", "set_language"):
        assert f'"{reverse(SITE_LINKS[key])}"' in page
    for code, _name in settings.LANGUAGES:
        assert f'<option value="{code}" lang="{code}"' in page
    # Each language in its own name, the reader's own selected.
    assert '<option value="pl" lang="pl" selected>polski</option>' in page
    assert '<option value="ar" lang="ar">العربيّة</option>' in page
