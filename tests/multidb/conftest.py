"""The real replica (.ci/replica makes one on port 5433): waiting for it, and pausing it to
simulate lag. The tests that use it run where DATABASE_REPLICA_URL is set and skip elsewhere."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
NO_REPLICA = (
    "no read replica: set DATABASE_REPLICA_URL to a streaming replica of DATABASE_URL "
    "(bash .ci/replica makes one on 127.0.0.1:5433, and .ci/run sets it)"
)
# Pausing replay pauses the whole replica cluster, so the replica tests of parallel pytest
# workers take turns (a lock file beside the other processes' temp files).
LOCK_FILE = Path(tempfile.gettempdir()) / "civicfix-replica-tests.lock"


def replica_caught_up(timeout: float = 20.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # The insert position, not pg_current_wal_lsn() (the write position): with
        # synchronous_commit=off (.ci/run's PGOPTIONS) a commit can sit in WAL buffers beyond
        # the write position, so waiting for that could return before the commit is replayed.
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while True:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay up to {target} in {timeout} s")
        time.sleep(0.02)


@contextlib.contextmanager
def replication_paused() -> Iterator[None]:
    """Lag on demand: the replica stops replaying WAL (it keeps receiving it) until the block
    ends, so whatever the primary commits meanwhile is missing from the replica."""
    replica_caught_up()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
        for _ in range(500):
            cursor.execute("SELECT pg_get_wal_replay_pause_state()")
            if cursor.fetchone()[0] == "paused":
                break
            time.sleep(0.01)
    try:
        yield
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
def replica(settings) -> Iterator[None]:
    """The replica, to this test alone; replay running again however the test ends."""
    with LOCK_FILE.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            with connections["replica"].cursor() as cursor:
                cursor.execute("SELECT pg_wal_replay_resume()")
            fcntl.flock(lock, fcntl.LOCK_UN)
