"""The ward dashboard: every figure equals the same figure recomputed from the rows, and every
figure's links reproduce it through the public list's filters."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from issues import geo
from issues.dashboards import ward as ward_figures
from issues.dashboards.links import Figure
from issues.filters import IssueFilters
from issues.models import Issue, Status
from tests.dashboards import expected
from tests.factories import make_issue, make_user


def count_behind(url: str) -> int:
    """What the public list (and the CSV) would hold for this link."""
    query = QueryDict(urlsplit(url).query)
    filters = IssueFilters.from_params(query)
    assert not filters.errors, filters.errors
    return filters.apply(Issue.objects.public()).count()


def test_selector_figures_match_rows(scenario):
    now = timezone.now()
    board = ward_figures.ward_dashboard(ward=scenario.ward, now=now)
    exp = expected.ward_figures(scenario.refreshed(), scenario.ward, now)
    _assert_scenario_exercises_every_figure(exp)

    assert board.open == exp["open"]
    assert board.overdue == exp["overdue"]
    assert board.opened_this_week == exp["opened_this_week"]
    assert board.closed_this_week == exp["closed_this_week"]
    assert board.closed_recent == exp["closed_recent"]
    assert board.median_days == pytest.approx(exp["median_days"], abs=1e-4)
    assert {s: n for s, _label, n in board.by_status if n} == dict(exp["by_status"])
    assert {w.start: (w.opened, w.closed) for w in board.weeks} == exp["weeks"]
    assert {b.label: b.count for b in board.aging if b.count} == dict(exp["aging"])
    for row in board.by_type:
        e = exp["by_type"][row.code]
        assert (row.total, row.open, row.closed_recent) == (
            e["total"],
            e["open"],
            e["closed_recent"],
        )
        if e["median"] is None:
            assert row.median_days is None
        else:
            assert row.median_days == pytest.approx(e["median"], abs=1e-4)
    assert {r.code for r in board.by_type} == set(exp["by_type"])


def _assert_scenario_exercises_every_figure(exp):
    """Guards the oracle: a test comparing zeros with zeros would prove nothing."""
    assert exp["open"] >= 5 and exp["overdue"] >= 2 and exp["closed_recent"] >= 4
    assert 0 < exp["sla_share"] < 1
    assert len([k for k, v in exp["aging"].items() if v]) == 4
    assert sum(1 for o, c in exp["weeks"].values() if o or c) >= 6


def test_hidden_issues_are_not_counted(scenario):
    now = timezone.now()
    before = ward_figures.ward_dashboard(ward=scenario.ward, now=now)
    visible_open = next(
        i
        for i in scenario.issues
        if i.ward_id == scenario.ward.pk and i.is_open and not i.is_hidden
    )
    from issues import services

    services.set_hidden(target=visible_open, hidden=True, by=scenario.staff, reason="Spam")
    after = ward_figures.ward_dashboard(ward=scenario.ward, now=now)
    assert after.open == before.open - 1
    assert sum(c.count for c in after.heat_cells) == sum(c.count for c in before.heat_cells) - 1
    assert visible_open.pk not in [i.pk for i in after.oldest_open]


def test_page_figures_link_to_lists_that_produce_them(client, scenario):
    response = client.get(f"/wards/{scenario.ward.slug}/")
    assert response.status_code == 200
    ctx = response.context
    figures: list[Figure] = [h["figure"] for h in ctx["headline"]]
    figures += [s["figure"] for s in ctx["by_status"]]
    figures += [f for t in ctx["by_type"] for f in (t["total"], t["open"], t["closed_recent"])]
    figures += [f for w in ctx["weeks"] for f in (w["opened"], w["closed"])]
    figures += [a["figure"] for a in ctx["aging"]]
    figures += [c["figure"] for c in ctx["top_cells"]] + [c["dominant"] for c in ctx["top_cells"]]
    counted = [f for f in figures if isinstance(f.value, int)]
    assert len(counted) > 60
    for f in counted:
        assert count_behind(f.list_url) == f.value, (f.label, f.list_url)
        assert urlsplit(f.csv_url).query == urlsplit(f.list_url).query
        assert urlsplit(f.csv_url).path == "/data/issues.csv"
    html = response.content.decode()
    for f in counted[:20]:
        assert f'href="{f.list_url.replace("&", "&amp;")}"' in html


def test_median_links_reproduce_the_set_it_is_computed_over(client, scenario):
    response = client.get(f"/wards/{scenario.ward.slug}/")
    median = response.context["headline"][2]["figure"]
    query = QueryDict(urlsplit(median.list_url).query)
    rows = IssueFilters.from_params(query).apply(Issue.objects.public())
    durations = [expected.days_to_close(i) for i in rows]
    assert median.value == pytest.approx(expected.median(durations), abs=1e-4)


def test_heat_grid_matches_points_and_names_the_dominant_type(scenario):
    now = timezone.now()
    board = ward_figures.ward_dashboard(ward=scenario.ward, now=now)
    lat_step, lon_step = geo.heat_steps()
    exp = expected.heat_cells(scenario.refreshed(), scenario.ward, now, lat_step, lon_step)
    got = {(c.row, c.col): c for c in board.heat_cells}
    assert set(got) == set(exp)
    for key, counter in exp.items():
        cell = got[key]
        assert cell.count == sum(counter.values())
        top = max(counter.values())
        assert cell.dominant_count == top
        assert counter[cell.dominant_code] == top
    assert board.top_cells[0].count == max(c.count for c in board.heat_cells)


def test_svg_charts_carry_their_numbers_as_text(client, scenario):
    response = client.get(f"/wards/{scenario.ward.slug}/")
    html = response.content.decode()
    svgs = re.findall(r"<svg[^>]*role=\"img\".*?</svg>", html, flags=re.S)
    assert len(svgs) >= 5
    for svg in svgs:
        assert "<title" in svg and "<desc" in svg
    board = response.context["board"]
    weekly = next(s for s in svgs if 'id="chart-weekly-title"' in s)
    for w in board.weeks:
        label = w.start.strftime("%b") + " " + str(w.start.day)
        assert f"Week of {label}: {w.opened} opened, {w.closed} closed." in weekly
    aging = next(s for s in svgs if 'id="chart-aging-title"' in s)
    for bucket in board.aging:
        if bucket.count:
            assert f">{bucket.count}</text>" in aging
    status = next(s for s in svgs if 'id="chart-status-title"' in s)
    for _value, label, n in board.by_status:
        if n:
            assert f"{label}: {n}" in status
    # The heat map (written out in Python, issues.dashboards.charts.HeatMap.svg): one shaded
    # square per grid square, the squares of one count one path with the count as a plural
    # title, the top squares numbered.
    heat = next(s for s in svgs if 'id="chart-heat-title"' in s)
    paths = re.findall(r'<path class="cell"[^>]* d="([^"]*)"><title>(\d+) reports?</title>', heat)
    squares = sorted(int(n) for d, n in paths for _ in re.findall(r"M[^Mz]*z", d))
    assert squares == sorted(c.count for c in board.heat_cells)
    assert len(paths) == len({c.count for c in board.heat_cells})
    assert "<title>1 reports</title>" not in heat
    assert heat.count('<text class="rank"') == len(board.top_cells)


def test_map_data_cells_multiply_out_to_the_heat_cells_edges(client, scenario):
    """The map's heat cells are [row, col, count] with the grid's steps: wards.js multiplies
    them out, and gets each cell's edges exactly (the same IEEE products as HeatCell's)."""
    response = client.get(f"/wards/{scenario.ward.slug}/")
    html = response.content.decode()
    data = json.loads(re.search(r'id="wards-map-data"[^>]*>(.*?)</script>', html, re.S)[1])
    lat, lon = data["grid"]
    cells = response.context["board"].heat_cells
    assert cells and len(data["cells"]) == len(cells)
    for (row, col, count), cell in zip(data["cells"], cells, strict=True):
        assert (row * lat, col * lon, (row + 1) * lat, (col + 1) * lon) == (
            cell.south,
            cell.west,
            cell.north,
            cell.east,
        )
        assert count == cell.count
    assert data["heat_max"] == max(c.count for c in cells)


def test_oldest_open_issues_come_first_and_hide_private_fields(client, scenario):
    issue = make_issue(
        scenario.pothole,
        point=(scenario.issues[0].latitude, scenario.issues[0].longitude),
        reporter_email="secret-reporter@example.net",
        reporter_phone="312-555-0199",
        reporter_name="Private Person",
        requested_at=timezone.now() - timezone.timedelta(days=400),
    )
    response = client.get(f"/wards/{scenario.ward.slug}/")
    oldest = response.context["oldest"]
    assert oldest[0].pk == issue.pk
    ages = [i.requested_at for i in oldest]
    assert ages == sorted(ages)
    html = response.content.decode()
    for secret in ("secret-reporter@example.net", "312-555-0199", "Private Person"):
        assert secret not in html


def test_open_issue_feed_lists_only_public_open_issues(client, scenario):
    response = client.get(f"/wards/{scenario.ward.slug}/open-issues.geojson")
    assert response.status_code == 200
    ids = {f["properties"]["id"] for f in response.json()["features"]}
    exp = {
        i.public_id
        for i in scenario.refreshed()
        if i.ward_id == scenario.ward.pk and i.is_open and not i.is_hidden
    }
    assert ids == exp


def test_unknown_ward_is_404(client, some_wards):
    assert client.get("/wards/ward-999/").status_code == 404


def test_ward_page_query_count_does_not_grow_with_issues(
    client, scenario, django_assert_num_queries
):
    # 18: the ward's figures (9: its issues due earlier today are the league's) and their
    # context (9): the league's rows for the city figure and the rank, and the previous period's
    # grouped reads for the change; each 90-day median reads its whole weeks and its edge days
    # apart (league.close_bins). Constant all the same.
    # On PostgreSQL + 5: the stored league read (stale), and written in a savepoint (its own two);
    # + 2: the ward's stored figures read (stale) and written (issues/dashboards/stored.py).
    computed = 25 if connection.vendor == "postgresql" else 18
    with django_assert_num_queries(computed):
        assert client.get(f"/wards/{scenario.ward.slug}/").status_code == 200
    for _ in range(15):
        make_issue(
            scenario.graffiti, point=(scenario.issues[1].latitude, scenario.issues[1].longitude)
        )
    with django_assert_num_queries(computed):
        assert client.get(f"/wards/{scenario.ward.slug}/").status_code == 200
    if connection.vendor == "postgresql":
        cache.clear()
        # The league and the ward stored and current: the league's rows with the wards' names,
        # and the issues due earlier today, instead of the league's ten reads; the ward's row and
        # the types' names instead of its six.
        with django_assert_num_queries(7):
            assert client.get(f"/wards/{scenario.ward.slug}/").status_code == 200


def test_signed_in_resident_can_watch_and_unwatch(client, scenario):
    user = make_user()
    client.force_login(user)
    url = f"/wards/{scenario.ward.slug}/watch/"
    response = client.post(url, {"action": "watch"})
    assert response.status_code == 302
    assert user.subscriptions.filter(ward=scenario.ward).exists()
    page = client.get(f"/wards/{scenario.ward.slug}/").content.decode()
    assert "Stop watching this ward" in page
    client.post(url, {"action": "unwatch"})
    assert not user.subscriptions.filter(ward=scenario.ward).exists()


def test_watch_needs_sign_in_and_a_known_action(client, scenario):
    url = f"/wards/{scenario.ward.slug}/watch/"
    response = client.post(url, {"action": "watch"})
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(make_user())
    response = client.post(url, {"action": "explode"})
    assert response.status_code == 400
    assert "watch or to stop watching" in response.content.decode()
    assert client.get(url).status_code == 405


def test_watch_refuses_to_redirect_off_site(client, scenario):
    client.force_login(make_user())
    response = client.post(
        f"/wards/{scenario.ward.slug}/watch/", {"action": "watch", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/wards/{scenario.ward.slug}/"


def test_alderman_sets_digest_and_sees_my_wards(client, scenario):
    alderman = make_user(notify_ward_digest=True)
    scenario.ward.aldermen.add(alderman)
    client.force_login(alderman)
    page = client.get(f"/wards/{scenario.ward.slug}/").content.decode()
    assert 'name="notify_ward_digest"' in page
    response = client.post("/wards/digest/", {})  # unticked box: off
    assert response.status_code == 302
    alderman.refresh_from_db()
    assert alderman.notify_ward_digest is False
    client.post("/wards/digest/", {"notify_ward_digest": "on"})
    alderman.refresh_from_db()
    assert alderman.notify_ward_digest is True
    mine = client.get("/wards/mine/")
    assert mine.status_code == 200
    assert [r.ward_id for r in mine.context["held"]] == [scenario.ward.pk]
    for figure in mine.context["held"][0].figures:
        assert count_behind(figure.list_url) == figure.value
    assert "My wards" in client.get("/wards/").content.decode()


def test_residents_cannot_set_a_digest_and_see_no_my_wards_link(client, scenario):
    client.force_login(make_user())
    response = client.post("/wards/digest/", {"notify_ward_digest": "on"})
    assert response.status_code == 400
    assert "My wards" not in client.get("/wards/").content.decode()
    assert "Wards" in client.get("/").content.decode()


@pytest.mark.parametrize("status", [Status.CLOSED, Status.ARCHIVED])
def test_closed_and_archived_both_count_as_closed(scenario, status):
    now = timezone.now()
    issue = make_issue(
        scenario.pothole, point=(scenario.issues[0].latitude, scenario.issues[0].longitude)
    )
    from issues import services

    services.change_status(issue=issue, to=Status.CLOSED)
    if status == Status.ARCHIVED:
        services.change_status(issue=issue, to=Status.ARCHIVED)
    board = ward_figures.ward_dashboard(ward=scenario.ward, now=timezone.now())
    exp = expected.ward_figures(
        [*scenario.refreshed(), Issue.objects.get(pk=issue.pk)], scenario.ward, now
    )
    assert board.closed_recent == exp["closed_recent"]
    assert board.closed_this_week == exp["closed_this_week"]


def test_pages_answer_head_requests(client, scenario):
    assert client.head("/wards/").status_code == 200
    assert client.head(f"/wards/{scenario.ward.slug}/").status_code == 200


def test_cached_pages_show_a_new_report_at_once_and_drop_a_hidden_one(client, scenario):
    from issues import services

    url = f"/wards/{scenario.ward.slug}/"
    first = client.get(url).context["board"]
    issue = make_issue(
        scenario.pothole,
        point=(scenario.issues[0].latitude, scenario.issues[0].longitude),
        requested_at=timezone.now() - timezone.timedelta(days=500),
    )
    second = client.get(url).context
    assert second["board"].open == first.open + 1
    assert second["oldest"][0].pk == issue.pk
    league = client.get("/wards/").context["table"]
    assert next(t for t in league if t["row"].number == scenario.ward.number)["open"].value == (
        first.open + 1
    )
    services.set_hidden(target=issue, hidden=True, by=scenario.staff, reason="Abuse")
    third = client.get(url).context
    assert issue.pk not in [i.pk for i in third["oldest"]]


def test_hiding_an_issue_leaves_the_cached_counts_at_once(some_wards, department, admin_user):
    from issues import services
    from issues.dashboards.ward import cached_ward_dashboard
    from tests.dashboards.conftest import points_in
    from tests.factories import make_issue, make_service_type

    ward = some_wards[0]
    service_type = make_service_type(department)
    issues = [make_issue(service_type, point=p) for p in points_in(ward, 3)]
    assert cached_ward_dashboard(ward=ward).open == 3
    services.set_hidden(target=issues[0], hidden=True, by=admin_user, reason="Abusive text")
    assert cached_ward_dashboard(ward=ward).open == 2


@pytest.mark.parametrize(
    "params",
    [
        {"service_codes": ["pothole", "street-light"], "status_param": "open", "wards": [5]},
        {"service_codes": ["año nuevo", "a&b=c"], "start": timezone.now().date()},
        {"bbox": (-87.6, 41.8, -87.5, 41.9), "closed_start": timezone.now().date()},
        {"service_codes": ["x y+z"], "overdue": True},
        {},
    ],
)
def test_query_strings_are_urlencodes_own(params):
    """IssueFilters.querystring skips quoting where nothing needs it: the same text as
    urlencode, whatever the values (a space, a non-ASCII letter, a comma, an "&")."""
    from django.utils.http import urlencode

    filters = IssueFilters(**params)
    assert filters.querystring() == urlencode(filters.as_params())
    assert filters.querystring(page=2) == urlencode({**filters.as_params(), "page": 2})
    assert IssueFilters.from_params(QueryDict(filters.querystring())).as_params() == (
        filters.as_params()
    )


def test_a_cold_report_reads_no_heat_grid_and_the_page_still_shows_it(client, scenario):
    """The monthly report prints no heat grid: a cold one leaves out its read and keeps nothing
    in the cache, so the ward page after it still finds its cells. On PostgreSQL it computes the
    whole board once per data version, stored for the ward page and the next report."""
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as report:
        assert client.get(f"/wards/{scenario.ward.slug}/report/").status_code == 200
    heat_reads = [q for q in report.captured_queries if "heattally" in q["sql"]]
    assert len(heat_reads) == (1 if connection.vendor == "postgresql" else 0)
    page = client.get(f"/wards/{scenario.ward.slug}/")
    assert page.context["board"].heat_cells
    now = timezone.now()
    whole = ward_figures.ward_dashboard(ward=scenario.ward, now=now)
    without = ward_figures.ward_dashboard(ward=scenario.ward, now=now, with_heat=False)
    assert without.heat_cells == []
    without.heat_cells = whole.heat_cells
    assert without == whole  # every other figure the same


def test_ward_page_draws_a_changed_boundary_at_once(client, scenario):
    """The ward's simplified outline is kept per process (departments.selectors.ward_outline),
    keyed by the ward's updated_at: an edited boundary is drawn on the next page."""
    from departments.selectors import ward_outline

    ward = scenario.ward
    before = client.get(f"/wards/{ward.slug}/").context["map_data"]["outline"]
    assert before == ward_outline(ward) and before["coordinates"]
    moved = json_moved(ward.boundary, 0.01)
    ward.boundary = moved
    ward.save()
    cache.clear()
    after = client.get(f"/wards/{ward.slug}/").context["map_data"]["outline"]
    assert after != before
    assert after["coordinates"][0][0][0] == pytest.approx(before["coordinates"][0][0][0] + 0.01)


def json_moved(geometry, east: float):
    """A GeoJSON polygon or multipolygon moved `east` degrees of longitude."""

    def move(value):
        if isinstance(value[0], (int, float)):
            return [value[0] + east, *value[1:]]
        return [move(v) for v in value]

    return {**geometry, "coordinates": move(geometry["coordinates"])}
