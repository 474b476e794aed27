"""bench/load's run: its own redis-server, one Celery worker and beat, one or two gunicorn web
process sets, the clients of bench/load_clients.py for a fixed time, optionally Redis killed
part-way, and afterwards the count of reports stored and their outbox rows."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.database import PYTHON, ROOT, environment, manage, query
from bench.load_clients import Harvester, Probe, Recorder, Resident, Staff
from bench.server import Server

CELERY = str(Path(PYTHON).parent / "celery")
MARKER = re.compile(r"loadmark-[\w-]+")


def load_environment(args) -> None:
    """Settings for every process the run starts (bench/database.py's `environment` reads
    os.environ): every client comes from 127.0.0.1, so the per-IP limits are lifted as bench/run
    lifts the report limit; email goes nowhere (the worker still renders and "sends" it)."""
    os.environ.update(
        RATE_LIMIT_REPORTS_PER_HOUR="1000000",
        RATE_LIMIT_VOTES_PER_HOUR="1000000",
        RATE_LIMIT_OPEN311_POSTS_PER_HOUR="1000000",
        EMAIL_URL="dummymail://",
        MEDIA_ROOT=str(args.dir / "media"),
        PRIVATE_MEDIA_ROOT=str(args.dir / "private_media"),
    )


class Redis:
    """A redis-server of the run's own on --redis-port, killed (SIGKILL) and started again by
    its process id; nothing saved, so a kill loses everything it held, as a crash does."""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        for _ in range(50):
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server on {self.port} did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def celery(args, *command: str) -> subprocess.Popen:
    with (args.dir / f"celery-{command[0]}.log").open("ab") as log:
        return subprocess.Popen(
            [CELERY, "-A", "config", *command, "--loglevel=warning"],
            cwd=ROOT, env=environment(args), stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cast(args, run: str) -> dict:
    out = manage(
        args, "shell", "-c",
        f"import bench.load_setup as s; s.run({args.residents}, 200, {args.staff * 400})",
    )  # fmt: skip
    data = json.loads(out.strip().splitlines()[-1])
    return {**data, "run": run, "staff_threads": args.staff}


def killer(args, redis: Redis, recorder: Recorder, events: list) -> threading.Thread:
    """Kill Redis at --kill-redis-at of the run, start it again --redis-down seconds later."""

    def act():
        time.sleep(args.duration * args.kill_redis_at)
        redis.kill()
        events.append(("Redis killed", time.monotonic() - recorder.started))
        time.sleep(args.redis_down)
        redis.start()
        events.append(("Redis started again (empty)", time.monotonic() - recorder.started))

    return threading.Thread(target=act, daemon=True)


def drive(args, ports: list[int], data: dict, recorder: Recorder) -> None:
    stop_at = time.monotonic() + args.duration
    clients = (
        [Resident(ports, recorder, data, n, stop_at) for n in range(args.residents)]
        + [Staff(ports, recorder, data, n, stop_at) for n in range(args.staff)]
        + [Harvester(ports, recorder, data, n, stop_at) for n in range(args.harvesters)]
        + [Probe(ports, recorder, data, 0, stop_at)]
    )
    threads = [threading.Thread(target=c.run) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one_run(args, sets: int, redis: Redis) -> dict:
    """`sets` web process sets on consecutive ports, the clients for --duration seconds."""
    run = dt.datetime.now(dt.UTC).strftime("%H%M%S") + f"s{sets}"
    data = cast(args, run)
    servers = []
    for k in range(sets):
        one = copy.copy(args)
        one.port = args.port + k
        one.server_log = str(args.dir / f"gunicorn-{run}-{k}.log")
        servers.append(Server(one))
    with contextlib.ExitStack() as stack:
        for server in servers:
            stack.enter_context(server)
        for k in range(sets):
            warm(args.port + k, data)
        recorder = Recorder()
        events: list = []
        if args.kill_redis_at:
            killer(args, redis, recorder, events).start()
        load = os.getloadavg()
        drive(args, [args.port + k for k in range(sets)], data, recorder)
        elapsed = time.monotonic() - recorder.started
        load_end = os.getloadavg()
    return {
        "run": run, "sets": sets, "dir": str(args.dir), "elapsed": elapsed, "recorder": recorder, "events": events,
        "load": (load, load_end), "logs": [s.args.server_log for s in servers],
        "stored": verify(args, run, recorder),
    }  # fmt: skip


def warm(port: int, data: dict) -> None:
    """One request of each page to each set before the clock starts (imports, first connection)."""
    from bench.timing import get

    for path in ("/", "/report/", f"/issues/{data['issues'][0]}/", "/open311/v2/services.json"):
        get(port, path)


def verify(args, run: str, recorder: Recorder) -> dict:
    """Every report a client was told is in, looked up by its marker; its outbox rows; and the
    run's outbox drained by the worker (up to --drain seconds, beat re-queues every minute)."""
    pattern = f"%loadmark-{run}-%"
    rows = query(
        args,
        "SELECT i.description, i.id, count(n.id), count(n.id) FILTER (WHERE n.state = 'pending') "
        "FROM issues_issue i LEFT JOIN issues_notification n ON n.issue_id = i.id "
        "WHERE i.description LIKE %s GROUP BY i.id",
        [pattern],
    )
    stored = {MARKER.search(d).group(0): (pk, n, pending) for d, pk, n, pending in rows}
    answered = [m for m, _public_id, _t in recorder.reports]
    missing = [m for m in answered if m not in stored]
    without_outbox = [m for m in answered if m in stored and stored[m][1] == 0]
    started = time.monotonic()
    pending = None
    while time.monotonic() < started + args.drain:
        pending = query(
            args,
            "SELECT count(*) FROM issues_notification n JOIN issues_issue i ON i.id = n.issue_id "
            "WHERE i.description LIKE %s AND n.state = 'pending'",
            [pattern],
        )[0][0]
        if pending == 0:
            break
        time.sleep(2)
    drained_after = time.monotonic() - started
    return {
        "answered": len(answered), "stored": len(stored), "missing": missing,
        "without_outbox": without_outbox,
        "outbox_rows": sum(v[1] for v in stored.values()),
        "pending_at_end": sum(v[2] for v in stored.values()),
        "pending_after_drain": pending, "drain_seconds": drained_after,
    }  # fmt: skip


def main(args) -> int:
    from bench.load_report import print_result

    args.dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    load_environment(args)
    redis = Redis(args.redis_port)
    redis.start()
    args.redis = f"redis://127.0.0.1:{args.redis_port}/0"
    print(f"{args.db}; logs in {args.dir}; load average {os.getloadavg()}", flush=True)
    # DEBUG is off: the pages name the hashed static files the release step collects.
    manage(args, "collectstatic", "--no-input", "-v", "0")
    worker = celery(args, "worker", "--concurrency", "1")
    beat = celery(args, "beat", "--schedule", str(args.dir / "beat-schedule"))
    try:
        for sets in (int(s) for s in args.sets.split(",")):
            print_result(one_run(args, sets, redis))
    finally:
        stop(beat)
        stop(worker)
        redis.stop()
    return 0
