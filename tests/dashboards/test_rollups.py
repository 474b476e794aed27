"""The dashboards' rollup (issues/dashboards/rollups.py): kept equal to a recount through every write,
and the figures read it instead of the issues."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments.models import Ward
from issues import services
from issues.dashboards import compare, league, recount, rollups
from issues.dashboards import ward as ward_figures
from issues.dashboards.clock import Clock, due_earlier_today
from issues.importers.synthetic import generate_issues
from issues.models import DayTally, Issue, Status, StatusTally
from tests.dashboards.conftest import points_in
from tests.factories import make_issue, make_user


def snapshot() -> dict:
    """Every non-zero counter of the rollup's tables, by key."""
    found = {}
    for model, (keys, values) in rollups.LAYOUT.items():
        for row in model.objects.values_list(*keys, *values):
            counts = tuple(round(v, 6) if isinstance(v, float) else v for v in row[len(keys) :])
            if any(counts):
                found[(model.__name__, *row[: len(keys)])] = counts
    return found


def assert_equals_rebuild() -> None:
    maintained = snapshot()  # the map's cells (MapCell) too: they are in rollups.LAYOUT
    recount.rebuild()
    recount.rebuild_map_cells()
    rebuilt = snapshot()
    assert rebuilt, "a rebuild of a city with issues has counters"
    assert maintained == rebuilt


def test_rollup_equals_a_rebuild_after_every_kind_of_write(scenario, admin_user):
    s = scenario
    assert_equals_rebuild()  # create, close, archive, reopen, hide (the scenario)

    open_issue = next(i for i in s.refreshed() if i.status == Status.OPEN and not i.is_hidden)
    lat, lon = points_in(s.other_ward, 1)[0]
    services.place_issue(issue=open_issue, latitude=lat, longitude=lon, by=s.staff)  # new ward
    services.change_status(issue=open_issue, to=Status.ACKNOWLEDGED, by=s.staff)
    hidden = next(i for i in s.refreshed() if i.is_hidden)
    services.set_hidden(target=hidden, hidden=False, by=s.staff)
    unplaced = make_issue(s.pothole, point=None, address="Somewhere")  # no ward: the city's
    services.change_status(issue=unplaced, to=Status.CLOSED, by=s.staff)
    services.set_sla_hours(service_type=s.pothole, hours=24)  # open issues' due days
    # Checked before the generator, which ends with a full recount of its own.
    assert_equals_rebuild()
    generate_issues(40, seed=3)
    assert_equals_rebuild()

    # The admin refuses deletes while history rows exist (their admin has no delete), but its
    # delete hooks uncount the rows should that ever change.
    request = RequestFactory().post("/")
    request.user = admin_user
    doomed = s.refreshed()[:2]
    issue_admin = admin.site._registry[Issue]
    issue_admin.delete_model(request, doomed[0])
    issue_admin.delete_queryset(request, Issue.objects.filter(pk=doomed[1].pk))
    assert not Issue.objects.filter(pk__in=[i.pk for i in doomed]).exists()
    services.delete_wards([s.other_ward])  # its issues now have no ward
    third = Ward.objects.get(number=3)
    make_issue(s.pothole, point=points_in(third, 1)[0])
    admin.site._registry[Ward].delete_queryset(request, Ward.objects.filter(pk=third.pk))
    assert_equals_rebuild()


def test_rebuild_command_restores_a_damaged_rollup(scenario, capsys):
    good = snapshot()
    DayTally.objects.all().delete()
    StatusTally.objects.update(n=99)
    call_command("rebuild_rollups")
    assert snapshot() == good
    call_command("rebuild_rollups", ward=[scenario.ward.pk])
    assert snapshot() == good
    assert "Rollup rebuilt" in capsys.readouterr().out


def test_hidden_issues_are_not_counted(scenario):
    issue = make_issue(scenario.graffiti, point=points_in(scenario.ward, 1)[0])
    before = ward_figures.ward_dashboard(ward=scenario.ward).open
    services.set_hidden(target=issue, hidden=True, by=scenario.staff, reason="Abuse")
    assert ward_figures.ward_dashboard(ward=scenario.ward).open == before - 1


def test_figures_read_the_rollup_not_the_issues(scenario):
    """Only the issues due earlier today still touch the issue table."""
    with CaptureQueriesContext(connection) as queries:
        ward_figures.ward_dashboard(ward=scenario.ward, with_lists=False)
    assert sum('"issues_issue"' in q["sql"] for q in queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        league.league_table()
        league.city_figures()
    assert sum('"issues_issue"' in q["sql"] for q in queries.captured_queries) == 2


def test_an_issue_due_earlier_today_is_overdue_and_one_due_later_is_not(db, scenario):
    now = timezone.now()
    due_soon = make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    before = ward_figures.ward_dashboard(ward=scenario.ward, now=now).overdue
    # Due one second ago, then a day ahead: the rollup files both under a day, the figure
    # must still tell them apart.
    Issue.objects.filter(pk=due_soon.pk).update(expected_at=now - timedelta(seconds=1))
    recount.rebuild()
    assert ward_figures.ward_dashboard(ward=scenario.ward, now=now).overdue == before + 1
    assert league.league_table(now=now)[0].overdue == before + 1
    Issue.objects.filter(pk=due_soon.pk).update(expected_at=now + timedelta(days=1))
    recount.rebuild()
    assert ward_figures.ward_dashboard(ward=scenario.ward, now=now).overdue == before


def test_the_leagues_issues_due_earlier_today_are_each_wards_own_count(db, scenario):
    """The ward page takes its ward's from the league's grouped read (LeagueContext.due_today)
    instead of counting them again: the same definition, ward by ward, hidden and closed ones
    and issues in no ward left out."""
    now = timezone.now()
    due = [make_issue(scenario.pothole, point=p) for p in points_in(scenario.ward, 3)]
    due += [make_issue(scenario.pothole, point=points_in(scenario.other_ward, 1)[0])]
    due += [make_issue(scenario.pothole, point=None, address="Nowhere in particular")]
    Issue.objects.filter(pk__in=[i.pk for i in due]).update(expected_at=now - timedelta(seconds=1))
    services.change_status(issue=due[1], to=Status.CLOSED, by=scenario.staff)
    services.set_hidden(target=due[2], hidden=True, by=scenario.staff, reason="Abuse")
    clock = Clock.at(now)
    counted = compare.league_context(now=now).due_today
    for ward in Ward.objects.all():
        own = due_earlier_today(clock).filter(ward=ward).count()
        assert counted.get(ward.pk, 0) == own
    assert counted[scenario.ward.pk] >= 1
    assert counted[scenario.other_ward.pk] >= 1
    assert None not in counted
    # And the board made with the league's count says what it says when it counts itself.
    league = compare.league_context(now=now)
    assert (
        ward_figures.cached_ward_dashboard(ward=scenario.ward, league=league).overdue
        == ward_figures.ward_dashboard(ward=scenario.ward, now=now, with_lists=False).overdue
    )


def test_a_board_made_with_the_leagues_count_reads_on_the_leagues_day(scenario):
    """The league counted just before midnight, the board read just after: the board takes the
    league's clock, so an issue due late that evening is counted once, not as overdue in the new
    day's figures and again among the league's issues due earlier today."""
    local = timezone.localtime(timezone.now(), ZoneInfo(settings.TIME_ZONE))
    evening = (local - timedelta(days=1)).replace(hour=23, minute=59)
    due = make_issue(scenario.pothole, point=points_in(scenario.ward, 1)[0])
    Issue.objects.filter(pk=due.pk).update(expected_at=evening - timedelta(hours=1))
    recount.rebuild()  # the counters learn the new due time
    league = compare.league_context(now=evening)
    assert league.due_today.get(scenario.ward.pk, 0) >= 1
    cache.clear()
    board = ward_figures.cached_ward_dashboard(ward=scenario.ward, league=league)
    assert (
        board.overdue
        == ward_figures.ward_dashboard(ward=scenario.ward, now=evening, with_lists=False).overdue
    )


def _bins(values: list[float]) -> dict:
    found: dict[int, tuple[int, float, float]] = {}
    for v in values:
        n, s, q = found.get(rollups.close_bin(v), (0, 0.0, 0.0))
        found[rollups.close_bin(v)] = (n + 1, s + v, q + v * v)
    return found


@pytest.mark.parametrize(
    "values",
    [[3.0], [0.2, 7.5], [1.0, 1.01], [0.01, 2.0, 2.02, 40.0], [5.0, 5.0, 5.0], [0.5, 1, 2, 9, 400]],
)
def test_median_is_exact_when_the_middle_values_have_a_bin_to_themselves_or_share_it_by_two(
    values,
):
    assert rollups.median_from_bins(_bins(values)) == pytest.approx(
        statistics.median(values), abs=1e-6
    )


def test_median_of_many_is_within_two_percent():
    rng = random.Random(5)
    for size in (101, 1000, 20_000):
        values = [rng.lognormvariate(1.6, 1.0) for _ in range(size)]
        exact = statistics.median(values)
        assert rollups.median_from_bins(_bins(values)) == pytest.approx(exact, rel=0.02)


def test_no_closures_have_no_median():
    assert rollups.median_from_bins({}) is None
    assert rollups.median_from_bins({4: (0, 0.0, 0.0)}) is None


def test_votes_and_comments_leave_the_rollup_alone(scenario):
    before = snapshot()
    services.add_vote(issue=scenario.issues[0], user=make_user())
    services.add_comment(issue=scenario.issues[0], author=scenario.staff, body="On it")
    assert snapshot() == before


def test_uncounting_before_a_bulk_write_locks_the_rows(scenario):
    """Without the lock, a status change committing between the read and the bulk write would
    be subtracted twice and the rollup would drift from a rebuild."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (DATABASE_URL=postgres://...)")
    ids = [i.pk for i in scenario.refreshed()[:3]]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        rollups.subtract_issues(ids)
        rollups.add_issues(ids)
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "issues_issue"' in q["sql"]]
    assert "FOR UPDATE" in reads[0]
    assert "FOR UPDATE" not in reads[1]
