"""Real servers for the city-system tests: a second live CivicFix process playing the city's 311
system (its own SQLite database, its own port, gunicorn), a fault-injecting HTTP proxy in front of
it, and a plain file server for the real Bloomington files. No mocked HTTP: every byte goes through
a socket."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SEED = Path(__file__).with_name("seed_city.py")
# Ports come from the range this branch may use; CIVICFIX_TEST_PORTS=8400-8499 by default.
PORTS = os.environ.get("CIVICFIX_TEST_PORTS", "8400-8499")
# Environment the city's process must not inherit from the test run (it has its own database,
# no broker, mail to its log).
NOT_INHERITED = (
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "DATABASE_POOLER",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "TEST_DATABASE_NAME",
    "EMAIL_URL",
    "CI",
    "PYTEST_XDIST_WORKER",
    "PYTEST_CURRENT_TEST",
)


def free_port() -> int:
    low, high = (int(p) for p in PORTS.split("-"))
    candidates = list(range(low, high + 1))
    # Parallel workers (pytest -n) take turns through the range, so a city one worker stopped
    # on purpose is never answered by another worker's city that happened to take its port.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        candidates = candidates[int(worker[2:]) % count :: count] or candidates
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {PORTS}")


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The city's process died:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"The city's process did not answer {url}:\n{log.read_text()[-4000:]}")


def _migrated_template() -> Path:
    """An empty, migrated database, made once per set of migrations (migrating takes many
    seconds on a busy machine) and copied for every city process."""
    migrations = sorted(BASE_DIR.glob("*/migrations/0*.py"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in migrations)).hexdigest()[:16]
    template = Path(tempfile.gettempdir()) / f"civicfix-city-template-{digest}.sqlite3"
    if template.exists():
        return template
    scratch = template.with_suffix(f".{os.getpid()}.tmp")
    env = {**_base_env(), "DATABASE_URL": f"sqlite:///{scratch}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    with contextlib.suppress(OSError):
        Path(f"{scratch}-wal").unlink()
        Path(f"{scratch}-shm").unlink()
    os.replace(scratch, template)
    return template


def _base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        {
            "SECRET_KEY": "the-city-s-own-secret-key-for-tests",
            "DEBUG": "false",
            # Production settings, but no collectstatic in a test: plain static names.
            "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "EMAIL_URL": "consolemail://",
            "OPEN311_JURISDICTION": "city.example",
            "SITE_NAME": "City 311",
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_OPEN311_POSTS_PER_HOUR": "100000",
        }
    )
    return env


@dataclass
class LiveCivicFix:
    """Another CivicFix, in its own process, with its own database and port."""

    folder: Path
    port: int = 0
    seeded: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    # Empty: a SQLite file in the folder, copied from a migrated template. The benchmark gives a
    # PostgreSQL database instead, migrated here.
    database_url: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.folder / "city.sqlite3"

    def env(self) -> dict:
        return {
            **_base_env(),
            "DATABASE_URL": self.database_url or f"sqlite:///{self.database}",
            "SITE_URL": self.url,
            "MEDIA_ROOT": str(self.folder / "media"),
        }

    def prepare(self) -> None:
        self.port = self.port or free_port()
        if self.database_url:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
                cwd=BASE_DIR,
                env=self.env(),
                check=True,
                timeout=900,
            )
        else:
            shutil.copyfile(_migrated_template(), self.database)
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SEED.read_text()],
            cwd=BASE_DIR,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.seeded = json.loads(done.stdout.strip().splitlines()[-1])

    def start(self) -> None:
        log = self.folder / "city.log"
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                ],
                cwd=BASE_DIR,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for(f"{self.url}/healthz", self.process, log)

    def stop(self) -> None:
        """Down, as a crashed server is: the port refuses connections."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def get_json(self, path: str, **params):
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=20) as answer:
            return json.loads(answer.read())

    def requests_mentioning(self, text: str, service_code: str) -> list[dict]:
        """The city's requests of a type whose description mentions `text` (our reference)."""
        found = self.get_json(
            "/open311/v2/requests.json", service_code=service_code, page_size=1000
        )
        return [r for r in found if text in (r.get("description") or "")]


# -- a proxy that misbehaves on purpose ----------------------------------------------------------


@dataclass
class Rule:
    """What the proxy does to the next `times` requests of a method whose path contains `path`."""

    method: str
    path: str
    action: str  # fail_500 | fail_404 | forward_then_500 | forward_then_cut | forward_then_garbage
    #              | forward_as_token | token_not_ready | forward_then_hang
    times: int = 1


class _LocalServer:
    """A threaded HTTP server of the test process, on a port of the range."""

    server: ThreadingHTTPServer
    port: int

    def _serve(self, handler) -> None:
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FaultProxy(_LocalServer):
    """A real HTTP server in front of the city's process that forwards requests and, when a rule
    says so, answers 500 without forwarding, forwards and then answers 500, cuts the answer off,
    answers garbage, turns the id into a token, or hangs after forwarding."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self._serve(self._handler())

    def add(self, *rules: Rule) -> None:
        with self.lock:
            self.rules.extend(rules)

    def posts(self, path: str) -> int:
        return sum(1 for method, p, _ in self.seen if method == "POST" and path in p)

    def _take(self, method: str, path: str) -> str:
        with self.lock:
            for rule in self.rules:
                if rule.method == method and rule.path in path and rule.times > 0:
                    rule.times -= 1
                    self.seen.append((method, path, rule.action))
                    return rule.action
            self.seen.append((method, path, "forward"))
            return "forward"

    def _forward(self, method: str, path: str, headers, body: bytes):
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        connection.request(method, path, body=body or None, headers=forwarded)
        answer = connection.getresponse()
        data = answer.read()
        connection.close()
        return answer.status, answer.getheader("Content-Type", "text/plain"), data

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, content_type: str, body: bytes, *, cut=False):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                self.wfile.flush()
                self.close_connection = True
                if cut:
                    self.connection.shutdown(socket.SHUT_RDWR)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = proxy._take(self.command, self.path)
                if action == "fail_500":
                    return self._answer(500, "text/html", b"<h1>Server Error</h1>")
                if action == "fail_404":
                    return self._answer(404, "text/html", b"<h1>Not Found</h1>")
                if action == "token_not_ready":
                    token = self.path.rsplit("/", 1)[-1].split(".")[0]
                    return self._answer(
                        200, "application/json", json.dumps([{"token": token}]).encode()
                    )
                try:
                    status, content_type, data = proxy._forward(
                        self.command, self.path, self.headers, body
                    )
                except ConnectionRefusedError:  # the city's process is down: a gateway's 502
                    return self._answer(502, "text/html", b"<h1>Bad Gateway</h1>")
                if action == "forward_then_500":
                    return self._answer(500, "text/html", b"<h1>Internal Server Error</h1>")
                if action == "forward_then_cut":
                    return self._answer(status, content_type, data, cut=True)
                if action == "forward_then_garbage":
                    return self._answer(200, "application/json", b"<html>maintenance</html>")
                if action == "forward_then_hang":
                    time.sleep(3)
                if action == "forward_as_token":
                    created = json.loads(data)
                    data = json.dumps(
                        [{"token": created[0]["service_request_id"], "service_notice": None}]
                    ).encode()
                return self._answer(status, content_type, data)

            do_GET = do_POST = _handle

        return Handler


class FileServer(_LocalServer):
    """Serves fixed files at fixed paths (the Bloomington service list and requests), over a
    real socket; anything else is a 404 in GeoReport's error format."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        files_ = files

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                body = files_.get(path)
                status = 200 if body is not None else 404
                if body is None:
                    body = json.dumps([{"code": 404, "description": f"{path} not found"}]).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._serve(Handler)
