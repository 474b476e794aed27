"""Cache-based rate limits, per account and per IP (and per API key for Open311).

Fixed windows in the shared cache (Redis in production, so every web worker counts together).
Limits and windows come from settings.RATE_LIMITS.

Limits fail open: while Redis is down or hung the cache keeps nothing (config/cache.py), so every
count starts again at one and requests go through. Refusing everyone because the counter is away
would take the site down with Redis; abuse for the length of an outage is the smaller harm.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    # Behind a proxy the first X-Forwarded-For hop is the client; the proxy must set it.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _hit(key: str, limit: int, window: int) -> bool:
    """Count one hit; True while still within the limit."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def allow(action: str, request=None, *, identities: list[str] | None = None) -> bool:
    """Record an attempt at `action` and say whether it is allowed.

    Counts separately per account and per IP (a signed-in person on a shared IP is limited by both),
    or per the identities given (e.g. an API key).
    """
    limit, window = settings.RATE_LIMITS[action]
    keys = list(identities or [])
    if request is not None:
        keys.append(f"ip:{client_ip(request)}")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            keys.append(f"user:{user.pk}")
    allowed = True
    for identity in keys:
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        if not _hit(f"rl:{action}:{digest}", limit, window):
            allowed = False
    return allowed
