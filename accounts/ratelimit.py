"""Cache-based rate limits, per account and per IP (and per API key for Open311).

Fixed windows in the shared cache (Redis in production, so every web worker counts together).
Limits and windows come from settings.RATE_LIMITS. Sign-in and password resets use a growing
delay instead (`Backoff`, the policy in docs/security.md).

The client's IP is REMOTE_ADDR unless that is one of settings.TRUSTED_PROXIES: only then is
X-Forwarded-For read, from the right, and the first hop that is not a trusted proxy is the
client. Anything to the left of it was written by the client and proves nothing: trusting the
left-most hop let a visitor rotate the header to get a fresh allowance on every request, or spend
somebody else's allowance by sending their address.

Limits fail open: while Redis is down or hung the cache keeps nothing (config/cache.py), so every
count starts again at one and requests go through. Refusing everyone because the counter is away
would take the site down with Redis; abuse for the length of an outage is the smaller harm.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:5000"
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client reaching an IPv6 socket shows as ::ffff:a.b.c.d: one client, one key.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, networks: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in net for net in networks)


def client_ip(request) -> str:
    """The address the limits count: the right-most hop no trusted proxy vouches for."""
    remote_text = request.META.get("REMOTE_ADDR", "") or ""
    remote = _parse(remote_text)
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not _trusted(remote, networks):
        return str(remote) if remote is not None else (remote_text or "unknown")
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    client = remote
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # Garbage a trusted proxy passed on: the last address it vouched for is the client.
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def _hit(key: str, limit: int, window: int) -> bool:
    """Count one hit; True while still within the limit."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


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
        if not _hit(f"rl:{action}:{_digest(identity)}", limit, window):
            allowed = False
    return allowed


@dataclass(frozen=True)
class Step:
    """One counter of a growing delay: the first `free` failures start no wait; the next one
    starts a wait of `first` seconds, and each further one doubles it, up to `cap`. A counter is forgotten `forget` seconds
    after its last failure."""

    name: str
    free: int
    first: float
    cap: float
    forget: int = 86_400

    def delay(self, failures: int) -> float:
        over = failures - self.free
        if over <= 0:
            return 0.0
        return min(self.cap, self.first * 2 ** min(over - 1, 30))


class Backoff:
    """A growing delay for an action that guesses a secret (a password) or sends email (a
    reset): after a few free tries each further one must wait twice as long as the last.

    Counted per step, each step naming what it counts (the account, the IP, the pair): a step
    whose wait has not run out refuses the attempt before anything is checked, so a refused
    attempt neither tests a password nor sends an email, and it does not count again.
    """

    def __init__(self, action: str, steps: list[Step]):
        self.action = action
        self.steps = steps

    def _key(self, step: Step, identity: str) -> str:
        return f"bo:{self.action}:{step.name}:{_digest(identity)}"

    def wait(self, identities: dict[str, str]) -> int:
        """Seconds until an attempt is allowed (0: now). `identities` maps step names to what
        that step counts, e.g. {"account": "a@b.c", "ip": "203.0.113.7"}."""
        now = time.time()
        longest = 0.0
        for step in self.steps:
            if step.name not in identities:
                continue
            state = cache.get(self._key(step, identities[step.name]))
            if state:
                longest = max(longest, state[1] - now)
        return max(0, math.ceil(longest))

    def failed(self, identities: dict[str, str]) -> None:
        """Count a failure against every step."""
        now = time.time()
        for step in self.steps:
            if step.name not in identities:
                continue
            key = self._key(step, identities[step.name])
            failures = (cache.get(key) or (0, 0.0))[0] + 1
            cache.set(key, (failures, now + step.delay(failures)), timeout=step.forget)

    def succeeded(self, identities: dict[str, str], *, steps: tuple[str, ...]) -> None:
        """Forget the named steps' failures (a right password clears its account's count)."""
        for step in self.steps:
            if step.name in steps and step.name in identities:
                cache.delete(self._key(step, identities[step.name]))


# Sign-in (docs/security.md "Sign-in and password resets"). The pair of an account and an IP is
# the attacker guessing one account: they are slowed hard. The account alone (from any IP) is
# capped at a minute, so an attacker cannot lock its owner out for longer than that, while
# guessing from many addresses stays at one try a minute. The IP alone slows credential stuffing
# across many accounts.
SIGN_IN = Backoff(
    "signin",
    [
        Step("pair", free=5, first=2, cap=15 * 60),
        Step("account", free=10, first=2, cap=60),
        Step("ip", free=30, first=2, cap=60 * 60),
    ],
)

# Password reset emails: two to an address at once, then 1, 2, 4 ... minutes apart (at most an
# hour); an IP may ask for ten addresses before its own delay starts.
PASSWORD_RESET = Backoff(
    "reset",
    [
        Step("account", free=1, first=60, cap=60 * 60),
        Step("ip", free=9, first=60, cap=60 * 60),
    ],
)
