"""Real web server processes (gunicorn, as the Procfile runs them) for the tests that need more
than one: each is started against this test run's PostgreSQL database and Redis, on a port of
its own, and stopped (by its own process id) when the block ends."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

ROOT = Path(__file__).resolve().parents[2]
# Ports for test servers on the shared machine (this project's multidb range).
PORTS = range(8630, 8660)


def postgres_and_redis() -> bool:
    return (
        connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
        and settings.CACHES["default"]["BACKEND"] == "config.cache.FailOpenRedisCache"
    )


NOT_SHARED = (
    "needs PostgreSQL and Redis (DATABASE_URL=postgres://..., REDIS_URL=redis://...): "
    "with SQLite and per-process caches two web processes share nothing to test"
)


def free_ports(count: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"no {count} free ports in {PORTS}")


def database_url() -> str:
    """This test run's database (the test database pytest-django made), as a URL."""
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def server_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DATABASE_"))}
    cache = settings.CACHES["default"]["LOCATION"]  # this pytest worker's Redis database
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=cache,
        CACHE_URL=cache,
        # No broker: each server delivers in-process, nothing is left queued in Redis.
        CELERY_BROKER_URL="",
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        # Static files from the source folders, as in the rest of the tests (no collectstatic).
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
        WHITENOISE_USE_FINDERS="true",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server for {url} did not answer in {timeout} s")


@contextlib.contextmanager
def web_servers(
    count: int,
    *,
    ports: list[int] | None = None,
    options: list[tuple[list[str], dict[str, str]]] | None = None,
    **env: str,
) -> Iterator[list[str]]:
    """`count` gunicorn processes (one sync worker each) sharing the database and Redis; yields
    their base URLs. `ports`: theirs (free_ports(count) when not given, for a caller that must
    name one server's URL in another's environment); `options[i]`: more gunicorn arguments and
    more environment for the i-th (a worker class, its own settings)."""
    ports = ports or free_ports(count)
    options = options or [([], {})] * count
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    with tempfile.TemporaryFile() as log, _stopped_after() as processes:
        for port, (arguments, own_env) in zip(ports, options, strict=True):
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "config.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--timeout",
                        "60",
                        *arguments,
                    ],
                    cwd=ROOT,
                    env=server_environment(**env, **own_env),
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        try:
            for url, process in zip(urls, processes, strict=True):
                _wait_until_up(url, process)
        except RuntimeError as error:
            log.seek(0)
            raise RuntimeError(f"{error}\n{log.read().decode(errors='replace')[-3000:]}") from None
        yield urls


@contextlib.contextmanager
def _stopped_after() -> Iterator[list[subprocess.Popen]]:
    """Stops the processes put in the list, each by its own id, however the block ends: their
    connections to the test database must be gone before pytest drops it."""
    processes: list[subprocess.Popen] = []
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
