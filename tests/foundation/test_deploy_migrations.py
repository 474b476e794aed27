"""Deploying scans and blocks nothing it need not: the issues' indexes added since 0034 are built
CONCURRENTLY on PostgreSQL, and a database that built one in an older version of a migration
migrates to the same index and the same state (docs/scaling.md, "Deploying")."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from issues.migrations._concurrently import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)

ROOT = Path(__file__).resolve().parents[2]
# Migrations before this one were deployed with their own (blocking) index builds.
FIRST_UNDEPLOYED = "0034"


def test_issue_indexes_since_the_last_deploy_are_built_concurrently():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    checked = 0
    for (app, name), migration in loader.disk_migrations.items():
        if app != "issues" or name < FIRST_UNDEPLOYED:
            continue
        for operation in migration.operations:
            if getattr(operation, "model_name", "").lower() != "issue":
                continue
            if isinstance(operation, migrations.AddIndex | migrations.RemoveIndex):
                checked += 1
                assert isinstance(
                    operation, AddIndexConcurrentlyOnPostgres | RemoveIndexConcurrentlyOnPostgres
                ), f"{name}: {operation.describe()} would block writes to the issues"
                assert not migration.atomic, f"{name}: CONCURRENTLY needs atomic = False"
    assert checked >= 3  # 0037's two and issue_pub_open_ward_oldest's


def _run(database_url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "migrate-test", "DEBUG": "false"})
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


INDEX = "issue_pub_open_ward_oldest"
# The index as the old 0036 built it, inside its transaction.
OLD_0036 = (
    f"CREATE INDEX {INDEX} ON issues_issue (ward_id, requested_at, id)"
    " WHERE (NOT is_hidden AND status IN ('open', 'acknowledged', 'in_progress'))"
)


@pytest.mark.slow
def test_a_database_that_ran_the_old_0036_migrates_to_the_same_index(empty_postgres_url):
    psycopg = pytest.importorskip("psycopg")
    url = empty_postgres_url

    def index() -> tuple | None:
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
            return db.execute(
                "SELECT c.oid, i.indisvalid, pg_get_indexdef(c.oid) FROM pg_class c"
                " JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
                [INDEX],
            ).fetchone()

    def sql(statement: str) -> None:
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
            db.execute(statement)

    _run(url, "issues", "0036")
    assert index() is None  # 0036 no longer builds it
    assert "Applying issues.0038" in _run(url)
    built = index()
    assert built is not None and built[1]

    # As the old 0036 left it: already there when 0038 runs, so kept as it is.
    _run(url, "issues", "0037")
    assert index() is None
    sql(OLD_0036)
    old = index()
    assert "Applying issues.0038" in _run(url)
    assert index() == old and old[2] == built[2]

    # Left invalid by an interrupted concurrent build: built again.
    _run(url, "issues", "0037")
    sql(OLD_0036)
    sql(
        f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{INDEX}'::regclass"  # noqa: S608 (our constant)
    )
    _run(url)
    rebuilt = index()
    assert rebuilt[1] and rebuilt[2] == built[2]
    assert "No migrations to apply" in _run(url)
