"""Sending outbox rows on a thread of the web process, for sites that run without a broker.

Without REDIS_URL, Celery runs tasks eagerly, in the process that asks (embedded mode, which a
small city may run in production). Handing rows over after commit then meant sending them inside
the resident's request: with an SMTP server that accepts connections and never answers, one
report was held 80 s (each row waited EMAIL_TIMEOUT to connect and again to send). So when mail
leaves the machine, rows are handed to one daemon thread per process instead, and the request
returns at once. The thread also does beat's job there (there is no beat without a broker):
every minute it hands over the rows left pending for a retry.

It knows nothing of what it runs (delivery.py gives it its two jobs), so it sits below delivery
in the package's layers. If the process exits, what it had not sent yet stays pending in the
outbox and goes out with the next sweep, as with a dead worker.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0  # as often as beat's re-queue runs (config/celery.py)


_STOP = object()


class BackgroundSender:
    """One daemon thread, started when first needed, running `send(ids)` for each batch handed
    over and `sweep()` whenever it has been idle for `sweep_seconds`. It ends on `stop()`, or
    when `active()` says background sending is off (the settings changed)."""

    def __init__(
        self,
        *,
        send: Callable[[list[int]], object],
        sweep: Callable[[], object],
        active: Callable[[], bool],
        sweep_seconds: float = SWEEP_SECONDS,
    ):
        self._send, self._sweep, self._active = send, sweep, active
        self.sweep_seconds = sweep_seconds
        # Batches of ids, Events to set once everything queued before them is done, or _STOP.
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hand_over(self, ids: list[int]) -> None:
        """Queue a batch for the thread; never waits for it."""
        self._queue.put(list(ids))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything handed over so far is done (tests, an orderly shutdown).
        True at once when no thread is running."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what was handed over, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _run(self) -> None:
        while self._active():
            try:
                item = self._queue.get(timeout=self.sweep_seconds)
            except queue.Empty:
                self._do(self._sweep)
                continue
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            self._do(lambda ids=item: self._send(ids))

    def _do(self, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:
            # A row records its own failures; this is a bug or the database going away. The
            # rows stay pending and the next sweep tries again.
            log.exception("Background sending failed; the rows stay pending")
        finally:
            # Django opens a connection per thread: this one must not hold it between jobs.
            connections.close_all()
