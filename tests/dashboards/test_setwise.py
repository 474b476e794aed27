"""New issues counted by SQL GROUP BYs (issues/dashboards/setwise.py, the importer's way on
PostgreSQL) give exactly what `Delta.add`, the definition, gives for the same issues."""

from __future__ import annotations

import bisect
import random
from datetime import timedelta

import pytest
from django.db import connection, transaction

from issues import services
from issues.dashboards import recount, rollups, setwise
from issues.models import Issue, PendingCount, Resolution, Status
from tests.dashboards.conftest import points_in
from tests.dashboards.test_rollups import assert_equals_rebuild, snapshot
from tests.factories import make_issue


def _clear() -> None:
    for model in rollups.LAYOUT:
        model.objects.all().delete()


def test_every_table_delta_keeps_is_counted_here():
    # A table Delta writes and this module does not would send every import back to Delta,
    # correct but several times slower: the weekly histogram's merge did exactly that once.
    assert set(setwise.COUNTED) == set(rollups.LAYOUT)


def test_the_close_time_bin_is_found_among_exact_thresholds():
    edges = setwise.bin_thresholds()
    rng = random.Random(2)
    # Every edge, the floats either side of it, and random durations from minutes to decades.
    hours = [h for e in edges for h in (e, e * (1 - 2**-52), e * (1 + 2**-52))]
    hours += [rng.lognormvariate(3, 3) for _ in range(20_000)] + [0.5, 1.0, 2.0, 4.0, 1e9]
    for h in hours:
        found = bisect.bisect_right(edges, h)  # what width_bucket returns
        assert min(found, rollups.LAST_BIN) == rollups.close_bin_of_hours(h), h


def test_sql_counts_equal_delta_counts_for_every_kind_of_issue(scenario):
    if connection.vendor != "postgresql":
        pytest.skip("the GROUP BYs are PostgreSQL's (DATABASE_URL=postgres://...)")
    s = scenario
    extra = [
        make_issue(s.pothole, point=points_in(s.other_ward, 1)[0]),
        make_issue(s.pothole, point=None, address="Somewhere"),  # no point, no ward
        make_issue(s.graffiti, point=(41.0, -80.0)),  # a point in no ward
    ]
    ids = [i.pk for i in s.issues + extra]
    # Closures on the bins' edges (exactly 1, 2, 4 hours), negative (a skewed clock), not fixes,
    # due before and after the close, and a close just after midnight in the city.
    base = Issue.objects.get(pk=ids[0]).requested_at
    for pk, hours, resolution, due_hours in [
        (ids[1], 1.0, "", 2),
        (ids[2], 2.0, Resolution.FIXED, 1),
        (ids[3], 4.0, Resolution.DUPLICATE, 8),
        (ids[4], -0.25, "", None),
        (ids[5], 16.0, Resolution.WITHDRAWN, None),
        (extra[1].pk, 30.5, "", 30.5),
    ]:
        Issue.objects.filter(pk=pk).update(
            status=Status.CLOSED,
            closed_at=base + timedelta(hours=hours),
            resolution=resolution,
            expected_at=base + timedelta(hours=due_hours) if due_hours is not None else None,
            requested_at=base,
        )
    _clear()
    rollups.add_issues(ids)
    by_delta = snapshot()
    _clear()
    setwise.count_new_issues(ids, states=())
    by_sql = snapshot()
    assert by_delta
    assert by_sql == by_delta


def test_an_imports_issues_counted_at_its_end_stay_exact_through_a_change_meanwhile(scenario):
    """LaterCount counts the states the import wrote; a change made before the end applies its
    own difference as it happens, and the two add up to the issue as it is."""
    s = scenario
    ids = [i.pk for i in s.issues]
    rollups.subtract_issues(ids)  # as if just written by an import: not counted yet
    later = setwise.LaterCount("test")
    later.add(ids, Issue.objects.filter(pk__in=ids).values_list(*rollups.STATE_FIELDS))
    changed = next(i for i in s.refreshed() if i.status == Status.OPEN and not i.is_hidden)
    services.change_status(issue=changed, to=Status.CLOSED, by=s.staff)  # before the end
    later.count()
    assert_equals_rebuild()


@pytest.mark.django_db(transaction=True)
def test_every_runs_pending_states_counted_at_once_equal_delta_counts(scenario):
    """A recount's first step (setwise.count_pending, once Python's Delta over the same rows)."""
    if connection.vendor != "postgresql":
        pytest.skip("the pending states are PostgreSQL's; elsewhere each batch is counted at once")
    ids = [i.pk for i in scenario.issues]
    _clear()
    rollups.add_issues(ids)
    by_delta = snapshot()
    _clear()
    runs = [setwise.LaterCount("first"), setwise.LaterCount("second")]
    runs[0].add(ids[::2], ())
    runs[1].add(ids[1::2], ())
    setwise.count_pending()
    assert not PendingCount.objects.exists()
    assert by_delta
    assert snapshot() == by_delta
    for run in runs:
        run.count()  # nothing left to count: the runs are marked counted and let go
    assert snapshot() == by_delta


def test_a_recount_while_an_import_waits_to_be_counted_counts_its_issues_once(service_type):
    if connection.vendor != "postgresql":
        pytest.skip("the pending states are PostgreSQL's; elsewhere each batch is counted at once")
    issue = make_issue(service_type)
    later = setwise.LaterCount("test")
    with transaction.atomic():
        rollups.subtract_issues([issue.pk])  # as if just written by an import: not counted yet
        later.add([issue.pk], ())
    recount.rebuild()  # counts the pending state first: the import's own count finds nothing
    later.count()
    assert not PendingCount.objects.exists()
    assert_equals_rebuild()
