"""An import killed between storing its issues and counting them: the worker counts them.

The importer stores first and counts into the dashboards after (issues/dashboards/setwise.py,
LaterCount). A process killed outright (the OOM killer, a lost machine, `kill -9`) never reaches
its count; its run stays in ImportRun with the states it stored, and the worker's periodic task
counts them, exactly once, once the run's lease (IMPORT_LEASE_SECONDS) has run out. A live
import renews its lease in every batch and by a heartbeat between them: no session state, so
the worker never counts it halfway, whichever connection either of them is handed (PgBouncer in
transaction pooling mode; these tests are in its smoke set, `pytest -m pgbouncer`)."""

import csv
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from issues.dashboards import setwise
from issues.models import ImportRun, Issue, PendingCount
from issues.tasks import count_killed_imports
from tests.dashboards.test_rollups import assert_equals_rebuild, snapshot
from tests.fault_support import database_url, require_postgresql


def _big_boston_file(data_dir, path, copies: int):
    """The Boston sample repeated with new ids: enough batches to kill the import half way."""
    with open(data_dir / "boston311_sample.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    id_col = header.index("case_enquiry_id")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for n in range(copies):
            for i, row in enumerate(rows):
                writer.writerow([*row[:id_col], f"{n}-{i}", *row[id_col + 1 :]])
    return path


def _import_process(path, tmp_path, lease_seconds: int = 300) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "true",
        "IMPORT_LEASE_SECONDS": str(lease_seconds),
    }
    env.pop("TEST_DATABASE_NAME", None)
    command = [sys.executable, "manage.py", "import_311", str(path), "--format", "boston"]
    command += ["--batch-size", "50", "--no-progress", "--rejects", str(tmp_path / "r.csv")]
    return subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_stored_batches(process: subprocess.Popen) -> None:
    """Until some batches are stored (their states wait to be counted), long before the 11,960
    rows of the big file are."""
    deadline = time.monotonic() + 60
    while PendingCount.objects.count() < 200:
        assert process.poll() is None, "the import ended before it could be stopped"
        assert time.monotonic() < deadline, "no batch stored within a minute"
        time.sleep(0.02)


@pytest.mark.pgbouncer
@pytest.mark.django_db(transaction=True)
def test_a_killed_imports_stored_issues_are_counted_by_the_worker(data_dir, tmp_path, settings):
    require_postgresql()
    path = _big_boston_file(data_dir, tmp_path / "big.csv", copies=20)
    before = snapshot()
    process = _import_process(path, tmp_path)
    try:
        _wait_for_stored_batches(process)
        os.killpg(process.pid, signal.SIGKILL)  # the command and its reader child
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    [run] = ImportRun.objects.all()
    assert run.counted_at is None
    stored = Issue.objects.filter(external_source="boston311").count()
    assert 0 < stored < 11_960
    assert snapshot() == before  # stored, not yet on the dashboards
    assert _worker_counts() == 0  # its lease (300 s) still runs: it could be alive

    settings.IMPORT_LEASE_SECONDS = 1
    deadline = time.monotonic() + 10
    while not (counted := _worker_counts()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted == 1
    run.refresh_from_db()
    assert run.counted_at is not None
    assert not PendingCount.objects.exists()
    assert_equals_rebuild()
    assert _worker_counts() == 0  # counted once


def _worker_counts() -> int:
    """The worker's task on a connection of its own, as in the worker's process."""
    answer = []

    def work():
        try:
            answer.append(count_killed_imports())
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return answer[0]


@pytest.mark.pgbouncer
@pytest.mark.django_db(transaction=True)
def test_the_worker_leaves_an_import_that_is_still_running_to_count_its_own(settings):
    """On another connection, and on the import's own (a pooler may hand the worker the very
    server connection the import just used: a session lock, re-entrant, let it count), also
    when no batch has come for several leases: the heartbeat renews it."""
    require_postgresql()
    settings.IMPORT_LEASE_SECONDS = 1
    later = setwise.LaterCount("test")
    try:
        assert _worker_counts() == 0
        assert count_killed_imports() == 0  # this connection, the import's
        time.sleep(2.5)  # no batch for two and a half leases
        assert _worker_counts() == 0
        assert count_killed_imports() == 0
        assert ImportRun.objects.get().counted_at is None
    finally:
        later.count()
    assert ImportRun.objects.get().counted_at is not None


@pytest.mark.pgbouncer
@pytest.mark.django_db(transaction=True)
def test_an_import_stalled_past_its_lease_is_counted_in_parts_and_loses_nothing(
    data_dir, tmp_path, settings
):
    """The import's process is stopped (swapped out, SIGSTOP) for longer than its lease: the
    worker counts its run as one that died, with the states stored so far. Continued, its next
    batch finds the run counted and starts a new one, which the import counts at its end:
    every issue counted once, none left waiting."""
    require_postgresql()
    path = _big_boston_file(data_dir, tmp_path / "big.csv", copies=20)
    settings.IMPORT_LEASE_SECONDS = 1
    process = _import_process(path, tmp_path, lease_seconds=1)
    try:
        _wait_for_stored_batches(process)
        os.killpg(process.pid, signal.SIGSTOP)
        time.sleep(1.5)  # past its lease
        # A batch stopped in its transaction holds the run's row: the worker waits for it, so
        # it works on a thread of its own while the import is continued.
        counting = threading.Thread(target=lambda: counted.append(_worker_counts()))
        counted: list[int] = []
        counting.start()
        counting.join(timeout=2)
        os.killpg(process.pid, signal.SIGCONT)
        counting.join(timeout=30)
        assert counted == [1]
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    runs = list(ImportRun.objects.all())
    assert len(runs) >= 2
    assert all(run.counted_at is not None for run in runs)
    assert not PendingCount.objects.exists()
    assert Issue.objects.filter(external_source="boston311").count() == 11_960
    assert_equals_rebuild()
    assert _worker_counts() == 0
