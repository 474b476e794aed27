"""Shared fixtures. Tests run against a real database (SQLite locally, PostgreSQL on CI)."""

import os
from urllib.parse import urlsplit

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run under
# one unless told it is safe (it is: the loop is Playwright's, not ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.factories import *  # noqa: F403  (fixtures made from the factories)


def pytest_configure(config):
    """Parallel workers (pytest -n) share one Redis: each gets a database of its own for the cache,
    so one worker's cache.clear() (a FLUSHDB) or page-cache counters never reach another's, nor
    the broker's queues. Runs before anything has opened the cache."""
    from django.conf import settings

    from config.catalogues import compile_catalogues

    # As make does: a run of pytest on its own still sees the catalogues as the .po files are.
    compile_catalogues()

    # Static files as they are in the source folders, whatever DEBUG says: the tests are about
    # pages, and a manifest needs a collectstatic first (~2 s, and one more thing to go stale).
    # tests/foundation/test_static_files.py builds the production manifest once and checks it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not (worker and settings.REDIS_URL):
        return
    number = int(worker.removeprefix("gw") or 0)
    location = urlsplit(settings.CACHES["default"]["LOCATION"])
    db = int(location.path.strip("/") or 0)
    settings.CACHES["default"]["LOCATION"] = location._replace(
        path=f"/{(db + 1 + number) % 16}"
    ).geturl()


# tryfirst: pytest-django then sorts the tests into its groups (plain, transactional, no database)
# keeping this order inside each, so a transactional test's flush still never runs before the
# plain tests of its worker.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The long fuzz runs take minutes: CI runs them (CI=true), `make fuzz` (-m fuzz) runs only
    them, and a developer's `make test` runs the smoke runs (marked `fuzz_smoke`) instead.

    The long tests (marked `fuzz` or `slow`) run first in their group: a parallel run (-n,
    --dist worksteal) then spreads the short ones around them, instead of ending on a
    two-minute test that keeps one worker busy while the others have finished. Each worker
    collects the same order, as xdist requires."""
    items.sort(
        key=lambda item: 0 if "fuzz" in item.keywords else 1 if "slow" in item.keywords else 2
    )
    if os.environ.get("CI") == "true" or "fuzz" in (config.getoption("markexpr") or ""):
        # The long run covers its short run's cases (same seed, more of them): not both.
        covered = pytest.mark.skip(reason="the long fuzz run beside it covers this short run")
        for item in items:
            if "fuzz_smoke" in item.keywords:
                item.add_marker(covered)
        return
    skip = pytest.mark.skip(reason="long fuzz run: CI runs it, or `make fuzz`")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _eager_tasks_and_clean_cache(settings):
    """Tests see delivery in-process unless they start a real worker themselves; rate limits and
    other cached state never leak from one test to the next."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from config.celery import app

    # The test client and the live servers speak plain HTTP, whatever DEBUG says.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    cache.clear()
    # Django keeps content types for the process's life: emptied, so a test's exact query
    # counts do not depend on which tests ran before it in this worker.
    ContentType.objects.clear_cache()
    yield
    app.conf.task_always_eager = previous
    cache.clear()


@pytest.fixture(autouse=True)
def _primary_reads_unless_testing_the_replica(request, settings):
    """With DATABASE_REPLICA_URL set (CI), the suite's tests still read the primary: they write
    rows and read them back at once through a page, which a replica promises only to the writer's
    pinned browser. The routing tests (marked `replica`, tests/multidb/) turn it on and test
    exactly those promises against the real replica."""
    settings.DATABASE_REPLICA_READS = bool(
        settings.DATABASE_REPLICA_URL and request.node.get_closest_marker("replica")
    )


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the city's default language. LocaleMiddleware activates a request's
    language for the thread and leaves it active, so without this a test's Arabic page would
    make the next test's report in Arabic (Issue.reporter_language) when both share a worker."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what a commit would schedule (eager Celery), and return the messages sent."""

    from django.core import mail

    def run(action, *args, **kwargs):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            result = action(*args, **kwargs)
        return result, mail.outbox[before:]

    return run


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs about half a second per account; tests make hundreds of accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# One Chromium for the whole run, defined here only: a second definition in another conftest
# would start a second Playwright inside the first one's event loop, which Playwright refuses.
@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test (no cookies shared), phone-sized by default.
    Requests to anything but the live server are refused, so map tiles never leave the machine."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    context.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: route.abort(),
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
