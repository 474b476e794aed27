"""A ward's dashboard and a type's trend kept in PostgreSQL per data version, as the league is
(issues/dashboards/stored.py): read instead of recounted when current, counted again after a
write, a new day or a statement on any counter they read, and refreshed by the worker for the
pages people read."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from issues import services
from issues.dashboards import stored, trends
from issues.dashboards import ward as ward_figures
from issues.dashboards.clock import Clock, city_tz
from issues.models import FigureSnapshot, Issue, Status
from issues.models.dashboards import VERSIONED
from issues.tasks import refresh_league
from tests.dashboards.conftest import points_in
from tests.factories import make_issue, make_service_type

pytestmark = pytest.mark.django_db

COUNTERS = ("statustally", "daytally", "closehistogram", "heattally")


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("stored figures are PostgreSQL's (DATABASE_URL=postgres://...)")


@pytest.fixture
def noon():
    """One fixed 'now', so the stored and the computed figures share their clock."""
    at = datetime.combine(Clock.at().today, time(12), tzinfo=city_tz())
    with mock.patch.object(timezone, "now", return_value=at):
        yield at


def counted(read):
    """read()'s answer, and whether it recounted the rollup to give it."""
    with CaptureQueriesContext(connection) as queries:
        answer = read()
    recounted = any(t in q["sql"] for q in queries.captured_queries for t in COUNTERS)
    return answer, recounted


def stored_board(ward):
    return counted(lambda: ward_figures.stored_ward_dashboard(ward=ward))


def computed_board(ward, now):
    return ward_figures.ward_dashboard(ward=ward, now=now, with_lists=False)


def test_a_stored_ward_is_read_not_recounted_and_equals_the_computed_one(scenario, noon):
    first, recounted = stored_board(scenario.ward)
    assert recounted  # nothing stored yet: the request computes, and stores
    second, recounted = stored_board(scenario.ward)
    assert not recounted
    assert first == second == computed_board(scenario.ward, noon)
    assert second.open > 0 and second.heat_cells and second.by_type and second.median_days


def test_stored_figures_are_named_in_the_readers_language(scenario, noon):
    english, _ = stored_board(scenario.ward)  # stored from an English request
    with translation.override("es"):
        board, recounted = stored_board(scenario.ward)
        assert not recounted
        assert board == computed_board(scenario.ward, noon)
    assert board.by_status[0][1] != english.by_status[0][1]


def test_a_write_through_the_services_shows_on_the_next_cold_page(client, scenario):
    url = f"/wards/{scenario.ward.slug}/"
    before = client.get(url).context["board"]
    version = stored.data_version()
    services.change_status(issue=Issue.objects.get(pk=scenario.issues[1].pk), to=Status.CLOSED)
    assert stored.data_version() > version
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        after = client.get(url).context["board"]
    assert any("statustally" in q["sql"] for q in queries.captured_queries)
    assert after.open == before.open - 1
    cache.clear()
    report = client.get(f"{url}report/").context["board"]
    assert report.open == after.open


def test_the_version_moves_on_a_write_to_exactly_the_versioned_tables():
    """Migrations 0034 and 0036 create the triggers from their own lists of names: held equal
    here to the one list in the code, so a table added to the stored figures is not forgotten."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgrelid::regclass::text, t.tgtype & 1 = 0 FROM pg_trigger t"
            " JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE p.proname = 'issues_rollup_changed' AND NOT t.tgisinternal"
        )
        found = cursor.fetchall()
    assert sorted(found) == sorted((m._meta.db_table, True) for m in VERSIONED)


def test_a_statement_on_the_heat_grid_moves_the_version(scenario):
    stored_board(scenario.ward)
    before = stored.data_version()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE departments_heattally SET n = n + 1 WHERE ward_key = %s", [0])
    assert stored.data_version() == before + 1
    _, recounted = stored_board(scenario.ward)
    assert recounted


def test_a_new_day_is_computed_again(scenario, noon):
    stored_board(scenario.ward)
    FigureSnapshot.objects.update(day=Clock.at().today - timedelta(days=1))
    board, recounted = stored_board(scenario.ward)
    assert recounted
    assert board == computed_board(scenario.ward, noon)


def test_an_older_computation_never_replaces_a_newer_one(scenario):
    board, _ = stored_board(scenario.ward)
    stale = ward_figures._ward_figures(board) | {"open": -5}
    version = stored.data_version()
    stored.store_figures(
        stored.WARD, scenario.ward.pk, version - 1, Clock.at().today, stale, wanted=True
    )
    again, recounted = stored_board(scenario.ward)
    assert not recounted
    assert again.open == board.open


def test_issues_falling_due_during_the_day_count_as_overdue_at_once(scenario, noon):
    requested = noon - timedelta(hours=72) + timedelta(minutes=10)  # the pothole's SLA is 72 h
    make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0], requested_at=requested)
    at_noon, recounted = stored_board(scenario.ward)
    assert recounted
    later = noon + timedelta(minutes=20)
    with mock.patch.object(timezone, "now", return_value=later):
        board, recounted = stored_board(scenario.ward)
        assert not recounted
    assert board.overdue == at_noon.overdue + 1
    assert board == computed_board(scenario.ward, later)


def test_a_stored_type_trend_equals_the_computed_one_and_follows_writes(scenario, noon):
    def read():
        return counted(lambda: trends.stored_type_trend(service_type=scenario.pothole))

    first, recounted = read()
    assert recounted
    second, recounted = read()
    assert not recounted
    assert first == second == trends.type_trend(service_type=scenario.pothole, now=noon)
    make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    third, recounted = read()
    assert recounted
    assert third.recent == second.recent + 1
    assert third == trends.type_trend(service_type=scenario.pothole, now=noon)


def test_the_type_page_reads_the_stored_trend(client, scenario):
    url = f"/wards/types/{scenario.pothole.service_code}/"
    assert client.get(url).status_code == 200
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    assert not any("daytally" in q["sql"] for q in queries.captured_queries)
    assert page.context["trend"].recent == trends.type_trend(service_type=scenario.pothole).recent


def test_the_worker_refreshes_what_requests_read_and_nothing_else(scenario):
    stored_board(scenario.ward)  # read by a request: wanted
    trends.stored_type_trend(service_type=scenario.pothole)
    make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    refresh_league()
    version, today = stored.data_version(), Clock.at().today
    kept = set(FigureSnapshot.objects.filter(version=version, day=today).values_list("kind", "key"))
    assert kept == {(stored.WARD, scenario.ward.pk), (stored.TYPE, scenario.pothole.pk)}
    _, recounted = stored_board(scenario.ward)
    assert not recounted
    # Read by no request for a day: left to its next reader.
    FigureSnapshot.objects.update(wanted_at=timezone.now() - stored.WANTED_FOR - timedelta(1))
    make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    refresh_league()
    assert not FigureSnapshot.objects.filter(version=stored.data_version()).exists()


def test_the_types_index_reads_stored_counts_and_follows_writes(client, scenario, noon):
    def read():
        return counted(trends.stored_type_changes)

    first, recounted = read()
    assert recounted  # nothing stored yet: the request counts, and stores
    second, recounted = read()
    assert not recounted
    assert first == second == trends.type_changes(now=noon)
    make_issue(scenario.graffiti, point=points_in(scenario.ward, 1)[0])
    third, recounted = read()
    assert recounted
    graffiti = next(c for c in third if c.service_type == scenario.graffiti)
    assert (
        graffiti.recent == next(c for c in second if c.service_type == scenario.graffiti).recent + 1
    )
    assert third == trends.type_changes(now=noon)
    # The page reads the stored row, cold (the page cache emptied).
    assert client.get("/wards/types/").status_code == 200
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/wards/types/")
    assert not any("daytally" in q["sql"] for q in queries.captured_queries)
    assert [r["change"] for r in page.context["rows"]] == third


def test_a_type_made_inactive_and_active_again_keeps_its_stored_counts(scenario, noon):
    trends.stored_type_changes()
    scenario.graffiti.active = False
    scenario.graffiti.save()
    assert scenario.graffiti not in [c.service_type for c in trends.stored_type_changes()]
    scenario.graffiti.active = True
    scenario.graffiti.save()
    changes, recounted = counted(trends.stored_type_changes)
    assert not recounted  # every type's counts are stored, the active ones shown
    assert changes == trends.type_changes(now=noon)
    assert any(c.service_type == scenario.graffiti and c.recent + c.before for c in changes)


def test_the_worker_refreshes_the_types_index_once_read(scenario):
    trends.stored_type_changes()  # read by a request: wanted
    make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    refresh_league()
    version, today = stored.data_version(), Clock.at().today
    assert FigureSnapshot.objects.filter(kind=stored.TYPES, version=version, day=today).exists()
    _, recounted = counted(trends.stored_type_changes)
    assert not recounted


def test_the_worker_forgets_the_figures_of_deleted_wards_and_types(scenario, department):
    quiet = make_service_type(department, code="quiet", name="Quiet")
    for ward in (scenario.ward, scenario.other_ward):
        stored_board(ward)
    for service_type in (scenario.pothole, quiet):
        trends.stored_type_trend(service_type=service_type)
    assert FigureSnapshot.objects.count() == 4
    services.delete_wards([scenario.other_ward])
    quiet.delete()
    refresh_league()
    kept = set(FigureSnapshot.objects.values_list("kind", "key"))
    assert kept == {(stored.WARD, scenario.ward.pk), (stored.TYPE, scenario.pothole.pk)}


def test_a_type_trend_its_request_counts_reads_the_wards_once(scenario, noon):
    with CaptureQueriesContext(connection) as queries:
        trend = trends.stored_type_trend(service_type=scenario.pothole)
    reads = [q for q in queries.captured_queries if 'FROM "departments_ward"' in q["sql"]]
    assert len(reads) == 1
    assert trend == trends.type_trend(service_type=scenario.pothole, now=noon)
