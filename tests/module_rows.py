"""Rows built once for a whole test module, for modules whose tests only read them.

Each test still runs in its own savepoint (pytest-django's `db`), nested in the module's one
transaction, so whatever a test writes is rolled back as before, and the module's rows are rolled
back after its last test: the next module starts from the same empty database. Only for tests
that request the plain `db` (a transactional test's flush would empty the module's rows)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from config.celery import app

T = TypeVar("T")


@contextlib.contextmanager
def rows_for_the_module(django_db_blocker, media_root: Path, build: Callable[[], T]) -> Iterator[T]:
    """`build()` inside one transaction kept open for the module, under the settings the
    suite's per-test fixtures give a test (tests/conftest.py): files under `media_root`, fast
    password hashing, eager tasks, reads on the primary, the default language."""
    outer = transaction.atomic()
    # Marked as a test case's block, as Django's TestCase marks its own: a service's durable
    # atomic block may then run inside it, as it may inside a test's.
    outer._from_testcase = True
    eager = app.conf.task_always_eager
    with (
        override_settings(
            MEDIA_ROOT=media_root,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            CELERY_TASK_ALWAYS_EAGER=True,
            DATABASE_REPLICA_READS=False,
        ),
        translation.override(settings.LANGUAGE_CODE),
    ):
        app.conf.task_always_eager = True
        try:
            with django_db_blocker.unblock():
                outer.__enter__()
                try:
                    built = build()
                except BaseException:
                    transaction.set_rollback(True)
                    outer.__exit__(None, None, None)
                    raise
        finally:
            app.conf.task_always_eager = eager
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
