"""Trends for a type: reports per week, time to fix by ward, where it clusters; the index puts a
rising type first, so a surge (Detroit's stolen water meters) is visible at a glance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import services
from issues.dashboards.trends import type_changes, type_trend
from issues.models import Status
from tests.dashboards.conftest import points_in
from tests.factories import make_issue, make_service_type


@pytest.fixture
def surge(some_wards, department):
    meters = make_service_type(department, code="water-meter-stolen", name="Water Meter Stolen")
    pothole = make_service_type(department, code="pothole", name="Pothole")
    now = timezone.now()
    a, b = points_in(some_wards[0], 1)[0], points_in(some_wards[1], 1)[0]
    # Meters: 1 in the four weeks before, 6 in the last four (4 in ward 1, 2 in ward 2).
    for days, spot in [(40, a), (3, a), (5, a), (10, a), (20, a), (6, b), (12, b)]:
        make_issue(meters, point=spot, requested_at=now - timedelta(days=days))
    # Potholes: steady, 3 and 3.
    for days in (2, 9, 16, 31, 38, 45):
        make_issue(pothole, point=b, requested_at=now - timedelta(days=days))
    closed = make_issue(meters, point=b, requested_at=now - timedelta(days=30))
    services.change_status(issue=closed, to=Status.CLOSED, at=now - timedelta(days=26))
    return some_wards, meters, pothole, now


def test_rising_type_tops_the_index(surge):
    _wards, meters, pothole, now = surge
    changes = type_changes(now=now)
    assert changes[0].service_type == meters
    assert (changes[0].recent, changes[0].before) == (6, 2)
    steady = next(c for c in changes if c.service_type == pothole)
    assert (steady.recent, steady.before) == (3, 3)


def test_type_trend_weeks_wards_and_median(surge):
    _wards, meters, _, now = surge
    trend = type_trend(service_type=meters, now=now)
    assert sum(w.opened for w in trend.weeks) == 8
    assert sum(w.closed for w in trend.weeks) == 1
    assert [(w.number, w.recent) for w in trend.busiest] == [(1, 5), (2, 3)]
    assert trend.median_days == pytest.approx(4.0, abs=0.01)
    assert [w.number for w in trend.slowest] == [2]


def test_type_pages_render_with_linked_figures(client, surge):
    _wards, _meters, _, _ = surge
    index = client.get("/wards/types/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "Up 200% on the four weeks before" in html
    page = client.get("/wards/types/water-meter-stolen/")
    assert page.status_code == 200
    busiest = page.context["busiest"][0]["figure"]
    assert busiest.value == 5 and "type=water-meter-stolen" in busiest.list_url
    assert "Wards with the most reports" in page.content.decode()
    assert client.get("/wards/types/no-such-type/").status_code == 404
