"""The league kept in PostgreSQL per data version (issues/dashboards/stored.py): read instead of
recounted when current, recomputed when a write, a new day or a rebuild made it stale, and never
lost with the cache."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues import services
from issues.dashboards import compare, stored
from issues.dashboards.clock import Clock, city_tz
from issues.models import Issue, LeagueSnapshot, Status
from tests.dashboards.conftest import points_in
from tests.factories import make_issue

pytestmark = pytest.mark.django_db

ROLLUP_TABLES = ("departments_statustally", "departments_daytally", "closehistogram")


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the stored league is PostgreSQL's (DATABASE_URL=postgres://...)")


def read_league():
    """stored.league_context(), and whether it recounted the rollup to answer."""
    with CaptureQueriesContext(connection) as queries:
        ctx = stored.league_context()
    recounted = any(t in q["sql"] for q in queries.captured_queries for t in ROLLUP_TABLES)
    return ctx, recounted


def test_a_stored_league_is_read_not_recounted_and_equals_the_computed_one(scenario):
    first, recounted = read_league()
    assert recounted  # nothing stored yet (no worker): the request computes, as before
    assert LeagueSnapshot.objects.filter(version=stored.data_version()).count() > 0
    second, recounted = read_league()
    assert not recounted
    assert second == first == compare.league_context()
    ward = next(r for r in second.rows if r.ward_id == scenario.ward.pk)
    assert ward.open > 0 and ward.overdue > 0 and ward.median_days is not None


def test_a_flushed_cache_loses_neither_the_figures_nor_their_version(scenario):
    stored.refresh()
    version = stored.data_version()
    cache.clear()
    ctx, recounted = read_league()
    assert not recounted
    assert stored.data_version() == version
    assert ctx == compare.league_context()


def test_a_write_makes_it_stale_and_the_next_request_counts_it(scenario):
    stored.refresh()
    before = stored.data_version()
    open_issue = Issue.objects.get(pk=scenario.issues[1].pk)  # reported 2 days ago, open
    services.change_status(issue=open_issue, to=Status.CLOSED)
    assert stored.data_version() > before
    ctx, recounted = read_league()
    assert recounted
    assert ctx == compare.league_context()
    make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    after, recounted = read_league()
    assert recounted
    assert after.city.open == ctx.city.open + 1
    assert after == compare.league_context()


def test_any_statement_on_the_counters_moves_the_version_raw_sql_included(scenario):
    """An import's set-wise SQL, a migration or a hand-made fix bypass the services: the trigger
    sees them all."""
    stored.refresh()
    before = stored.data_version()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE departments_statustally SET n = n + 1 WHERE ward_key = %s", [0])
    assert stored.data_version() == before + 1
    assert stored.refresh()  # stale: computed again
    assert not stored.refresh()  # current: nothing to do


def test_the_worker_refreshes_it_and_folds_the_version_rows(scenario):
    from issues.models import RollupChange
    from issues.tasks import refresh_league

    version = stored.data_version()
    assert RollupChange.objects.count() > 1  # one per statement of the scenario's writes
    assert refresh_league() is True
    assert RollupChange.objects.count() == 1
    assert stored.data_version() == version
    _, recounted = read_league()
    assert not recounted


def test_a_new_day_is_computed_again(scenario):
    stored.refresh()
    LeagueSnapshot.objects.update(day=Clock.at().today - timedelta(days=1))
    ctx, recounted = read_league()
    assert recounted
    assert ctx == compare.league_context()
    assert LeagueSnapshot.objects.filter(day=Clock.at().today).exists()


def test_an_older_computation_never_replaces_a_newer_one(scenario):
    stored.refresh()
    version = stored.data_version()
    stale = compare.league_context(overdue_today=False)
    stale.city.open = -5
    stored.store(version - 1, Clock.at().today, stale)
    ctx, recounted = read_league()
    assert not recounted
    assert ctx.city.open >= 0


def test_rebuild_rollups_stores_it_for_the_rebuilt_counts(scenario):
    stored.refresh()
    call_command("rebuild_rollups", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert LeagueSnapshot.objects.filter(version=stored.data_version()).exists()
    ctx, recounted = read_league()
    assert not recounted
    assert ctx == compare.league_context()


def test_issues_falling_due_during_the_day_count_as_overdue_at_once(scenario):
    """Stored at noon; an issue due at 12:10 is overdue at 12:20 without any write: the part
    that moves with the minute is read with each request."""
    # The scenario's issues fall due at the time of day it was made (one was reported 72 h
    # ago): when that is near noon, one of them also falls due between 12:00 and 12:20, so the
    # test takes 16:00 instead.
    made = timezone.localtime(timezone=city_tz())
    hour = 12 if abs(made.hour + made.minute / 60 - 12) > 1 else 16
    noon = datetime.combine(Clock.at().today, time(hour), tzinfo=city_tz())
    requested = noon - timedelta(hours=72) + timedelta(minutes=10)  # the pothole's SLA is 72 h
    issue = make_issue(
        scenario.pothole, point=points_in(scenario.ward, 1)[0], requested_at=requested
    )
    assert issue.expected_at == noon + timedelta(minutes=10)
    with mock.patch.object(timezone, "now", return_value=noon):
        at_noon, recounted = read_league()
        assert recounted
    with mock.patch.object(timezone, "now", return_value=noon + timedelta(minutes=20)):
        later, recounted = read_league()
        assert not recounted
        expected = compare.league_context(now=noon + timedelta(minutes=20))
    assert later.city.overdue == at_noon.city.overdue + 1
    assert later == expected


def test_pages_answer_with_the_worker_down_and_the_cache_flushed(client, scenario):
    """No snapshot, no worker, an empty cache: every page that shows the league computes it."""
    LeagueSnapshot.objects.all().delete()
    cache.clear()
    ward = scenario.ward
    for url in ("/wards/", f"/wards/{ward.slug}/", f"/wards/compare/?wards={ward.number},2"):
        assert client.get(url).status_code == 200
        cache.clear()
    assert LeagueSnapshot.objects.exists()
    services.change_status(issue=Issue.objects.get(pk=scenario.issues[1].pk), to=Status.CLOSED)
    page = client.get(f"/wards/{ward.slug}/")
    assert page.status_code == 200
    fresh = next(r for r in compare.league_context().rows if r.ward_id == ward.pk)
    assert stored.league_context() == compare.league_context()
    assert f">{fresh.open}<" in page.content.decode()
