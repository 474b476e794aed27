"""A check written as a decorator outside cache_public (an allow-list, a login check) always
runs: PageCacheMiddleware answers only the views cache_public itself returned, known by
identity, never a wrapper around one (functools.wraps copies a function's attributes)."""

from __future__ import annotations

import functools

import pytest
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.utils import translation

from issues.pagecache import cache_public


def only_with_pass(view):
    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if request.headers.get("X-Pass") != "yes":
            return HttpResponseForbidden("no pass")
        return view(request, *args, **kwargs)

    return checked


def _page(request):
    return HttpResponse("behind the check " * 20)


def _page_in_language(request):
    return HttpResponse(f"in {translation.get_language()} " * 20)


urlpatterns = [
    path("checked/", only_with_pass(cache_public(_page))),
    path("checked/language/", only_with_pass(cache_public(_page_in_language))),
]


@pytest.mark.django_db
def test_a_check_outside_the_cache_runs_on_every_request(client, settings):
    settings.ROOT_URLCONF = __name__
    allowed = client.get("/checked/", headers={"x-pass": "yes"})
    assert allowed.status_code == 200 and allowed["X-Page-Cache"] == "miss"
    assert client.get("/checked/", headers={"x-pass": "yes"})["X-Page-Cache"] == "hit"
    refused = client.get("/checked/")
    assert refused.status_code == 403


@pytest.mark.django_db
def test_behind_a_check_the_wrapper_keys_the_language_as_the_middleware_does(client, settings):
    """The wrapper stores and answers these itself (the middleware does not know the view), with
    the language found by the same function: the cookie first, then Accept-Language."""
    settings.ROOT_URLCONF = __name__
    url, allowed = "/checked/language/", {"x-pass": "yes"}
    spanish = client.get(url, headers=allowed, HTTP_ACCEPT_LANGUAGE="es")
    assert (spanish["X-Page-Cache"], spanish.content[:6]) == ("miss", b"in es ")
    english = client.get(url, headers=allowed, HTTP_ACCEPT_LANGUAGE="en")
    assert (english["X-Page-Cache"], english.content[:6]) == ("miss", b"in en ")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    chosen = client.get(url, headers=allowed, HTTP_ACCEPT_LANGUAGE="en")
    assert (chosen["X-Page-Cache"], chosen.content) == ("hit", spanish.content)
