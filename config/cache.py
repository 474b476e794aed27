"""The shared cache on Redis, failing open and fast.

Nothing CivicFix keeps in the cache is needed to serve a page or store a report: rate-limit
counters, the page cache and its version counters, the dashboards' figures, the map's clusters,
photos kept between two tries of the report form. So when Redis is down or hung, the cache acts as
an empty cache that keeps nothing, instead of failing the request:

- reads miss (`get` gives the default, `get_many` nothing), writes keep nothing, `add` and
  `delete` say False, and `incr` raises ValueError as it does for a missing key; every caller
  already handles a miss, so a rate limit counts from one and lets the request through, pages
  are rendered from the database, and a write's page-cache bump does nothing;
- every call is bounded by short socket timeouts (settings.CACHE_TIMEOUT_SECONDS), so a Redis
  that accepts connections and never answers costs one timeout, not one per call;
- after a failure, this process stops asking Redis for PAUSE_SECONDS: a page makes several
  cache calls, and without the pause each would wait for its own timeout (a retry storm on a
  Redis that may be struggling to come back). issues/notify/delivery.py does the same for the
  broker. The readiness check (/readyz, config/health.py) asks Redis directly, pause or not.

Only connection errors and timeouts fail open. Anything else (a bug, a wrong type stored under
a key) still raises, so it is seen.
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

# Long enough that a dead Redis costs a process one failed call per pause, short enough that a
# recovered one is used again within seconds.
PAUSE_SECONDS = 15
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError)

# Per process and per Redis location, shared by the threads that each have their own backend.
_down_until: dict[tuple[str, ...], float] = {}


def _miss_incr(key, delta):
    raise ValueError(f"Key '{key}' not found (the cache is unavailable).")


def _fail_open(miss):
    """Run the client method unless this Redis failed in the last PAUSE_SECONDS; on a connection
    error or timeout, start a pause and answer what an empty cache would (`miss`)."""

    def decorator(method):
        @functools.wraps(method)
        def wrapper(self, *args):
            location = tuple(self._servers)
            if time.monotonic() < _down_until.get(location, 0.0):
                return miss(*args)
            try:
                return method(self, *args)
            except UNAVAILABLE as exc:
                _down_until[location] = time.monotonic() + PAUSE_SECONDS
                log.warning(
                    "Cache unavailable (%s: %s); serving without it for %d s",
                    type(exc).__name__,
                    exc,
                    PAUSE_SECONDS,
                )
                return miss(*args)

        return wrapper

    return decorator


class FailOpenClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key=None, *, write=False) -> redis.Redis:
        """One client per connection pool, kept. Django builds a new redis.Redis for every call,
        and redis-py fills ~170 response callbacks in each: 0.15 ms of CPU, as much as the round
        trip, on every cache call (a page-cache hit makes one). A client over a pool is
        thread-safe: each command borrows a connection from the pool."""
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    get = _fail_open(lambda key, default: default)(RedisCacheClient.get)
    get_many = _fail_open(lambda keys: {})(RedisCacheClient.get_many)
    has_key = _fail_open(lambda key: False)(RedisCacheClient.has_key)
    set = _fail_open(lambda key, value, timeout: None)(RedisCacheClient.set)
    add = _fail_open(lambda key, value, timeout: False)(RedisCacheClient.add)
    touch = _fail_open(lambda key, timeout: False)(RedisCacheClient.touch)
    incr = _fail_open(_miss_incr)(RedisCacheClient.incr)
    set_many = _fail_open(lambda data, timeout: None)(RedisCacheClient.set_many)
    delete = _fail_open(lambda key: False)(RedisCacheClient.delete)
    delete_many = _fail_open(lambda keys: None)(RedisCacheClient.delete_many)
    clear = _fail_open(lambda: False)(RedisCacheClient.clear)

    def ping(self) -> None:
        """Ask Redis directly, pause or not (the readiness check); raises when it cannot answer."""
        self.get_client(write=True).ping()
        _down_until.pop(tuple(self._servers), None)


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache with FailOpenClient; settings.CACHES names it when REDIS_URL is set."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenClient

    def ping(self) -> None:
        self._cache.ping()
