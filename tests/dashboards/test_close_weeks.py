"""The weekly close histogram (CloseWeekHistogram): a window's medians read from whole weeks and
the days at its edges are the daily rows' own, for a window ending on any day of the week, and
the migration that fills it from the daily rows on deploy gives what a rebuild counts."""

from __future__ import annotations

import importlib
from collections import defaultdict
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Sum

from issues.dashboards import rollups
from issues.dashboards.clock import CLOSED_WINDOW_DAYS, Clock
from issues.dashboards.league import Bins, close_bins
from issues.importers.synthetic import generate_issues
from issues.models import CloseHistogram, CloseWeekHistogram

fill = importlib.import_module("issues.migrations.0031_close_week_histogram").fill_from_days


def daily_bins(group: str, since, until, **filters) -> dict[int, Bins]:
    """The window summed from the daily rows alone (what the pages read before the weeks)."""
    found: dict[int, Bins] = defaultdict(dict)
    window = {"day__gte": since} | ({"day__lte": until} if until else {})
    for key, index, n, s, q in (
        CloseHistogram.objects.filter(**window, **filters)
        .values(group, "bin")
        .annotate(n=Sum("n"), s=Sum("days_sum"), q=Sum("days_sq_sum"))
        .values_list(group, "bin", "n", "s", "q")
    ):
        found[key][index] = (n, s, q)
    return dict(found)


def rounded(found: dict[int, Bins]) -> dict:
    return {
        (key, index): (n, round(s, 6), round(q, 4))
        for key, bins in found.items()
        for index, (n, s, q) in bins.items()
        if n
    }


def week_rows() -> dict:
    keys, values = rollups.LAYOUT[CloseWeekHistogram]
    return {
        row[: len(keys)]: (row[len(keys)], round(row[-2], 6), round(row[-1], 4))
        for row in CloseWeekHistogram.objects.values_list(*keys, *values)
        if row[len(keys)]
    }


@pytest.fixture
def history(some_wards):
    generate_issues(150, seed=11)  # a year of reports, most of them closed
    return CloseHistogram.objects.order_by("-day").values_list("day", flat=True).first()


@pytest.mark.parametrize("weekday", range(7))
def test_a_window_from_weeks_and_edge_days_sums_as_the_days_do(history, weekday):
    last = history - timedelta(days=(history.weekday() - weekday) % 7)
    clock = Clock(now=None, today=last)
    since = clock.days_back(CLOSED_WINDOW_DAYS)
    current = close_bins("ward_key", since, last, open_end=True, type_key=rollups.ALL_TYPES)
    assert rounded(current) == rounded(
        daily_bins("ward_key", since, None, type_key=rollups.ALL_TYPES)
    )
    before = since - timedelta(days=CLOSED_WINDOW_DAYS)
    previous = close_bins("ward_key", before, since - timedelta(days=1), type_key=0)
    assert rounded(previous) == rounded(
        daily_bins("ward_key", before, since - timedelta(days=1), type_key=0)
    )
    assert rounded(previous), "the previous window has closures"
    ward = next(iter(current))
    by_type = close_bins("type_key", since, last, open_end=True, ward_key=ward)
    assert rounded(by_type) == rounded(daily_bins("type_key", since, None, ward_key=ward))
    daily = daily_bins("ward_key", since, None, type_key=rollups.ALL_TYPES)
    for key, bins in current.items():
        expected = rollups.median_from_bins(daily[key])
        assert rollups.median_from_bins(bins) == pytest.approx(expected, rel=1e-9)


def test_a_window_shorter_than_a_week_reads_only_days(history):
    since = history - timedelta(days=3)
    assert rounded(close_bins("ward_key", since, history, type_key=0)) == rounded(
        daily_bins("ward_key", since, history, type_key=0)
    )


def test_the_migration_fills_the_weeks_as_a_rebuild_counts_them(history):
    rebuilt = week_rows()
    assert rebuilt
    CloseWeekHistogram.objects.all().delete()
    # The fill reads only its editor's connection (a schema editor cannot open inside the
    # test's transaction on SQLite).
    fill(apps, SimpleNamespace(connection=connection))
    assert week_rows() == rebuilt
