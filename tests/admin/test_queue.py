"""The issue list as a work queue: columns, filters, search, order, and a query count that does
not grow with the rows shown. SLA due times are absolute hours, shown in the city's time zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues import services
from issues.models import Issue, Source, Status
from issues.notify import events
from tests.admin.conftest import NO_WARD_POINT, WARD_2_POINT, changelist_url, shown_ids
from tests.factories import make_issue, make_service_type

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def chicago(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def test_queue_shows_the_columns_staff_work_from(client, sam, sam2, streets_issue):
    services.assign_issue(issue=streets_issue, assignee=sam2, by=sam)
    services.add_vote(issue=streets_issue, user=sam)
    client.force_login(sam)
    page = client.get(changelist_url()).content.decode()
    # id, type, short description, ward, age/due, status, assignee (issue 16): the address,
    # department and votes are on the issue page.
    for text in (
        streets_issue.public_id,
        "Pothole in Street",
        streets_issue.description[:20],
        'class="cf-status cf-status-open"',
        "Sid Streets",
        "42",
    ):
        assert text in page


def test_queue_opens_on_open_issues_overdue_first_newest_first(client, sam, pothole, wards):
    now = timezone.now()
    old_closed = make_issue(
        pothole, requested_at=now - timedelta(days=30), description="old closed"
    )
    services.change_status(issue=old_closed, to=Status.CLOSED, by=sam)
    newer_open = make_issue(pothole, requested_at=now - timedelta(days=1), description="newer")
    oldest_open = make_issue(pothole, requested_at=now - timedelta(days=9), description="oldest")
    older_overdue = make_issue(pothole, requested_at=now - timedelta(days=20), description="late")
    client.force_login(sam)
    # Potholes are due in 72 hours: the 9- and 20-day-old ones are overdue, newest first.
    rows = list(client.get(changelist_url()).context["cl"].result_list)
    assert [i.pk for i in rows] == [oldest_open.pk, older_overdue.pk, newer_open.pk]
    everything = client.get(changelist_url(), {"status": "all"}).context["cl"].result_list
    assert [i.pk for i in everything] == [
        oldest_open.pk,
        older_overdue.pk,
        newer_open.pk,
        old_closed.pk,
    ]


def _seed_queue(n, *, pothole, sam, sam2, wards):
    """n issues with every column filled, differently: assignees, wards, statuses, ages."""
    with events.suppressed():
        for k in range(n):
            issue = make_issue(
                pothole,
                point=WARD_2_POINT if k % 2 else (41.88365, -87.63201),
                requested_at=timezone.now() - timedelta(hours=40 * k),
                reporter_email=f"r{k}@example.net",
            )
            # Everyone assigned: an empty column skips its prefetch query, and this test is
            # about rows, not about which columns happen to be empty.
            services.assign_issue(issue=issue, assignee=sam if k % 3 else sam2, by=sam)
            if k % 4 == 0:
                services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=sam)


QUEUE_VIEWS = [
    "",
    "?status=open&assigned=me",
    "?overdue=yes&ward=42",
    "?q=LaSalle",
    "?triage=yes",
]


def test_queue_query_count_does_not_grow_with_rows(client, sam, sam2, pothole, wards):
    client.force_login(sam)
    counts = {}
    for total in (3, 40):
        Issue.objects.all().delete()
        _seed_queue(total, pothole=pothole, sam=sam, sam2=sam2, wards=wards)
        for query in QUEUE_VIEWS:
            client.get(changelist_url() + query)  # same warm session and caches for both sizes
            with CaptureQueriesContext(connection) as queries:
                response = client.get(changelist_url() + query)
            assert response.status_code == 200
            counts.setdefault(query, []).append(len(queries))
    assert all(small == large for small, large in counts.values()), counts


def test_queue_has_a_fixed_number_of_queries(
    client, sam, sam2, pothole, wards, django_assert_num_queries
):
    _seed_queue(50, pothole=pothole, sam=sam, sam2=sam2, wards=wards)
    client.force_login(sam)
    with django_assert_num_queries(15):
        response = client.get(changelist_url())
    assert len(response.context["cl"].result_list) == 50


# --- filters -----------------------------------------------------------------------------


@pytest.fixture
def spread(pothole, sam, sam2, wards, streets):
    """One issue per filter value."""
    other_type = make_service_type(streets, code="graffiti", name="Graffiti Removal", sla_hours=24)
    mine = make_issue(pothole, description="mine")
    services.assign_issue(issue=mine, assignee=sam, by=sam)
    theirs = make_issue(pothole, description="theirs", point=WARD_2_POINT)
    services.assign_issue(issue=theirs, assignee=sam2, by=sam)
    unassigned_closed = make_issue(other_type, description="closed one")
    services.change_status(issue=unassigned_closed, to=Status.CLOSED, by=sam)
    overdue = make_issue(
        pothole, description="late", requested_at=timezone.now() - timedelta(hours=73)
    )
    triage = make_issue(pothole, description="lost", point=NO_WARD_POINT, source=Source.OPEN311)
    return {
        "mine": mine,
        "theirs": theirs,
        "closed": unassigned_closed,
        "overdue": overdue,
        "triage": triage,
        "graffiti": other_type,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, {"mine", "theirs", "overdue", "triage"}),
        ({"status": "closed"}, {"closed"}),
        ({"assigned": "me"}, {"mine"}),
        ({"assigned": "none"}, {"overdue", "triage"}),
        ({"assigned": "none", "status": "all"}, {"closed", "overdue", "triage"}),
        ({"overdue": "yes"}, {"overdue"}),
        ({"ward": "2"}, {"theirs"}),
        ({"ward": "none"}, {"triage"}),
        ({"triage": "yes"}, {"triage"}),
        ({"q": "late"}, {"overdue"}),
    ],
)
def test_queue_filters(client, sam, spread, params, expected):
    client.force_login(sam)
    response = client.get(changelist_url(), params)
    assert response.status_code == 200
    assert shown_ids(response) == {spread[k].public_id for k in expected}


def test_type_filter(client, sam, spread):
    client.force_login(sam)
    response = client.get(changelist_url(), {"type": spread["graffiti"].pk})
    assert shown_ids(response) == set()  # its one issue is closed: the queue opens on open ones
    response = client.get(changelist_url(), {"type": spread["graffiti"].pk, "status": "all"})
    assert shown_ids(response) == {spread["closed"].public_id}


def test_search_by_id_as_people_type_it(client, sam, spread):
    client.force_login(sam)
    public_id = spread["mine"].public_id
    typed = public_id.replace("-", " ").lower()
    assert shown_ids(client.get(changelist_url(), {"q": typed})) == {public_id}


@pytest.mark.parametrize("params", [{"ward": "north"}, {"department": "x"}, {"type": "1;drop"}])
def test_bad_filter_values_never_500(client, sam, spread, params):
    client.force_login(sam)
    response = client.get(changelist_url(), params)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert "e=1" in response["Location"]


# --- SLA and time zones --------------------------------------------------------------------


def test_due_time_is_elapsed_hours_across_the_spring_dst_change(pothole, wards):
    """48 hours after noon on Saturday 7 March 2026 (CST) is 13:00 on Monday 9 March (CDT): the
    clocks went forward, the promise did not shrink."""
    service_type = make_service_type(pothole.department, sla_hours=48)
    issue = make_issue(service_type, requested_at=chicago(2026, 3, 7, 12, 0))
    assert issue.expected_at - issue.requested_at == timedelta(hours=48)
    local_due = timezone.localtime(issue.expected_at, CHICAGO)
    assert (local_due.day, local_due.hour) == (9, 13)


def test_due_time_across_the_autumn_dst_change(pothole, wards):
    service_type = make_service_type(pothole.department, sla_hours=24)
    issue = make_issue(service_type, requested_at=chicago(2026, 10, 31, 12, 0))
    local_due = timezone.localtime(issue.expected_at, CHICAGO)
    assert (local_due.day, local_due.hour) == (1, 11)


def test_queue_shows_due_in_city_time_and_marks_overdue(client, sam, pothole, wards):
    service_type = make_service_type(pothole.department, sla_hours=48)
    make_issue(service_type, requested_at=chicago(2026, 3, 7, 12, 0))
    client.force_login(sam)
    page = client.get(changelist_url()).content.decode()
    assert "03/09/2026 1 p.m." in page
    assert "cf-overdue" in page


def test_overdue_is_decided_at_the_instant_not_the_local_date(client, sam, pothole, wards):
    just_late = make_issue(pothole, requested_at=timezone.now() - timedelta(hours=72, minutes=1))
    just_in_time = make_issue(
        pothole, requested_at=timezone.now() - timedelta(hours=71, minutes=59)
    )
    client.force_login(sam)
    overdue = shown_ids(client.get(changelist_url(), {"overdue": "yes"}))
    assert just_late.public_id in overdue
    assert just_in_time.public_id not in overdue


def test_closed_issues_are_never_overdue(client, sam, pothole, wards):
    late = make_issue(pothole, requested_at=timezone.now() - timedelta(days=10))
    services.change_status(issue=late, to=Status.CLOSED, by=sam)
    client.force_login(sam)
    assert shown_ids(client.get(changelist_url(), {"overdue": "yes"})) == set()


def test_opened_date_filter_uses_the_city_day(client, sam, pothole, wards):
    """23:30 in Chicago on 1 November is already 2 November in UTC; the city calls it the 1st."""
    late_evening = make_issue(pothole, requested_at=chicago(2026, 11, 1, 23, 30))
    next_morning = make_issue(pothole, requested_at=chicago(2026, 11, 2, 0, 30))
    client.force_login(sam)
    response = client.get(
        changelist_url(),
        {
            "requested_at__gte": "2026-11-01 00:00:00-05:00",
            "requested_at__lt": "2026-11-02 00:00:00-06:00",
        },
    )
    assert shown_ids(response) == {late_evening.public_id}
    assert next_morning.public_id not in shown_ids(response)


def post_service_type_form(client, service_type, *, sla_hours: str):
    """The admin's service type form as a person submits it, with a new SLA."""
    return client.post(
        f"/admin/departments/servicetype/{service_type.pk}/change/",
        {
            "service_code": service_type.service_code,
            "name": service_type.name,
            "description": "",
            "group": service_type.group,
            "keywords": "",
            "department": service_type.department_id,
            "active": "on",
            "sla_hours": sla_hours,
            "service_notice": "",
            "publication": "public",
            "hotspot_min_reports": 5,
            "hotspot_radius_m": 150,
            "attributes-TOTAL_FORMS": 0,
            "attributes-INITIAL_FORMS": 0,
        },
    )


def test_editing_sla_hours_moves_open_issues_only(client, boss, sam, pothole, wards):
    open_issue = make_issue(pothole)
    closed_issue = make_issue(pothole)
    services.change_status(issue=closed_issue, to=Status.CLOSED, by=sam)
    closed_due = Issue.objects.get(pk=closed_issue.pk).expected_at
    client.force_login(boss)
    response = post_service_type_form(client, pothole, sla_hours="24")
    assert response.status_code == 302, response.content.decode()[:2000]
    open_issue.refresh_from_db()
    assert open_issue.expected_at == open_issue.requested_at + timedelta(hours=24)
    assert Issue.objects.get(pk=closed_issue.pk).expected_at == closed_due


def test_removing_the_sla_clears_open_issues_due_time(pothole, wards):
    issue = make_issue(pothole)
    assert services.set_sla_hours(service_type=pothole, hours=None) == 1
    issue.refresh_from_db()
    assert issue.expected_at is None


def test_zero_sla_hours_is_a_form_error_and_changes_nothing(client, boss, pothole, wards):
    before = pothole.sla_hours
    client.force_login(boss)
    response = post_service_type_form(client, pothole, sla_hours="0")
    assert response.status_code == 200
    assert "above zero" in response.content.decode()
    pothole.refresh_from_db()
    assert pothole.sla_hours == before
