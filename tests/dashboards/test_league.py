"""The league table at /wards/: figures per ward, sorting, the choropleth's data and outlines."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from issues.dashboards import charts, league
from tests.dashboards import expected
from tests.dashboards.test_ward_dashboard import count_behind
from tests.factories import make_issue


def test_every_ward_is_listed_with_figures_matching_the_rows(client, scenario):
    response = client.get("/wards/")
    assert response.status_code == 200
    now = timezone.now()
    rows = {t["row"].number: t for t in response.context["table"]}
    assert sorted(rows) == [1, 2, 3, 11]
    issues = scenario.refreshed()
    for ward in (scenario.ward, scenario.other_ward):
        exp = expected.ward_figures(issues, ward, now)
        t = rows[ward.number]
        assert t["open"].value == exp["open"]
        assert t["opened_recent"].value == exp["opened_recent"]
        assert t["overdue"].value == exp["overdue"]
        assert t["row"].closed_recent == exp["closed_recent"]
        if exp["median_days"] is None:
            assert t["median_days"].value is None
        else:
            assert t["median_days"].value == pytest.approx(exp["median_days"], abs=1e-4)
        if exp["sla_share"] is None:
            assert t["sla_share"].value is None
        else:
            assert t["sla_share"].value == pytest.approx(exp["sla_share"])
    quiet = rows[3]
    assert (quiet["open"].value, quiet["overdue"].value, quiet["median_days"].value) == (0, 0, None)
    assert quiet["median_days"].display == "–"


def test_league_links_reproduce_each_count(client, scenario):
    response = client.get("/wards/")
    for t in response.context["table"][:3]:
        for key in ("open", "opened_recent", "overdue"):
            assert count_behind(t[key].list_url) == t[key].value
    totals = response.context["totals"]
    assert totals["open"].value == sum(t["open"].value for t in response.context["table"])
    for key in ("open", "opened_recent", "overdue"):
        assert count_behind(totals[key].list_url) == totals[key].value


def test_city_row_counts_reports_outside_every_ward(client, scenario):
    from tests.factories import LAKE_MICHIGAN

    make_issue(scenario.pothole, point=LAKE_MICHIGAN)  # kept for triage, in no ward
    response = client.get("/wards/")
    totals = response.context["totals"]
    in_wards = sum(t["open"].value for t in response.context["table"])
    assert totals["open"].value == in_wards + 1
    assert count_behind(totals["open"].list_url) == totals["open"].value
    now = timezone.now()
    issues = scenario.refreshed()
    closed = [
        i
        for i in issues
        if not i.is_hidden
        and expected.closed_since(i, expected.today(now) - timezone.timedelta(days=89))
    ]
    assert totals["median_days"].value == pytest.approx(
        expected.median(expected.days_to_close(i) for i in closed), abs=1e-4
    )


def test_hidden_issues_do_not_change_the_league(client, scenario):
    before = {r.number: r for r in league.league_table()}
    make_issue(scenario.pothole, point=(scenario.issues[0].latitude, scenario.issues[0].longitude))
    from issues import services
    from issues.models import Issue

    services.set_hidden(
        target=Issue.objects.latest("pk"), hidden=True, by=scenario.staff, reason="x"
    )
    after = {r.number: r for r in league.league_table()}
    n = scenario.ward.number
    assert (after[n].open, after[n].opened_recent) == (before[n].open, before[n].opened_recent)


SORTS = [
    ("open", "", "open", True),
    ("open", "asc", "open", False),
    ("overdue", "desc", "overdue", True),
    ("opened_recent", "", "opened_recent", True),
    ("number", "", "number", False),
]


def test_sorting_without_javascript(client, scenario):
    # One scenario for all the orders: building it is the slow part of these tests.
    for sort, direction, attr, reverse in SORTS:
        response = client.get("/wards/", {"sort": sort, "dir": direction})
        assert response.status_code == 200
        values = [getattr(t["row"], attr) for t in response.context["table"]]
        assert values == sorted(values, reverse=reverse), (sort, direction)
        assert response.context["measure"] == (sort if sort != "number" else "open")


def test_sorting_by_median_puts_wards_without_closures_last(client, scenario):
    response = client.get("/wards/", {"sort": "median_days", "dir": "asc"})
    values = [t["row"].median_days for t in response.context["table"]]
    present = [v for v in values if v is not None]
    assert present and values[: len(present)] == sorted(present)
    assert all(v is None for v in values[len(present) :])


@pytest.mark.parametrize("query", [{"sort": "drop table"}, {"sort": "open", "dir": "sideways"}])
def test_bad_sort_is_a_400_that_explains(client, some_wards, query):
    response = client.get("/wards/", query)
    assert response.status_code == 400
    assert "sort" in response.content.decode().lower()


def test_choropleth_data_colours_each_ward_and_has_a_legend(client, scenario):
    response = client.get("/wards/", {"sort": "overdue"})
    data = response.context["map_data"]
    assert data["measure"] == "overdue"
    colours = data["colours"]["overdue"]
    assert len(colours) == 4
    top = max(response.context["table"], key=lambda t: t["row"].overdue)["row"].number
    assert colours[top] == charts.PALETTE[-1]
    assert data["legends"]["overdue"]
    html = response.content.decode()
    assert 'id="wards-map-data"' in html and 'id="wards-legend"' in html
    # The SLA share is better when higher, so its palette runs the other way.
    _legend, cols = charts.classify([0.2, 0.9, None], fmt=str, higher_is_worse=False)
    assert cols == [charts.PALETTE[-1], charts.PALETTE[0], charts.NO_DATA]


def test_outlines_are_compact_geojson_and_cacheable(client, chicago_wards):
    response = client.get("/wards/outlines.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert len(data["features"]) == 50
    assert {f["properties"]["number"] for f in data["features"]} == set(range(1, 51))
    raw = sum(len(json.dumps(w.boundary)) for w in chicago_wards)
    assert len(response.content) < raw * 0.6
    again = client.get("/wards/outlines.geojson", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_outlines_follow_a_changed_boundary(client, chicago_wards):
    first = client.get("/wards/outlines.geojson")["ETag"]
    ward = chicago_wards[0]
    ward.name = "Ward One"
    ward.save()
    second = client.get("/wards/outlines.geojson")
    assert second["ETag"] != first
    assert "Ward One" in second.content.decode()


def test_league_query_count_is_constant(client, scenario, django_assert_num_queries):
    # 5, + 2 for the previous period behind the change column (compare.previous_figures), + 2
    # for the weekly close histogram beside each window's daily edges (league.close_bins); on
    # PostgreSQL + 5: the stored league read (stale), and written in a savepoint (its own two)
    # (issues/dashboards/stored.py).
    computed = 14 if connection.vendor == "postgresql" else 9
    with django_assert_num_queries(computed):
        client.get("/wards/")
    for _ in range(10):
        make_issue(
            scenario.graffiti, point=(scenario.issues[1].latitude, scenario.issues[1].longitude)
        )
    with django_assert_num_queries(computed):
        client.get("/wards/")
    if connection.vendor == "postgresql":
        cache.clear()
        # Stored and current: its rows with the wards' names, and the issues due earlier today.
        with django_assert_num_queries(2):
            client.get("/wards/")


def test_count_legends_have_whole_number_classes():
    legend, colours = charts.classify([0, 1, 2, 3, None], fmt=str, integer=True)
    assert [c.label for c in legend] == ["0", "1", "2", "3"]
    assert colours[0] == charts.PALETTE[0] and colours[3] == charts.PALETTE[-1]
    assert colours[4] == charts.NO_DATA
    legend, _colours = charts.classify(list(range(0, 101)), fmt=str, integer=True)
    assert legend[0].label == "0 – 20" and legend[-1].label.endswith("100")


def test_an_sla_change_shows_in_the_league_at_once(client, service_type, monkeypatch):
    """Rescheduling open issues is a bulk UPDATE; the figures' cache follows the page cache's
    counter, which the service type's save moves on, so the new overdue count shows at once."""
    from datetime import timedelta

    from django.utils import timezone

    from departments.models import Ward
    from issues import pagecache, services
    from issues.dashboards import recount
    from issues.models import Issue
    from tests.factories import CITY_HALL, make_issue, square_boundary

    monkeypatch.setattr(pagecache, "_minute", lambda: 29_000_000)
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    issue = make_issue(service_type)
    services.set_sla_hours(service_type=service_type, hours=None)
    Issue.objects.filter(pk=issue.pk).update(requested_at=timezone.now() - timedelta(days=5))
    recount.rebuild()
    before = client.get("/wards/")
    assert before.context["totals"]["overdue"].value == 0

    services.set_sla_hours(service_type=service_type, hours=1)

    after = client.get("/wards/")
    assert after["X-Page-Cache"] == "miss"
    assert after.context["totals"]["overdue"].value == 1


def test_each_link_is_the_filters_own_query_string(client, scenario):
    """Links builds a page's query strings once per set of filters and puts each ward's number
    in (the league's 255 links): every one must be exactly what IssueFilters writes, and the
    page must show each row's links."""
    from datetime import date
    from html import escape

    from issues.dashboards.links import Links
    from issues.filters import IssueFilters

    day = date(2026, 5, 1)
    links = Links()
    for number in (1, 2, 11):
        ward_links = links.for_ward(number)
        for params in (
            {"status_param": "open"},
            {"start": day},
            {"status_param": "closed", "closed_start": day},
            {"service_codes": ["a b&c"], "start": day, "bbox": (-87.7, 41.8, -87.6, 41.9)},
            {"status_param": "open", "overdue": True},
        ):
            assert (
                ward_links.query(**params) == IssueFilters(wards=[number], **params).querystring()
            )
    # Dates and a type's code are filled into a query string built once per kind of link (a
    # ward page's 52 weekly links, its types' rows): each must still be the filters' own, a
    # missing date or a code that must be quoted included, for the city's links (no ward) and
    # a ward's alike, whichever was asked for first.
    for number in (None, 7, None, 3):
        dated = links if number is None else links.for_ward(number)
        wards = [] if number is None else [number]
        for first in (day, date(2025, 12, 29), date(2026, 11, 30)):
            for params in (
                {"start": first, "end": date(2026, 12, 31)},
                {"start": None, "end": first},
                {"status_param": "closed", "closed_start": first, "closed_end": first},
                {"status_param": "open", "start": first, "end": None},
                {"start": first, "bbox": (-87.7, 41.8, -87.6, 41.9), "service_codes": ["x"]},
                {"service_codes": ["pot-hole_2"], "status_param": "closed", "closed_start": first},
                {"service_codes": ["graffiti"], "status_param": "closed", "closed_start": first},
                {"service_codes": ["a b&c"], "status_param": "open"},
                {"service_codes": ["x", "y"], "start": first},
                {"service_codes": ["graffiti"]},
            ):
                expected = IssueFilters(wards=wards, **params).querystring()
                assert dated.query(**params) == expected
    # An explicit wards= (a hotspot's surroundings cross wards) is left as given.
    assert Links(ward_number=2).query(wards=[], start=day) == f"start={day.isoformat()}"
    response = client.get("/wards/")
    html = response.content.decode()
    for t in response.context["table"]:
        for key in ("open", "opened_recent", "median_days", "sla_share", "overdue"):
            figure = t[key]
            assert (
                f'<a class="wards-fig" href="{escape(figure.list_url)}">{figure.display}</a>'
                in html
            )
            assert f'href="{escape(figure.csv_url)}">CSV' in html
