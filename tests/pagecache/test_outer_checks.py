"""A check written as a decorator outside cache_public (an allow-list, a login check) always
runs: PageCacheMiddleware answers only the views cache_public itself returned, known by
identity, never a wrapper around one (functools.wraps copies a function's attributes)."""

from __future__ import annotations

import functools

import pytest
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path

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


urlpatterns = [path("checked/", only_with_pass(cache_public(_page)))]


@pytest.mark.django_db
def test_a_check_outside_the_cache_runs_on_every_request(client, settings):
    settings.ROOT_URLCONF = __name__
    allowed = client.get("/checked/", headers={"x-pass": "yes"})
    assert allowed.status_code == 200 and allowed["X-Page-Cache"] == "miss"
    assert client.get("/checked/", headers={"x-pass": "yes"})["X-Page-Cache"] == "hit"
    refused = client.get("/checked/")
    assert refused.status_code == 403
