"""An import killed between storing its issues and counting them: the worker counts them.

The importer stores first and counts into the dashboards after (issues/dashboards/setwise.py,
LaterCount). A process killed outright (the OOM killer, a lost machine, `kill -9`) never reaches
its count; its run stays in ImportRun with the states it stored, and the worker's periodic task
counts them, exactly once."""

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


def _import_process(path, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "true",
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


@pytest.mark.django_db(transaction=True)
def test_a_killed_imports_stored_issues_are_counted_by_the_worker(data_dir, tmp_path):
    require_postgresql()
    path = _big_boston_file(data_dir, tmp_path / "big.csv", copies=20)
    before = snapshot()
    process = _import_process(path, tmp_path)
    try:
        deadline = time.monotonic() + 60
        # Killed once some batches are stored (their states wait to be counted), long before
        # the 12,000 rows are.
        while PendingCount.objects.count() < 200:
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "no batch stored within a minute"
            time.sleep(0.02)
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

    # The killed process's database sessions end (and free its run) a moment after it does.
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


@pytest.mark.django_db(transaction=True)
def test_the_worker_leaves_an_import_that_is_still_running_to_count_its_own():
    require_postgresql()
    later = setwise.LaterCount("test")
    try:
        assert _worker_counts() == 0
        assert ImportRun.objects.get().counted_at is None
    finally:
        later.count()
    assert ImportRun.objects.get().counted_at is not None
