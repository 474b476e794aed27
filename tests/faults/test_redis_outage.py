"""Redis killed, and Redis hung, while it serves both the cache and the broker (REDIS_URL, as
README deploys it): every request goes through the views, against a redis-server of the test's
own. Reports, comments and staff changes are stored with their emails pending in the outbox,
every page is served from the database, and a hung Redis costs one short timeout per pause, not
one per cache call."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.urls import reverse

from config.celery import app
from departments.models import Ward
from issues import services
from issues.models import Issue, Notification, NotificationState, Status, StatusChange
from issues.notify import delivery
from tests.factories import (
    CITY_HALL,
    make_attribute,
    make_issue,
    make_service_type,
    square_boundary,
)
from tests.notify.test_outbox import reset_broker_connections
from tests.pages.conftest import jpeg_bytes, report_data, upload

pytestmark = pytest.mark.django_db

REPORT_URL = reverse("issues:report")
YES_NO = [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]


@pytest.fixture
def ward(db) -> Ward:
    return Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))


@pytest.fixture
def issue(service_type, ward):
    return make_issue(service_type, reporter_email="pat@example.net")


def a_report(service_type, **extra) -> dict:
    # not_duplicate: past the "Is this it?" check, which other reports nearby would trigger.
    return report_data(service_type, **{"attribute[SIZE]": None, "not_duplicate": "1", **extra})


def public_pages(issue) -> list[str]:
    """One URL of every page kind the page cache serves (docs/caching.md)."""
    return [
        reverse("issues:home"),
        reverse("issues:viewport") + "?bbox=-87.7,41.8,-87.6,41.9&zoom=12",
        issue.get_absolute_url(),
        reverse("wards:index"),
        reverse("wards:detail", args=[issue.ward.slug]),
        reverse("wards:open_issues", args=[issue.ward.slug]),
        reverse("open311:discovery", kwargs={"fmt": "json"}),
        reverse("open311:services", kwargs={"fmt": "json"}),
        reverse("open311:requests", kwargs={"fmt": "json"}),
        reverse("open311:request", kwargs={"service_request_id": issue.public_id, "fmt": "xml"}),
        reverse("opendata:data"),
        reverse("opendata:embed"),
        reverse("opendata:feed_new"),
    ]


def test_report_is_stored_with_its_emails_pending_when_redis_is_killed(
    client, on_redis, service_type, ward, django_capture_on_commit_callbacks
):
    on_redis.kill()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REPORT_URL, a_report(service_type))
    issue = Issue.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{issue.get_absolute_url()}?new=1"
    assert issue.description == "A deep pothole by the bus stop"
    rows = Notification.objects.filter(issue=issue)
    assert set(rows.values_list("recipient_email", flat=True)) == {
        "pat@example.net",  # the receipt
        service_type.department.contact_email,  # the department's copy
    }
    assert set(rows.values_list("state", flat=True)) == {NotificationState.PENDING}


def test_reports_keep_coming_past_the_rate_limit_while_redis_is_down(
    client, on_redis, service_type, ward, settings
):
    """Rate limits fail open: without their counters nobody is refused (a counter that cannot
    be read cannot say a limit was reached)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (2, 3600)}
    on_redis.kill()
    statuses = [
        client.post(REPORT_URL, a_report(service_type, description=f"Pothole {n}")).status_code
        for n in range(4)
    ]
    assert statuses == [302] * 4
    assert Issue.objects.count() == 4


def test_comment_is_stored_when_redis_is_killed(
    client, on_redis, issue, resident, django_capture_on_commit_callbacks
):
    client.force_login(resident)
    on_redis.kill()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("issues:comment", args=[issue.public_id]), {"body": "Still there today"}
        )
    assert response.status_code == 302
    comment = issue.comments.get()
    assert comment.body == "Still there today"
    assert not Notification.objects.exclude(state=NotificationState.PENDING).exists()


def test_staff_status_change_is_kept_when_redis_is_killed(
    client, on_redis, issue, staff_user, django_capture_on_commit_callbacks
):
    """The page-cache bump of a status change runs inside its transaction: it must not take
    the change down with it."""
    client.force_login(staff_user)
    on_redis.kill()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/issues/issue/{issue.pk}/work/status/",
            {"to": "closed", "resolution": "fixed", "message": "Filled this morning"},
        )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == Status.CLOSED
    change = StatusChange.objects.get(issue=issue, to_status=Status.CLOSED)
    assert change.message == "Filled this morning"
    assert Notification.objects.filter(issue=issue, event="status_changed").exists()


def test_every_cached_page_is_served_from_the_database_when_redis_is_killed(
    client, on_redis, issue
):
    pages = public_pages(issue)
    assert [client.get(url).status_code for url in pages] == [200] * len(pages)
    on_redis.kill()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "X-Page-Cache" not in response, url
        # An ETag made without the data's version could answer a later 304 wrongly.
        assert "ETag" not in response, url


def test_pending_emails_go_out_once_redis_is_back(
    client, on_redis, service_type, ward, settings, django_capture_on_commit_callbacks
):
    on_redis.kill()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REPORT_URL, a_report(service_type))
    assert mail.outbox == []
    on_redis.start()
    # Beat's re-queue hands the rows over (run eagerly here; tests/notify has a real worker).
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    reset_broker_connections()
    assert delivery.requeue_pending(older_than_seconds=0) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["pat@example.net", service_type.department.contact_email]
    )


def test_hung_redis_is_asked_once_not_once_per_cache_call(
    client, on_hung_redis, settings, issue, service_type, django_capture_on_commit_callbacks
):
    """A listener that accepts and never answers: the first cache call waits one short timeout,
    and the process then leaves Redis alone for a while instead of waiting on every call."""
    pages = public_pages(issue)
    started = time.monotonic()
    statuses = [client.get(url).status_code for url in pages]
    with django_capture_on_commit_callbacks(execute=True):
        report = client.post(REPORT_URL, a_report(service_type, description="On a hung Redis"))
    elapsed = time.monotonic() - started
    assert statuses == [200] * len(pages)
    assert report.status_code == 302
    assert Issue.objects.filter(description="On a hung Redis").exists()
    # One connection for the cache; the broker's publish makes its own (and pauses likewise).
    assert on_hung_redis.connections == 2
    # Before: 5 s per cache call, then a 500. Now: one cache timeout and one broker timeout
    # for everything (a generous bound: this is about not hanging, not about speed).
    budget = (
        settings.CACHE_TIMEOUT_SECONDS
        + settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"]
        + settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"]
    )
    assert elapsed < budget + 2


def test_the_cache_is_used_again_once_readiness_sees_redis_answer(client, on_redis, issue):
    home = reverse("issues:home")
    on_redis.kill()
    assert "X-Page-Cache" not in client.get(home)
    on_redis.start()
    assert "X-Page-Cache" not in client.get(home)  # still pausing: no waiting on Redis
    assert client.get(reverse("readyz")).json()["status"] == "ok"  # ends the pause (or 15 s)
    assert client.get(home)["X-Page-Cache"] == "miss"
    assert client.get(home)["X-Page-Cache"] == "hit"
    services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=None)
    assert client.get(home)["X-Page-Cache"] == "miss"


def test_one_redis_client_is_kept_and_serves_again_after_a_restart(client, on_redis, issue):
    """config/cache.py keeps one client per pool (Django built one per call); the kept client
    borrows a fresh connection from its pool once Redis is back."""
    from django.core.cache import cache

    kept = cache._cache.get_client()
    home = reverse("issues:home")
    assert client.get(home)["X-Page-Cache"] == "miss"
    on_redis.kill()
    assert "X-Page-Cache" not in client.get(home)
    on_redis.start()
    assert client.get(reverse("readyz")).json()["status"] == "ok"
    assert client.get(home)["X-Page-Cache"] == "miss"
    assert client.get(home)["X-Page-Cache"] == "hit"
    assert cache._cache.get_client() is kept
    assert cache._cache.get_client(write=True) is kept  # one server: one pool for both


def test_photos_the_cache_cannot_keep_are_asked_for_again_not_dropped_unsaid(
    client, on_redis, department, ward
):
    """A report sent back for a correction keeps its photos in the cache; with Redis down they
    cannot be kept, so the form says so instead of showing them attached and losing them."""
    asked = make_service_type(department, code="tree", name="Tree down")
    make_attribute(asked, "BLOCKING", "singlevaluelist", required=True, values=YES_NO)
    on_redis.kill()
    photo = upload("tree.jpg", jpeg_bytes())
    response = client.post(REPORT_URL, a_report(asked, photos=[photo]))  # no answer given
    page = response.content.decode()
    assert response.status_code == 400
    assert "We could not keep the photo you attached. Please attach it again." in page
    assert 'name="kept_photo"' not in page
    assert "A deep pothole by the bus stop" in page  # what was typed comes back
