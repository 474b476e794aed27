"""/readyz: the database, the cache and the broker, each asked with a short timeout and reported
separately. Only the database decides the status code: without Redis the site still serves and
stores reports, so a load balancer must keep sending it traffic (config/health.py)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("readyz")


def test_ready_when_database_cache_and_broker_answer(client, on_redis):
    response = client.get(URL)
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert [body[name]["ok"] for name in ("database", "cache", "broker")] == [True] * 3
    assert "no-cache" in response["Cache-Control"]


def test_embedded_mode_is_ready_with_no_cache_or_broker_to_ask(client, settings):
    # As with no REDIS_URL: a cache per process, and tasks run in-process (as in every test).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    body = client.get(URL).json()
    assert body["status"] == "ok"
    assert body["cache"]["note"].startswith("in-process")
    assert body["broker"]["note"].startswith("not used")


def test_redis_killed_is_degraded_not_unavailable(client, on_redis):
    on_redis.kill()
    response = client.get(URL)
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["cache"] == {"ok": False, "error": "ConnectionError"}
    assert body["broker"] == {"ok": False, "error": "ConnectionError"}
    assert "127.0.0.1" not in response.content.decode()  # no hosts or ports on a public page


def test_hung_redis_is_reported_within_the_timeouts(client, on_hung_redis, settings):
    started = time.monotonic()
    body = client.get(URL).json()
    elapsed = time.monotonic() - started
    assert body["status"] == "degraded"
    assert body["cache"] == {"ok": False, "error": "TimeoutError"}
    assert body["broker"] == {"ok": False, "error": "TimeoutError"}
    broker = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    budget = settings.CACHE_TIMEOUT_SECONDS + broker["socket_timeout"]
    assert elapsed < budget + 2  # about not hanging, not about speed


def test_head_is_answered_for_probes_that_send_it(client, on_redis):
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_probes_over_plain_http_are_not_redirected(client, settings):
    """A load balancer probes a process directly, without TLS: a redirect would read as down."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(URL).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("issues:home")).status_code == 301
