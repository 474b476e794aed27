"""Choosing a language: Accept-Language on a first visit, the switch on every page (a plain form
that keeps the visitor on the same page), the choice remembered by cookie and on the account."""

import pytest
from django.conf import settings

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_accept_language_picks_the_page_language(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert response["Content-Language"] == "es"
    assert b'<html lang="es" dir="ltr">' in response.content
    assert "Accept-Language" in response["Vary"]


def test_an_unknown_language_gets_the_city_default(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fi")
    assert response["Content-Language"] == settings.LANGUAGE_CODE == "en"


def test_arabic_pages_are_right_to_left(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ar")
    assert b'<html lang="ar" dir="rtl">' in response.content


def test_every_page_has_a_switch_that_posts_back_to_the_same_page(client):
    response = client.get("/accounts/signup/?next=/wards/")
    html = response.content.decode()
    assert 'action="/accounts/language/"' in html
    assert 'name="next" value="/accounts/signup/?next=/wards/"' in html
    for code, _name in settings.LANGUAGES:
        assert f'<option value="{code}" lang="{code}"' in html


def test_switching_sets_the_cookie_and_returns_to_the_page(client):
    response = client.post("/accounts/language/", {"language": "pl", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pl"
    # The cookie outranks the browser's Accept-Language from then on.
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es")
    assert page["Content-Language"] == "pl"


def test_switching_refuses_a_next_on_another_site(client):
    response = client.post(
        "/accounts/language/", {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_a_signed_in_persons_choice_is_kept_and_applied_at_the_next_sign_in(client):
    user = make_user(email="ana@example.org", email_verified=True)
    client.force_login(user)
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    user.refresh_from_db()
    assert user.language == "zh-hans"

    fresh = client.__class__()
    response = fresh.post(
        "/accounts/login/", {"username": "ana@example.org", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert fresh.get("/accounts/login/")["Content-Language"] == "zh-hans"


# "de": Django ships a German catalogue, so its own set_language would store it; the site does
# not offer German, so it is refused like any other code outside LANGUAGES.
@pytest.mark.parametrize("code", ["xx", "de", "ES", ""])
def test_a_code_the_site_does_not_offer_is_refused_and_changes_nothing(client, code):
    user = make_user(language="es")
    client.force_login(user)
    response = client.post("/accounts/language/", {"language": code, "next": "/"})
    assert response.status_code == 400
    assert b"English" in response.content  # says which languages there are
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    user.refresh_from_db()
    assert user.language == "es"
