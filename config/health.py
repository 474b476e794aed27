"""Liveness and readiness, for load balancers and monitors.

`/healthz` says the process answers HTTP, and nothing else: it touches no database, cache or
broker, so a restart loop never starts because a shared service is down.

`/readyz` asks each service this process needs, with short timeouts, and reports them
separately. Only the database decides the status code: without it nothing can be served or
stored (503, and a load balancer stops sending traffic here), while without Redis the site keeps
serving and storing reports (the cache fails open, emails wait in the outbox), so a cache or
broker that does not answer is "degraded" with a 200. Taking every web process out of rotation
because the one shared Redis is down would turn a slower site into no site.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.celery import app

log = logging.getLogger(__name__)


def healthz(request):
    """Liveness for load balancers, and the trivial view every benchmark compares against."""
    return HttpResponse("ok", content_type="text/plain")


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return ""


def _cache() -> str:
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "in-process (no REDIS_URL): nothing to ask"
    ping()
    return ""


def _broker() -> str:
    if app.conf.task_always_eager:
        return "not used: tasks run in the web process (no REDIS_URL)"
    options = app.conf.broker_transport_options or {}
    client = redis.Redis.from_url(
        app.conf.broker_url,
        socket_connect_timeout=options.get("socket_connect_timeout", 1),
        socket_timeout=options.get("socket_timeout", 1),
    )
    try:
        client.ping()
    finally:
        client.close()
    return ""


def _check(name: str, probe: Callable[[], str]) -> dict:
    started = time.monotonic()
    try:
        note = probe()
    except Exception as exc:
        # The error's kind only: its text names hosts and ports, and this page is public.
        log.warning("Readiness: %s unavailable", name, exc_info=True)
        return {"ok": False, "error": type(exc).__name__}
    result = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    if note:
        result["note"] = note
    return result


@never_cache
@require_safe
def readyz(request):
    checks = {
        "database": _check("database", _database),
        "cache": _check("cache", _cache),
        "broker": _check("broker", _broker),
    }
    if not checks["database"]["ok"]:
        status = "unavailable"
    elif all(check["ok"] for check in checks.values()):
        status = "ok"
    else:
        status = "degraded"
    return JsonResponse(
        {"status": status, **checks}, status=503 if status == "unavailable" else 200
    )
