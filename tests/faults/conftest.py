"""The site as README deploys it, on processes the tests own and break: one Redis serving the
cache and the broker, an SMTP server, the database."""

from __future__ import annotations

import pytest

from config import cache as fail_open_cache
from config.celery import app
from tests.fault_support import HungServer, RedisServer
from tests.notify.test_outbox import reset_broker_connections


def use_redis(settings, url: str) -> None:
    """Cache and broker on `url`, as REDIS_URL sets them (config/settings.py), tasks published
    to the broker instead of run in-process."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "civicfix",
            "OPTIONS": {
                "socket_connect_timeout": settings.CACHE_TIMEOUT_SECONDS,
                "socket_timeout": settings.CACHE_TIMEOUT_SECONDS,
            },
        }
    }
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_broker_connections()
    fail_open_cache._down_until.clear()


@pytest.fixture
def redis_server(tmp_path):
    folder = tmp_path / "redis"
    folder.mkdir()
    with RedisServer(folder) as server:
        yield server


@pytest.fixture
def on_redis(redis_server, settings):
    """The cache and the broker on the test's own redis-server; yields the server to break."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    use_redis(settings, redis_server.url())
    yield redis_server
    app.conf.broker_url, app.conf.task_always_eager = saved
    reset_broker_connections()
    fail_open_cache._down_until.clear()


@pytest.fixture
def on_hung_redis(settings):
    """The cache and the broker on a listener that accepts connections and never answers."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    with HungServer() as hung:
        use_redis(settings, hung.url())
        yield hung
    app.conf.broker_url, app.conf.task_always_eager = saved
    reset_broker_connections()
    fail_open_cache._down_until.clear()
