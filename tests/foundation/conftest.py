import os
import uuid

import pytest


@pytest.fixture
def empty_postgres_url():
    """The URL of a new empty PostgreSQL database on this machine's server, dropped afterwards:
    for the tests that run `migrate` in a subprocess from nothing. Skipped where no server
    answers, but never on CI, which always has one."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (CI always has it)")
    name = f"civicfix_migrate_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
