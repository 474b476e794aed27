"""A real gunicorn for the bench to time, and its workers' peak memory."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.database import PYTHON, ROOT, environment
from bench.timing import get


class Server:
    """gunicorn from the venv against the bench database; stopped by the pid it was given."""

    def __init__(self, args):
        self.args = args
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        gunicorn = Path(PYTHON).parent / "gunicorn"
        # Never a pipe nobody reads: a server whose pages fail (say, a checkout without its
        # collectstatic) fills 64 KB of tracebacks and then hangs its next request.
        log = self.log() or tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.args.port}",
                "--workers",
                str(self.args.workers),
                "--timeout",
                "300",
                "--log-level",
                "warning",
                *self.worker_class(),
            ],
            cwd=ROOT,
            env=environment(self.args),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        log.close()  # the server has its own copy
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(self.args.port, "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def log(self):
        """`args.server_log`, a file the server's log is appended to, if the caller gives one."""
        path = getattr(self.args, "server_log", None)
        return Path(path).open("ab") if path else None

    def worker_class(self) -> list[str]:
        """Sync workers (gunicorn's default), or threads (`args.gthreads` > 1): gthread. Not
        `args.threads`: bench/run's --threads is the load generator's, and reading it here ran
        bench/run's server as gthread from 2026-12-01 02:00 until it was noticed."""
        threads = getattr(self.args, "gthreads", 0)
        return ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        parent = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(entry.name))
        return pids


def rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False
