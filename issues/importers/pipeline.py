"""Overlap reading and writing: while the database stores one batch, Python cleans the next.

An import spends about as long in PostgreSQL (index maintenance, commit) as in Python (CSV,
cleaning, encoding the COPY). Run one after the other, each waits for the other; with the
writes on a thread of their own (and so their own connection), the database works while the
reader cleans. The thread waits on the socket without the GIL, so this is real overlap, not
just interleaving.

The thread is used only on PostgreSQL and only outside a transaction: inside one (a test, or
a caller that wants the whole import atomic) a second connection would not see the caller's
uncommitted rows, so the batches are written inline, in order, exactly as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection, connections

Batch = TypeVar("Batch")

# Batches queued ahead of the writer: enough to keep it busy, few enough to bound memory.
DEPTH = 2
_DONE = object()


class InlineWriter(Generic[Batch]):
    def __init__(self, write: Callable[[Batch], None]):
        self._write = write

    def submit(self, batch: Batch) -> None:
        self._write(batch)

    def close(self) -> None:
        pass

    def abort(self, *, keep_queued: bool = True) -> None:
        pass


class BackgroundWriter(Generic[Batch]):
    """Calls `write(batch)` for each submitted batch, in order, on one background thread.

    An exception in `write` stops the writer and is raised again, in the reader's thread, from
    the next `submit` or from `close`, so a failed import fails the command as before."""

    def __init__(self, write: Callable[[Batch], None], depth: int = DEPTH):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                batch = self._queue.get()
                if batch is _DONE:
                    return
                if self._error is None:
                    try:
                        self._write(batch)
                    except BaseException as exc:  # re-raised in the reader
                        self._error = exc
        finally:
            # This thread's own connection, opened by its first query.
            connections.close_all()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, batch: Batch) -> None:
        self._raise_if_failed()
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        self._raise_if_failed()

    def abort(self, *, keep_queued: bool = True) -> None:
        """The reader failed. Batches already cleaned and queued are still written, as the
        inline writer would have written them, unless the operator interrupted the import
        (keep_queued=False): then stop after the batch in hand. What is committed stays."""
        if not keep_queued:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
        self._queue.put(_DONE)
        self._thread.join()


def writer_for(write: Callable[[Batch], None]) -> InlineWriter | BackgroundWriter:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return BackgroundWriter(write)
    return InlineWriter(write)
