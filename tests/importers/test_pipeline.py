"""The import's background writer: batches written in order on their own connection while the
reader cleans the next, errors raised in the reader, and on PostgreSQL outside a transaction the
same result as writing inline. The reader process: the same rows as reading inline, and its
errors raised in the parent."""

import gc
import multiprocessing
import os
import signal
import threading
import time
from functools import partial

import pytest
from django.db import connection

from departments.importing.readers import Source, SourceError
from issues.importers import service_requests
from issues.importers.formats import BOSTON
from issues.importers.pipeline import (
    PARENT_CHECK_SECONDS,
    BackgroundWriter,
    InlineReader,
    InlineWriter,
    ProcessReader,
    collector_paused,
    writer_for,
)
from issues.importers.service_requests import _clean
from issues.models import Issue, StatusChange


def test_batches_are_written_in_order_on_another_thread():
    seen: list[tuple[int, str]] = []
    writer = BackgroundWriter(lambda batch: seen.append((batch, threading.current_thread().name)))
    for n in range(10):
        writer.submit(n)
    writer.close()

    assert [n for n, _ in seen] == list(range(10))
    assert {name for _, name in seen} == {"import-writer"}


def test_an_error_in_the_writer_is_raised_in_the_reader_and_stops_later_batches():
    written = []

    def write(batch):
        if batch == 2:
            raise ValueError("disk full")
        written.append(batch)

    writer = BackgroundWriter(write, depth=1)
    with pytest.raises(ValueError, match="disk full"):
        for n in range(50):
            writer.submit(n)
        writer.close()
    writer.abort()
    assert written == [0, 1]


@pytest.mark.django_db
def test_inside_a_transaction_batches_are_written_inline():
    # A second connection could not see the caller's uncommitted rows (a test's, or an
    # operator's who wants the whole import atomic).
    assert isinstance(writer_for(print), InlineWriter)


@pytest.mark.django_db(transaction=True)
def test_a_threaded_import_stores_the_same_as_an_inline_one(run_command, data_dir, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the writer thread is used on PostgreSQL only (DATABASE_URL=postgres://...)")
    path = str(data_dir / "boston311_sample.csv")

    output = run_command("import_311", path, "--format", "boston", "--batch-size", "50")

    assert "598 created, 0 updated, 2 rejected" in output
    assert Issue.objects.filter(external_source="boston311").count() == 598
    # Every issue has its "reported" row, written by the thread in the same batch.
    assert StatusChange.objects.filter(from_status="").count() == 598

    output = run_command("import_311", path, "--format", "boston", "--batch-size", "50")
    assert "0 created, 598 updated, 2 rejected" in output
    assert Issue.objects.count() == 598


def test_batches_queued_before_the_reader_fails_are_still_written():
    """As inline: a file that breaks half way keeps every batch cleaned before the break."""
    written = []
    release = threading.Event()

    def slow_write(batch):
        release.wait(5)
        written.append(batch)

    writer = BackgroundWriter(slow_write, depth=2)
    writer.submit(1)
    writer.submit(2)  # queued while the first is being written
    release.set()
    writer.abort()
    assert written == [1, 2]


def test_an_interrupted_import_stops_after_the_batch_in_hand():
    written = []
    started, release = threading.Event(), threading.Event()

    def slow_write(batch):
        started.set()
        release.wait(5)
        written.append(batch)

    writer = BackgroundWriter(slow_write, depth=2)
    writer.submit(1)
    started.wait(5)
    writer.submit(2)
    # Let the first batch finish only once abort() has emptied the queue.
    threading.Timer(0.3, release.set).start()
    writer.abort(keep_queued=False)
    assert written == [1]


_clean_for_test = partial(_clean, mapping=BOSTON)


def test_the_reader_process_yields_what_reading_inline_yields(data_dir):
    path = data_dir / "boston311_sample.csv"
    inline = list(InlineReader(Source(path, "csv"), _clean_for_test))
    reader = ProcessReader(Source(path, "csv"), _clean_for_test, chunk=64)
    try:
        forked = list(reader)
    finally:
        reader.close()
    assert len(forked) == 600
    assert [line for line, _ in forked] == [line for line, _ in inline]
    assert [repr(row) for _, row in forked] == [repr(row) for _, row in inline]
    assert reader.header[0] == "case_enquiry_id"


def test_a_file_the_reader_process_cannot_read_fails_the_import_in_the_parent(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    reader = ProcessReader(Source(empty, "csv"), _clean_for_test)
    try:
        with pytest.raises(SourceError, match="empty"):
            list(reader)
    finally:
        reader.close()


def test_the_collector_is_off_while_an_import_runs_and_on_again_after(db, data_dir, tmp_path):
    """An import makes no garbage cycles, so the cyclic collector only walked the live rows (and
    held the GIL the writer needs): it is off while the import runs, in the reader too, and on
    again afterwards, whether the import ended well or failed."""
    seen: list[bool] = []

    class Recording(service_requests.RequestImporter):
        def _flush(self, batch):
            seen.append(gc.isenabled())
            super()._flush(batch)

    assert gc.isenabled()
    Recording(BOSTON, rejects_path=tmp_path / "rejects.csv").run(data_dir / "boston311_sample.csv")
    assert seen == [False]
    assert gc.isenabled()

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SourceError):
        Recording(BOSTON, rejects_path=tmp_path / "rejects2.csv").run(empty)
    assert gc.isenabled()


def _collector_state(line, record):
    return gc.isenabled()


def test_a_reader_forked_while_the_collector_is_paused_runs_without_it(data_dir):
    """Paused before the reader is forked, the collector stays off in the child too, where each
    of its walks would otherwise copy pages shared with the parent."""
    with collector_paused():
        reader = ProcessReader(Source(data_dir / "boston311_sample.csv", "csv"), _collector_state)
        try:
            states = {state for _, state in reader}
        finally:
            reader.close()
    assert states == {False}
    assert gc.isenabled()


def _dies_at_line_20(line, record):
    if line >= 20:
        os._exit(3)  # as a child killed by the OOM killer would: no exception, no message
    return _clean_for_test(line, record)


def test_a_reader_process_that_dies_fails_the_import_in_the_parent(data_dir):
    reader = ProcessReader(Source(data_dir / "boston311_sample.csv", "csv"), _dies_at_line_20)
    try:
        with pytest.raises(RuntimeError, match=r"reader process stopped \(exit code 3\)"):
            list(reader)
    finally:
        reader.close()


def test_a_reader_process_the_parent_stops_early_is_ended(data_dir):
    # chunk=1, depth=1: the child is blocked on a full queue when the parent stops reading.
    reader = ProcessReader(
        Source(data_dir / "boston311_sample.csv", "csv"), _clean_for_test, chunk=1, depth=1
    )
    rows = iter(reader)
    assert next(rows)[0] == 2
    reader.close()
    assert reader._process.exitcode is not None


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # exited, not yet reaped
    except FileNotFoundError:
        return True


def _parent_of_a_reader(path, pids) -> None:
    reader = ProcessReader(Source(path, "csv"), _clean_for_test, chunk=1, depth=1)
    pids.send(reader._process.pid)
    time.sleep(60)  # never reads: killed by the test meanwhile


def test_a_reader_process_whose_parent_was_killed_leaves(data_dir):
    if not os.path.isdir("/proc/self"):
        pytest.skip("looks for the child in /proc")
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    parent = context.Process(
        target=_parent_of_a_reader, args=(data_dir / "boston311_sample.csv", theirs)
    )
    parent.start()
    child = ours.recv()
    time.sleep(0.5)  # the child fills the queue and waits on put
    assert not _gone(child)
    os.kill(parent.pid, signal.SIGKILL)  # no chance to terminate its child
    parent.join()
    deadline = time.monotonic() + 10 * PARENT_CHECK_SECONDS
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(child), "the reader child outlived its killed parent"


def test_the_writer_starts_on_a_small_first_batch(db, data_dir, tmp_path, monkeypatch):
    """The first batch is FIRST_BATCH rows and the others batch_size: the writer starts once a
    few rows are clean, not once a whole batch is (the database idled meanwhile)."""
    monkeypatch.setattr(service_requests, "FIRST_BATCH", 100)
    sizes: list[int] = []

    class Recording(service_requests.RequestImporter):
        def _flush(self, batch):
            sizes.append(len(batch))
            super()._flush(batch)

    importer = Recording(BOSTON, rejects_path=tmp_path / "rejects.csv", batch_size=250)
    summary = importer.run(data_dir / "boston311_sample.csv")

    assert sizes[:2] == [100, 250]
    assert all(size <= 250 for size in sizes)
    assert sum(sizes) == summary.created + summary.updated > 350
