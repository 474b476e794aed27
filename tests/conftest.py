"""Shared fixtures. Tests run against a real database (SQLite locally, PostgreSQL on CI)."""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run under
# one unless told it is safe (it is: the loop is Playwright's, not ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.factories import *  # noqa: F403  (fixtures made from the factories)


@pytest.fixture(autouse=True)
def _eager_tasks_and_clean_cache(settings):
    """Tests see delivery in-process unless they start a real worker themselves; rate limits and
    other cached state never leak from one test to the next."""
    from django.core.cache import cache

    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    cache.clear()
    yield
    app.conf.task_always_eager = previous
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
