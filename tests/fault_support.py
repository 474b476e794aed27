"""Real processes to break: a redis-server of the test's own, a listener that never answers,
and a Celery worker.

The tests start and stop these themselves, each on a free port of its own, so they never touch
the machine's shared Redis (which other test runs and workers use) and never collide with each
other under pytest -n.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
INSTALL_HINT = "Needs redis-server on PATH (Debian: apt-get install redis-server)."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server process on a free port. `kill()` is a crash (SIGKILL, nothing saved);
    `restart()` is an operator's restart (SIGTERM saves the data, which the new process loads)."""

    def __init__(self, folder: Path):
        if not Path(REDIS_SERVER).exists():
            pytest.skip(INSTALL_HINT)
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "3600 1",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


class HungServer:
    """A TCP listener that accepts every connection and never answers: what a hung Redis or
    SMTP server looks like from outside. Counts the connections made to it, so a test can tell
    one timeout from a retry storm."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(128)
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return  # closed
            self.held.append(conn)

    @property
    def connections(self) -> int:
        return len(self.held)

    def url(self, scheme: str = "redis", db: int | None = 0) -> str:
        tail = f"/{db}" if db is not None else ""
        return f"{scheme}://127.0.0.1:{self.port}{tail}"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        for conn in [self.sock, *self.held]:
            with contextlib.suppress(OSError):
                conn.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HungServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# A Celery worker ---------------------------------------------------------------------------------

CELERY = Path(sys.executable).parent / "celery"


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: the worker process must share the test database, and SQLite's "
            "test database lives in this process's memory. Set DATABASE_URL=postgres://..."
        )


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@contextmanager
def celery_worker(
    queue: str, smtp_url: str, tmp_path: Path, broker_url: str, *, concurrency: int = 0
) -> Iterator[tuple[subprocess.Popen, Path]]:
    """`celery worker` on the test database and `broker_url`, in its own process group, killed
    whatever happens; yields the process and its log. `--pool=solo` unless `concurrency` asks
    for the prefork pool production runs (Procfile)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_QUEUE": queue,
        "EMAIL_URL": smtp_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "SITE_URL": settings.SITE_URL,
        "DEBUG": "true",
        "CONN_MAX_AGE": "0",
    }
    env.pop("TEST_DATABASE_NAME", None)
    pool = [f"--concurrency={concurrency}"] if concurrency else ["--pool=solo"]
    log_path = tmp_path / f"{queue}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                *pool,
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_log(process, log_path, b" ready.", "The Celery worker did not start")
        yield process, log_path
    finally:
        # Warm shutdown first (the worker finishes its task), then nothing of the group survives.
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_log(
    process: subprocess.Popen, log_path: Path, text: bytes, failure: str, count: int = 1
) -> None:
    """Wait until the worker's log holds `text` `count` times; fail (with the log) if the worker
    exits or a minute passes first."""
    deadline = time.monotonic() + 60
    while log_path.read_bytes().count(text) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{failure}:\n" + log_path.read_text()[-4000:])
        time.sleep(0.1)
