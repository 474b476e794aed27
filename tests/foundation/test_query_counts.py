"""Exact query counts for every page, list and API answer, as Zulip keeps them: a budget ("at
most 22") lets an N+1 from 9 to 19 queries pass review unseen; an exact number makes any new query
show up in review, where someone decides whether it is worth it.

Each is counted on a city with several rows of everything a page lists (issues with photos,
comments and history, hidden ones, wards, types with questions), so a query per row shows as a
changed count; and each request is the first of its test, so the public page cache misses and the
view really runs. The counts are the same on SQLite and PostgreSQL (CI runs both).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import issue_api_key
from departments.asset_cells import rebuild_layer_cells
from departments.models import (
    IntegrationKey,
    ServiceType,
    ServiceTypeUpstream,
    UpstreamEndpoint,
    Ward,
)
from issues import services
from issues.dashboards import stored, trends
from issues.dashboards import ward as ward_figures
from issues.models import (
    CityUpdate,
    Issue,
    Status,
    UpstreamKind,
    UpstreamSend,
    UpstreamState,
    VisitOutcome,
)
from issues.notify import links
from issues.notify.events import suppressed
from issues.photos import prepare_photo, store_photo
from tests.factories import (
    CITY_HALL,
    assets_along,
    make_attribute,
    make_department,
    make_layer,
    make_service_type,
    make_staff,
    make_user,
    square_boundary,
)
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db

POINTS = [(CITY_HALL[0] + 0.001 * i, CITY_HALL[1] + 0.001 * i) for i in range(6)]


@pytest.fixture
def city(db):
    """Two wards, two departments, three types (one with questions), six issues with history,
    photos, comments and votes (one hidden, one closed), and the people who use them."""
    ward = Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    Ward.objects.create(number=2, name="Ward 2", boundary=square_boundary(41.8, -87.7))
    streets = make_department("Streets")
    water = make_department("Water")
    pothole = make_service_type(streets, code="pothole", name="Pothole")
    make_attribute(pothole, "SIZE", "singlevaluelist", values=[{"key": "s", "name": "Small"}])
    make_attribute(pothole, "WHERE", "string")
    make_service_type(streets, code="graffiti", name="Graffiti")
    make_service_type(water, code="leak", name="Leak")
    staff = make_staff(streets, email="staff@city.example")
    alderman = make_user("alderman@city.example", is_staff=True)
    ward.aldermen.add(alderman)
    resident = make_user("resident@example.org", display_name="Rosa", email_verified=True)
    admin = get_user_model().objects.create_superuser(email="admin@city.example", password="x")
    issues = []
    with suppressed():
        for n, point in enumerate(POINTS):
            issue = services.create_issue(
                service_type=pothole,
                latitude=point[0],
                longitude=point[1],
                address=f"{100 + n} N LaSalle St",
                description=f"Pothole number {n}",
                attributes={"SIZE": ["s"], "WHERE": ["lane"]},
                reporter=resident if n % 2 else None,
                reporter_email="" if n % 2 else f"anon{n}@example.net",
                photos=[prepare_photo(upload("p.jpg", jpeg_bytes()))],
            )
            services.add_comment(issue=issue, author=resident, body=f"Still there {n}")
            services.add_comment(issue=issue, author=staff, body="Crew note", internal=True)
            services.add_vote(issue=issue, user=resident)
            services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=staff, message="Seen")
            store_photo(issue=issue, prepared=prepare_photo(upload("q.jpg", jpeg_bytes())))
            issues.append(issue)
        services.change_status(issue=issues[0], to=Status.CLOSED, by=staff, message="Filled")
        services.set_hidden(target=issues[5], hidden=True, by=staff, reason="Private data")
    Issue.objects.filter(pk=issues[0].pk).update(closed_at=timezone.now() - timedelta(days=8))
    connect_to_a_city_system(pothole, streets, staff, issues)
    assets = _asset_layer(streets, issues, resident, staff)
    return {
        **assets,
        "ward": ward,
        "issues": issues,
        "pothole": pothole,
        "staff": staff,
        "alderman": alderman,
        "resident": resident,
        "admin": admin,
    }


def connect_to_a_city_system(pothole, streets, staff, issues) -> None:
    """A city system the pothole type is sent to, with an integration key, and the outbox and
    updates of half the issues (the other half's come from the reports made after)."""
    endpoint = UpstreamEndpoint.objects.create(name="City 311", base_url="http://127.0.0.1:9/v2/")
    ServiceTypeUpstream.objects.create(service_type=pothole, endpoint=endpoint, service_code="PH")
    key, _raw = issue_api_key(owner=staff, name="Streets CRM")
    IntegrationKey.objects.create(api_key=key, department=streets)
    for n, issue in enumerate(issues[:3]):
        UpstreamSend.objects.create(
            issue=issue,
            endpoint=endpoint,
            kind=UpstreamKind.REPORT,
            dedupe_key=f"report:{issue.pk}:{endpoint.pk}",
            state=UpstreamState.SENT,
            remote_id=f"PH-{n}",
        )
        CityUpdate.objects.create(issue=issue, update_key=f"u{n}", channel="poll")


BBOX = f"{CITY_HALL[1] - 0.05},{CITY_HALL[0] - 0.05},{CITY_HALL[1] + 0.05},{CITY_HALL[0] + 0.05}"


def _asset_layer(streets, issues, resident, staff) -> dict:
    """An adoptable layer of six shelters by the issues, its type, two reports against a
    shelter (one closed), two adopters (one named) with visits, one with a photo."""
    layer = make_layer(
        "Bus shelters",
        asset_label="bus shelter",
        asset_label_plural="bus shelters",
        adoptable=True,
        max_adopters=2,
        care_task="Clean it",
    )
    shelter_type = make_service_type(streets, code="dirty-shelter", name="Dirty Shelter")
    shelter_type.asset_layer = layer
    shelter_type.save()
    shelters = assets_along(layer, 6, step=0.001)
    rebuild_layer_cells(layer)  # as an import does; the adoptions below keep them in step
    neighbour = make_user("neighbour@example.org", display_name="Nadia")
    services.set_name_shown(user=neighbour, show=True)
    with suppressed():
        for _ in range(2):
            report = services.create_issue(
                service_type=shelter_type, latitude=None, longitude=None, asset=shelters[0]
            )
        services.change_status(issue=report, to=Status.CLOSED, by=staff, message="Cleaned")
        for person in (resident, neighbour):
            adoption = services.adopt_asset(asset=shelters[0], user=person)
            services.log_visit(
                adoption=adoption,
                by=person,
                outcome=VisitOutcome.CLEANED,
                photo=prepare_photo(upload("v.jpg", jpeg_bytes())),
            )
        services.adopt_asset(asset=shelters[1], user=resident)
    return {"layer": layer, "shelters": shelters, "adoption": adoption, "neighbour": neighbour}


def public_pages(city) -> dict[str, str]:
    issue = city["issues"][1]
    closed = city["issues"][0]
    return {
        "home": reverse("issues:home"),
        "home, filtered": reverse("issues:home") + "?status=open&type=pothole&ward=42",
        "map, zoomed out": reverse("issues:viewport") + f"?bbox={BBOX}&zoom=11",
        "map, zoomed in": reverse("issues:viewport") + f"?bbox={BBOX}&zoom=17",
        "map, ward outlines": reverse("issues:ward_outlines"),
        "report form": reverse("issues:report"),
        "report form, type chosen": reverse("issues:report") + "?type=pothole",
        "report questions": reverse("issues:report_questions") + "?type=pothole",
        "report nearby": reverse("issues:report_nearby")
        + f"?type=pothole&latitude={POINTS[1][0]}&longitude={POINTS[1][1]}",
        "tracker": reverse("issues:track"),
        "issue page": issue.get_absolute_url(),
        "is it fixed? yes": links.followup_urls(closed)["yes_url"],
        "is it fixed? no": links.followup_urls(closed)["no_url"],
        "unsubscribe": links.unsubscribe_url(
            email="anon0@example.net", scope="issue", target_id=closed.pk
        ),
        "wards league": reverse("wards:index"),
        "ward dashboard": reverse("wards:detail", kwargs={"slug": city["ward"].slug}),
        "ward outlines": reverse("wards:outlines"),
        "ward open issues": reverse("wards:open_issues", kwargs={"slug": city["ward"].slug}),
        "open data": reverse("opendata:data"),
        "csv": reverse("opendata:issues_csv"),
        "geojson": reverse("opendata:issues_geojson"),
        "feed, new": reverse("opendata:feed_new"),
        "feed, updated": reverse("opendata:feed_updated"),
        "feed, ward": reverse("opendata:ward_feed_new", kwargs={"ward": 42}),
        "feed, type": reverse("opendata:type_feed_new", kwargs={"service_code": "pothole"}),
        "embed": reverse("opendata:embed"),
        # Issues 17 and 21: the new feeds, the alert form and the aldermen's pages.
        "feed, issue": reverse("issues:issue_feed", kwargs={"public_id": issue.public_id}),
        "feed, area": reverse("issues:area_feed")
        + f"?lat={POINTS[0][0]}&lon={POINTS[0][1]}&radius=1000",
        "alert form": reverse("issues:alert_new"),
        "wards compare": reverse("wards:compare") + "?wards=42,2",
        "wards types": reverse("wards:types"),
        "ward type page": reverse("wards:type", kwargs={"code": "pothole"}),
        "ward monthly report": reverse("wards:report", kwargs={"slug": city["ward"].slug}),
        "open311 discovery": "/open311/v2/discovery.json",
        "open311 services": "/open311/v2/services.json",
        "open311 services xml": "/open311/v2/services.xml",
        "open311 definition": "/open311/v2/services/pothole.json",
        "open311 requests": "/open311/v2/requests.json",
        "open311 requests xml": "/open311/v2/requests.xml",
        "open311 requests, radius": "/open311/v2/requests.json"
        + f"?lat={CITY_HALL[0]}&long={CITY_HALL[1]}&radius=500",
        "open311 request": f"/open311/v2/requests/{issue.public_id}.json",
        "openapi": "/open311/v2/openapi.json",
        "open311 updates": "/open311/v2/servicerequestupdates.json",
        "open311 updates xml": "/open311/v2/servicerequestupdates.xml",
        "sign in": reverse("accounts:login"),
        "sign up": reverse("accounts:signup"),
        "readiness": reverse("readyz"),
        **asset_pages(city),
    }


def asset_pages(city) -> dict[str, str]:
    layer, shelter = city["layer"].slug, city["shelters"][0]
    pin = f"latitude={shelter.latitude}&longitude={shelter.longitude}"
    return {
        "report form, type with assets": reverse("issues:report") + f"?type=dirty-shelter&{pin}",
        "report assets": reverse("issues:report_assets") + f"?type=dirty-shelter&{pin}&asset=3",
        "asset map, zoomed out": reverse("issues:asset_map", args=[layer])
        + f"?bbox={BBOX}&zoom=11",
        "asset map, zoomed in": reverse("issues:asset_map", args=[layer]) + f"?bbox={BBOX}&zoom=17",
        "asset layers": reverse("issues:asset_layers"),
        "asset layer": reverse("issues:asset_layer", args=[layer]),
        "asset page": reverse("issues:asset", args=[layer, shelter.source_id]),
        "asset ward figures": reverse("issues:asset_wards", args=[layer]),
        "adopter page": city["adoption"].adopter.get_absolute_url(),
        "assets csv": reverse("opendata:assets_csv"),
        "adoptions csv": reverse("opendata:adoptions_csv"),
        "open311 assets": "/open311/v2/assets.json",
        "open311 assets, radius": "/open311/v2/assets.json"
        + f"?layer={layer}&lat={shelter.latitude}&long={shelter.longitude}&radius=500",
        "open311 definition with assets": "/open311/v2/services/dirty-shelter.json",
    }


def signed_in_pages(city) -> dict[str, tuple[str, str]]:
    issue = city["issues"][1]
    return {
        "profile": ("resident", reverse("issues:profile")),
        "my wards": ("alderman", reverse("wards:mine")),
        "issue page, signed in": ("resident", issue.get_absolute_url()),
        "ward dashboard, alderman": (
            "alderman",
            reverse("wards:detail", kwargs={"slug": city["ward"].slug}),
        ),
        "workbench queue, staff": ("staff", reverse("admin:issues_issue_changelist")),
        "workbench queue, open": (
            "staff",
            reverse("admin:issues_issue_changelist") + "?status=open",
        ),
        "workbench queue, alderman": ("alderman", reverse("admin:issues_issue_changelist")),
        "workbench queue, admin": ("admin", reverse("admin:issues_issue_changelist")),
        "workbench issue page": ("staff", reverse("admin:issues_issue_change", args=[issue.pk])),
        "workbench issue page, alderman": (
            "alderman",
            reverse("admin:issues_issue_change", args=[issue.pk]),
        ),
        "workbench home": ("staff", reverse("admin:index")),
        "catalogue: departments": ("admin", reverse("admin:departments_department_changelist")),
        "catalogue: service types": ("admin", reverse("admin:departments_servicetype_changelist")),
        "catalogue: wards": ("admin", reverse("admin:departments_ward_changelist")),
        "catalogue: templates": ("staff", reverse("admin:departments_responsetemplate_changelist")),
        "records: outbox": ("admin", reverse("admin:issues_notification_changelist")),
        "records: history": ("admin", reverse("admin:issues_statuschange_changelist")),
        "catalogue: city systems": (
            "admin",
            reverse("admin:departments_upstreamendpoint_changelist"),
        ),
        "catalogue: city mappings": (
            "admin",
            reverse("admin:departments_servicetypeupstream_changelist"),
        ),
        "catalogue: integration keys": (
            "admin",
            reverse("admin:departments_integrationkey_changelist"),
        ),
        "records: city outbox": ("admin", reverse("admin:issues_upstreamsend_changelist")),
        "records: city updates": ("admin", reverse("admin:issues_cityupdate_changelist")),
        "workbench queue, sent to the city": (
            "staff",
            reverse("admin:issues_issue_changelist") + "?city=sent",
        ),
        "asset page, adopter": (
            "resident",
            reverse("issues:asset", args=[city["layer"].slug, city["shelters"][0].source_id]),
        ),
        "adopt page": (
            "neighbour",
            reverse("issues:adopt", args=[city["layer"].slug, city["shelters"][2].source_id]),
        ),
        "visit page": ("neighbour", reverse("issues:visit", args=[city["adoption"].pk])),
        "give up page": ("neighbour", reverse("issues:give_up", args=[city["adoption"].pk])),
        "workbench adoptions, staff": ("staff", reverse("admin:issues_adoption_changelist")),
        "workbench adoptions, admin": ("admin", reverse("admin:issues_adoption_changelist")),
        "catalogue: asset layers": ("admin", reverse("admin:departments_assetlayer_changelist")),
        "catalogue: assets": ("admin", reverse("admin:departments_asset_changelist")),
    }


# Queries per first request. A signed-in request adds two for its session and user.
PUBLIC = {
    # The wards' version, for the outlines' year-long URL (issues/views/home.py:outline_urls).
    "home": 6,
    "home, filtered": 6,
    # Whether the map's counters are built, then the cells (issues.models.MapCell).
    "map, zoomed out": 2,
    # Whether the map's counters are built at that zoom, the box's cells and how many they hold
    # (departments.geo.stored_rows_or_cells), then the rows (a quiet box).
    "map, zoomed in": 3,
    "map, ward outlines": 2,
    "report form": 1,
    "report form, type chosen": 3,
    "report questions": 2,
    "report nearby": 3,
    "tracker": 0,
    # The reporter's last edit (issue 17) and whether it has duplicates (issue 16) are
    # subqueries of the issue's own query (issue 19); its duplicates are read only if it has any.
    "issue page": 6,
    "is it fixed? yes": 1,
    "is it fixed? no": 1,
    "unsubscribe": 1,
    # The league is computed by each page that shows it (9 reads) but on PostgreSQL: STORED.
    "wards league": 9,  # + the previous period (issue 21), + the weekly close histogram (19)
    # + the figures' context (issue 21), + the weekly histogram (19), - the ward's own count of
    # the issues due earlier today (the league's grouped one has it)
    "ward dashboard": 18,
    "ward outlines": 1,
    "ward open issues": 2,
    "open data": 4,  # + row counts from the rollup and the last update (issue 21)
    # Whether the download is large (a LIMITed count: issues/opendata/files.py), then the rows.
    "csv": 2,
    "geojson": 2,
    "feed, new": 1,
    "feed, issue": 3,
    "feed, area": 1,
    "alert form": 1,
    "wards compare": 10,  # + the weekly close histogram's reads (issue 19)
    "wards types": 2,
    "ward type page": 7,  # + the weekly close histogram's reads (issue 19)
    # + the weekly close histogram (19), - the heat grid it never prints, - the due earlier today,
    # - the service types read twice (once for the board and the month)
    "ward monthly report": 18,
    "feed, updated": 1,
    "feed, ward": 2,
    "feed, type": 2,
    "embed": 1,  # the city's extent, so the embed fits every ward (issue 21)
    "open311 discovery": 0,
    "open311 services": 1,
    "open311 services xml": 1,
    "open311 definition": 2,
    "open311 requests": 2,
    "open311 requests xml": 2,
    "open311 requests, radius": 2,
    "open311 request": 2,
    "openapi": 1,
    "open311 updates": 2,
    "open311 updates xml": 2,
    "sign in": 0,
    "sign up": 0,
    "readiness": 1,  # SELECT 1: is the database there?
    # The type, its questions and the type list; two boxes for the five nearest shelters (the
    # first holds three), and what is open against them.
    "report form, type with assets": 6,
    "report assets": 4,
    # The layer; whether its cells are built; the cells (departments.models.AssetCell).
    "asset map, zoomed out": 3,
    "asset map, zoomed in": 2,
    "asset layers": 1,
    "asset layer": 3,
    "asset page": 7,
    "asset ward figures": 4,
    "adopter page": 3,
    "assets csv": 1,
    "adoptions csv": 1,
    "open311 assets": 2,
    "open311 assets, radius": 3,
    "open311 definition with assets": 2,
}
SIGNED_IN = {
    "profile": 7,  # + the alert areas (issue 17)
    "my wards": 14,  # + the weekly close histogram's reads (issue 19), + the previous period
    "issue page, signed in": 11,  # the last edit and duplicates as on "issue page" (19)
    # + the figures' context (21), the weekly histogram (19), - the due earlier today (as above)
    "ward dashboard, alderman": 23,
    "workbench queue, staff": 14,
    "workbench queue, open": 14,
    "workbench queue, alderman": 14,
    "workbench queue, admin": 10,
    # + the moderation log (issue 20); +5 (issue 16): the type's questions for the report at
    # the top, its duplicates, the nearby reports of its type (likely originals), the next
    # issue of the queue, and the types it can be re-categorised to.
    "workbench issue page": 32,  # +1: the staff-only history of assignments and priorities
    "workbench issue page, alderman": 22,  # +1: its duplicates
    "workbench home": 6,
    "catalogue: departments": 5,
    "catalogue: service types": 7,
    "catalogue: wards": 5,
    "catalogue: templates": 10,
    "records: outbox": 6,  # + the state and event facets, - the "(n total)" count of the table
    "records: history": 5,
    "catalogue: city systems": 5,
    "catalogue: city mappings": 6,
    "catalogue: integration keys": 6,
    "records: city outbox": 6,
    "records: city updates": 5,
    "workbench queue, sent to the city": 14,
    "asset page, adopter": 10,
    "adopt page": 6,
    "visit page": 5,
    "give up page": 4,
    "workbench adoptions, staff": 9,
    "workbench adoptions, admin": 6,
    "catalogue: asset layers": 5,
    "catalogue: assets": 5,
}


# On PostgreSQL the league, each ward's and each type's figures are stored per data version
# (issues/dashboards/stored.py), and the tests store them first: a page that shows the league
# reads the stored rows with the wards, and the issues due earlier today (2 instead of computing
# it: 9, or 6 for "My wards", which shows no change); a ward's figures, its row and the types' names (2
# instead of 6, the report's 5: it reads no heat grid; its issues due earlier today are counted
# by the league's grouped read); a type's trend,
# its row and the wards' names (2 instead of 5).
STORED = {
    "wards league": 2,
    "ward dashboard": 7,
    "wards compare": 3,
    "ward monthly report": 8,  # its service types read once, for the board and the month
    "ward type page": 4,
    "my wards": 7,
    "ward dashboard, alderman": 12,
}


def store_figures() -> None:
    """What the worker keeps stored on PostgreSQL: the league, every ward's and type's figures,
    the index of types (read as on SQLite: its row and the active types)."""
    if connection.vendor == "postgresql":
        stored.refresh()
        for ward in Ward.objects.all():
            ward_figures.stored_ward_dashboard(ward=ward)
        for service_type in ServiceType.objects.all():
            trends.stored_type_trend(service_type=service_type)
        trends.stored_type_changes()


def count_queries(client, url: str) -> tuple[int, int]:
    """(status, queries) of one GET, streamed answers (CSV, GeoJSON) read to the end. Django's
    content-type cache lives as long as the process: emptied, so the count does not depend on
    which tests ran before in this worker."""
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return response.status_code, len(queries.captured_queries)


def test_every_public_page_and_api_list_has_a_counted_number_of_queries(client, city):
    pages = public_pages(city)
    assert set(pages) == set(PUBLIC)
    store_figures()
    found = {}
    for name, url in pages.items():
        cache.clear()  # every page a cache miss: the view runs
        status, queries = count_queries(client, url)
        assert status == 200, name
        found[name] = queries
    expected = dict(PUBLIC)
    if connection.vendor == "postgresql":
        # The downloads' rows come by COPY (issues/opendata/pgcopy.py), after set_config, in a
        # transaction of their own that is rolled back: inside the test's transaction a
        # savepoint, so SAVEPOINT, set_config, COPY, ROLLBACK TO, RELEASE instead of one query.
        expected.update({"csv": 6, "geojson": 6})
        expected.update({k: v for k, v in STORED.items() if k in expected})
    assert found == expected


def test_every_signed_in_page_has_a_counted_number_of_queries(client, city):
    pages = signed_in_pages(city)
    assert set(pages) == set(SIGNED_IN)
    store_figures()
    found = {}
    for name, (who, url) in pages.items():
        cache.clear()
        client.force_login(city[who])
        status, queries = count_queries(client, url)
        assert status == 200, name
        found[name] = queries
    expected = dict(SIGNED_IN)
    if connection.vendor == "postgresql":
        expected.update({k: v for k, v in STORED.items() if k in expected})
    assert found == expected


def test_counts_do_not_grow_with_the_rows_a_page_lists(client, city):
    """Six more issues like the others change no count: nothing is asked per row."""
    more = city["issues"][1]
    for n in range(6):
        issue = services.create_issue(
            service_type=city["pothole"],
            latitude=POINTS[n][0] + 0.0005,
            longitude=POINTS[n][1],
            description=f"Another {n}",
            attributes={"SIZE": ["s"]},
            reporter=city["resident"],
        )
        services.add_comment(issue=issue, author=city["resident"], body="Me too")
        services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=city["staff"])
    services.add_comment(issue=more, author=city["resident"], body="And again")
    test_every_public_page_and_api_list_has_a_counted_number_of_queries(client, city)
    test_every_signed_in_page_has_a_counted_number_of_queries(client, city)
