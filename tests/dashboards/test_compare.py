"""Context on every figure: the city's figure, the rank and the change against the previous
period, checked against a history small enough to count by hand.

Four wards (1, 2, 3, 11), one type with a 72-hour expected time. Days are "days ago", kept away
from the windows' edges (30, 60, 90, 180 days):

  ward 1: open, reported 5 and 10 days ago (both overdue) and 45 days ago (overdue);
          reported 40, closed 20 days ago (20 days, late);
          reported 100, closed 98 days ago (2 days, on time: the previous 90 days)
  ward 2: open, reported 1 day ago (not overdue yet);
          reported 50, closed 49 days ago (1 day, on time)
  ward 3: reported 120, closed 110 days ago (10 days: the previous 90 days)
  ward 11: nothing

By hand, for ward 1:
  open 3; city average per ward (3 + 1 + 0 + 0) / 4 = 1.0; rank 4th of 4 (fewest first);
    30 days ago: 3 - 2 opened since + 1 closed since = 2, so up 1: worse
  opened in the last 30 days 2 (5, 10); the 30 before 2 (40, 45): the same;
    city average (2 + 1 + 0 + 0) / 4 = 0.75; rank 4th of 4
  median days to close 20.0; city median of (20, 1) = 10.5; rank 2nd of 2 (ward 2: 1.0);
    the 90 days before: 2.0, so up 18.0: worse
  closed within the expected time 0%; city 1 of 2 = 50%; rank 2nd of 2 (higher first);
    the 90 days before 100%, so down 100 points: worse
  overdue 3; city average (3 + 0 + 0 + 0) / 4 = 0.75; rank 4th; no earlier figure
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from departments.models import Ward
from issues import services
from issues.dashboards.compare import league_context, ordinal, rank_of, ward_context
from issues.models import Status
from tests.dashboards.conftest import points_in
from tests.factories import make_issue, make_service_type

# (ward index, days ago reported, days ago closed or None)
HISTORY = [
    (0, 5, None),
    (0, 10, None),
    (0, 45, None),
    (0, 40, 20),
    (0, 100, 98),
    (1, 1, None),
    (1, 50, 49),
    (2, 120, 110),
]


@pytest.fixture
def context(some_wards, department):
    pothole = make_service_type(department, code="pothole", name="Pothole", sla_hours=72)
    now = timezone.now()
    spots = {i: points_in(w, 1)[0] for i, w in enumerate(some_wards)}
    for ward_index, reported, closed in HISTORY:
        issue = make_issue(
            pothole, point=spots[ward_index], requested_at=now - timedelta(days=reported)
        )
        if closed is not None:
            services.change_status(issue=issue, to=Status.CLOSED, at=now - timedelta(days=closed))
    return some_wards, ward_context(some_wards[0].pk, league_context(now=now))


def test_open_has_city_average_rank_and_estimated_change(context):
    _, ctx = context
    f = ctx["open"]
    assert f.value == 3
    assert f.city == pytest.approx(1.0)
    assert f.city_label == "city average per ward"
    assert (f.rank, f.of) == (4, 4)
    assert f.rank_text.startswith("4th of 4 wards (1st has the fewest open issues)")
    assert f.change.previous == 2
    assert f.change.arrow == "▲"
    assert f.change.verdict == "worse"
    assert f.change.words.startswith("up 1 from 2, 30 days ago")


def test_opened_recent_unchanged_against_the_30_days_before(context):
    _, ctx = context
    f = ctx["opened_recent"]
    assert f.value == 2
    assert f.city == pytest.approx(0.75)
    assert f.rank == 4
    assert f.change.previous == 2
    assert (f.change.arrow, f.change.verdict) == ("=", "same")
    assert f.change.words == "the same as the 30 days before"


def test_median_against_city_and_previous_90_days(context):
    _, ctx = context
    f = ctx["median_days"]
    assert f.value == pytest.approx(20.0, abs=0.01)
    assert f.city == pytest.approx(10.5, abs=0.01)
    assert f.city_label == "whole city"
    assert (f.rank, f.of) == (2, 2)
    assert f.change.previous == pytest.approx(2.0, abs=0.01)
    assert f.change.verdict == "worse"
    assert f.change.words == "up 18.0 from 2.0, the 90 days before: worse"


def test_share_on_time_higher_is_better(context):
    _, ctx = context
    f = ctx["sla_share"]
    assert f.value == 0
    assert f.city == pytest.approx(0.5)
    assert f.city_display == "50%"
    assert (f.rank, f.of) == (2, 2)
    assert "1st closes the most on time" in f.rank_text
    assert f.change.arrow == "▼"
    assert f.change.words == "down 100 points from 100%, the 90 days before: worse"


def test_overdue_has_no_earlier_figure(context):
    _, ctx = context
    f = ctx["overdue"]
    assert f.value == 3
    assert f.city == pytest.approx(0.75)
    assert f.rank == 4
    assert (f.change.arrow, f.change.verdict) == ("", "")
    assert f.change.words == "no earlier figure is kept"


def test_a_better_ward_reads_better(context):
    wards, _ = context
    ctx = ward_context(wards[1].pk, league_context())
    assert ctx["median_days"].rank == 1
    assert ctx["sla_share"].rank == 1
    assert ctx["open"].change.words.startswith("up 1 from 0")
    # Ward 3 closed nothing lately: no median, so no rank, and it says so.
    quiet = ward_context(wards[2].pk, league_context())["median_days"]
    assert quiet.rank is None and quiet.rank_text == "not ranked: no figure yet"
    assert quiet.change.words == "nothing to compare with"


def test_ward_page_shows_the_context_in_words(client, context):
    wards, _ = context
    html = client.get(f"/wards/{wards[0].slug}/").content.decode()
    assert "4th of 4 wards" in html
    assert "City average per ward" in html
    assert "Up 18.0 from 2.0, the 90 days before: worse" in html
    assert 'id="defn-median_days"' in html


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")]
)
def test_ordinals(n, text):
    assert ordinal(n) == text


def test_ties_share_a_rank():
    assert rank_of(2, [1, 2, 2, 5, None], higher_is_worse=True) == 2
    assert rank_of(5, [1, 2, 2, 5, None], higher_is_worse=True) == 4
    assert rank_of(0.9, [0.5, 0.9, None], higher_is_worse=False) == 1


def test_comparison_page_sets_wards_side_by_side(client, context):
    wards, _ = context
    response = client.get(f"/wards/compare/?wards={wards[0].number}&wards={wards[1].number}")
    assert response.status_code == 200
    measures = {m["term"].key: m for m in response.context["measures"]}
    assert [r["ward"].number for r in measures["open"]["rows"]] == [1, 2]
    assert [r["figure"].value for r in measures["open"]["rows"]] == [3, 1]
    assert measures["median_days"]["rows"][1]["context"].rank == 1
    html = response.content.decode()
    assert "4th of 4 wards" in html and "City average per ward" in html
    # Comma-separated works too, and a repeated ward counts once.
    again = client.get(f"/wards/compare/?wards={wards[0].number},{wards[1].number},1")
    assert [w.number for w in again.context["wards"]] == [1, 2]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("wards=1&wards=x", "is not a ward number"),
        ("wards=1&wards=99", "There is no ward 99"),
        ("wards=1,2,3,11,1,2&wards=4", "There is no ward 4"),
    ],
)
def test_comparison_refuses_bad_choices_with_a_reason(client, some_wards, query, message):
    response = client.get(f"/wards/compare/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_comparison_of_too_many_wards_is_refused(client, some_wards):
    for n in (20, 21):
        Ward.objects.create(
            number=n, name=f"Ward {n}", slug=f"ward-{n}", boundary=some_wards[0].boundary
        )
    response = client.get("/wards/compare/?wards=1,2,3,11,20,21")
    assert response.status_code == 400
    assert "at most 5 wards" in response.content.decode()


def test_comparison_without_a_choice_shows_the_form(client, some_wards):
    response = client.get("/wards/compare/?wards=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="wards" value="2" checked' in html
    assert response.context["wards"] == []


def test_monthly_report_counts_the_month_and_carries_the_dashboard(client, context):
    wards, _ = context
    now = timezone.localtime()
    month = now.strftime("%Y-%m")
    response = client.get(f"/wards/{wards[0].slug}/report/?month={month}")
    assert response.status_code == 200
    ctx = response.context
    # Reported this calendar month: those of the history made on or after the 1st.
    made = [
        d
        for w, d, _ in HISTORY
        if w == 0 and (now - timedelta(days=d)).date() >= now.date().replace(day=1)
    ]
    assert ctx["month_opened"].value == len(made)
    assert ctx["headline"][0]["figure"].value == 3
    html = response.content.decode()
    assert "4th of 4 wards" in html
    assert "Save as PDF" in html
    assert client.get(f"/wards/{wards[0].slug}/report/?month=13-2026").status_code == 400
    assert client.get(f"/wards/{wards[0].slug}/report/").status_code == 200


def test_league_table_shows_each_figures_change_in_words(client, context):
    """The same history in the league: ward 1's and the city's changes, counted by hand.

    City, now against before: open 4 against 2 + 0 + 0 = 2 thirty days ago (ward 2: 1 open now,
    1 opened since); opened 3 (5, 10, 1 days ago) against 3 (40, 45, 50); median of (20, 1) =
    10.5 against the median of (2, 10) = 6.0 in the 90 days before; on time 1 of 2 against 1 of
    2 (ward 1's 2-day fix on time, ward 3's 10-day one late)."""
    wards, _ = context
    response = client.get("/wards/?sort=number")
    assert response.status_code == 200
    row = next(t for t in response.context["table"] if t["row"].number == wards[0].number)
    change = row["change"]
    assert (change["open"].arrow, change["open"].short) == ("▲", "up 1: worse")
    assert change["opened_recent"].short == "the same"
    assert (change["median_days"].arrow, change["median_days"].short) == (
        "▲",
        "up 18.0 days: worse",
    )
    assert (change["sla_share"].arrow, change["sla_share"].short) == (
        "▼",
        "down 100 points: worse",
    )
    assert "overdue" not in change  # no earlier figure is kept
    # Ward 3 closed nothing lately: no median, so no change to show, not a made-up one.
    quiet = next(t for t in response.context["table"] if t["row"].number == wards[2].number)
    assert quiet["change"]["median_days"].short == ""
    city = response.context["totals_change"]
    assert city["open"].short == "up 2: worse"
    assert city["opened_recent"].short == "the same"
    assert city["median_days"].short == "up 4.5 days: worse"
    assert city["sla_share"].short == "the same"
    html = response.content.decode()
    # Words, not colour alone; the full sentence on hover.
    assert '<span aria-hidden="true">▲</span> up 18.0 days: worse</span>' in html
    assert 'title="Up 18.0 from 2.0, the 90 days before: worse"' in html
    assert "Under each figure, its change against the previous period" in html
