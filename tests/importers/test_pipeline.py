"""The import's background writer: batches written in order on their own connection while the
reader cleans the next, errors raised in the reader, and on PostgreSQL outside a transaction the
same result as writing inline. The reader process: the same rows as reading inline, and its
errors raised in the parent."""

import threading

import pytest
from django.db import connection

from departments.importing.readers import Source, SourceError
from departments.importing.rejects import Reject
from issues.importers.formats import BOSTON
from issues.importers.pipeline import (
    BackgroundWriter,
    InlineReader,
    InlineWriter,
    ProcessReader,
    writer_for,
)
from issues.importers.records import RowError, to_row
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


def _clean_for_test(line, record):
    if isinstance(record, Reject):
        return record
    try:
        return to_row(line, record, BOSTON)
    except RowError as exc:
        return Reject(line, str(exc), record)


def test_the_reader_process_yields_what_reading_inline_yields(data_dir):
    path = data_dir / "boston311_sample.csv"
    inline = list(InlineReader(Source(path, "csv"), _clean_for_test))
    reader = ProcessReader(Source(path, "csv"), _clean_for_test, chunk=64)
    try:
        forked = list(reader)
    finally:
        reader.close()
    assert len(forked) == 600
    assert [(line, record) for line, record, _ in forked] == [(n, r) for n, r, _ in inline]
    assert [repr(row) for _, _, row in forked] == [repr(row) for _, _, row in inline]
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
