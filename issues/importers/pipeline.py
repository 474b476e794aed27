"""Overlap reading and writing: while the database stores one batch, Python cleans the next.

An import spends about as long in PostgreSQL (index maintenance, commit) as in Python (CSV,
cleaning, encoding the COPY). Run one after the other, each waits for the other; with the
writes on a thread of their own (and so their own connection), the database works while the
reader cleans. The thread waits on the socket without the GIL, so this is real overlap, not
just interleaving.

The thread is used only on PostgreSQL and only outside a transaction: inside one (a test, or
a caller that wants the whole import atomic) a second connection would not see the caller's
uncommitted rows, so the batches are written inline, in order, exactly as before.

The reading and cleaning run in a child process under the same conditions (`reader_for`): on a
thread they would hold the GIL the writer needs for its own Python (building rows, the
rollup's counters, encoding the COPY), so the two took turns instead of overlapping. The child
only reads the file and cleans rows; it never touches the database (it was forked with the
parent's connection and leaves by os._exit, as multiprocessing's children do, without closing
it).

The child pickles each chunk itself, on the thread that reads, and the queue carries bytes.
Left to the queue's own feeder thread, the pickling waited for the GIL the reading thread held:
chunks read in 30 ms reached the parent 100-400 ms later, and the writer waited ~0.4 s for its
first batch (bench/README.md, "import6").
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


# --- the reader ------------------------------------------------------------------------------

# Records cleaned per message to the parent: few enough messages that their cost is nothing,
# small enough that the writer never waits long for the first batch.
CHUNK = 1000
READ_AHEAD = 16  # chunks queued ahead of the parent
PARENT_CHECK_SECONDS = 1.0  # how long the child waits on a full queue before checking its parent


class InlineReader:
    """(line, clean(line, record)) for each record of `source`, in this process. The record
    itself is not passed on: what the parent needs of it (a reject's columns) is in what `clean`
    returns."""

    def __init__(self, source, clean: Callable):
        self._source = source
        self._clean = clean
        self.total = source.total

    @property
    def header(self) -> list[str]:
        return self._source.header

    @property
    def done(self) -> int:
        return self._source.done

    def __iter__(self) -> Iterator[tuple]:
        for line, record in self._source:
            yield line, self._clean(line, record)

    def close(self) -> None:
        pass


class ProcessReader:
    """The same pairs as InlineReader, read and cleaned by a forked child process.

    Only what `clean` returns crosses to the parent: the raw records were most of what was
    pickled (83 MB per 100,000 Boston rows), and unpickling them cost the parent, whose
    writer thread shares its GIL, about 2 s per 100,000 rows.

    `clean` must return (not raise) what it finds wrong with a record, and everything it returns
    must pickle. An exception in the child (the file as a whole unreadable) is raised again here,
    where the parent reaches it in the stream."""

    def __init__(self, source, clean: Callable, chunk: int = CHUNK, depth: int = READ_AHEAD):
        context = multiprocessing.get_context("fork")
        self._queue = context.Queue(maxsize=depth)
        self._process = context.Process(
            target=_produce, args=(source, clean, chunk, self._queue, os.getpid()), daemon=True
        )
        self._process.start()
        self.header: list[str] = []
        self.done = 0
        self.total = source.total

    def __iter__(self) -> Iterator[tuple]:
        while True:
            try:
                message = self._queue.get(timeout=1)
            except queue.Empty:
                if self._process.is_alive():
                    continue
                code = self._process.exitcode
                raise RuntimeError(f"the reader process stopped (exit code {code})") from None
            if message is None:
                return
            if isinstance(message, BaseException):
                raise message
            # From our own forked child, over a pipe only the two processes hold (the queue
            # unpickled its messages just the same before).
            chunk = pickle.loads(message)  # noqa: S301
            self.header, self.done, self.total, items = chunk
            yield from items

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()  # the parent stopped early: an error or an interrupt
        self._process.join()
        self._queue.close()


class _ParentGone(Exception):
    """The process that forked the reader is no longer there to read from it."""


def _produce(source, clean: Callable, chunk: int, out, parent: int) -> None:
    """The child's work: chunks of cleaned records, then None (or the exception that stopped it)."""

    def send(message) -> None:
        # A parent killed outright never terminates its child: the queue full, a child blocked
        # on `put` would wait forever. So wait a little at a time and look for the parent.
        while True:
            try:
                out.put(message, timeout=PARENT_CHECK_SECONDS)
                return
            except queue.Full:
                if os.getppid() != parent:
                    raise _ParentGone from None

    try:
        items = []
        for line, record in source:
            items.append((line, clean(line, record)))
            if len(items) >= chunk:
                send(_pickled(source, items))
                items = []
        send(_pickled(source, items))
        send(None)
    except _ParentGone:
        out.cancel_join_thread()  # what is still buffered has no reader: leave without it
    except BaseException as exc:  # the parent raises it again
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"reading failed: {exc!r}")
        try:
            send(exc)
        except _ParentGone:
            out.cancel_join_thread()
    finally:
        out.close()
        out.join_thread()


def _pickled(source, items: list) -> bytes:
    return pickle.dumps(
        (source.header, source.done, source.total, items), protocol=pickle.HIGHEST_PROTOCOL
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for an import, and on again after it, as it was.

    An import makes no garbage cycles (100,000 Boston rows leave none for the collector at the
    end), so the collector only walks what is alive: Django and the rows in flight, ~0.1 s per
    full collection, ~1 s per 100,000 rows in the parent, holding the GIL its writer needs.
    Off before the reader is forked, it stays off in the child too, which would otherwise copy
    the shared pages each walk touches. Reference counting still frees every row."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reader_for(source, clean: Callable) -> InlineReader | ProcessReader:
    """A child process where the writer runs on its own thread (see writer_for), and only where
    processes can be forked; inline otherwise.

    Call it before `writer_for`: fork copies only the calling thread, with every lock as it was
    at that instant, so a child forked while the writer thread held one (psycopg's, logging's,
    the import machinery's) would wait on it forever. Forked first, the child has no other
    thread's state to inherit."""
    if (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return ProcessReader(source, clean)
    return InlineReader(source, clean)
