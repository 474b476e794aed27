"""Hotspot alerts: found once, not re-alerted (also when the cluster grows), told to the
department and the ward's aldermen through the outbox, and listed on the ward's dashboard."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from issues import geo, services
from issues.models import EmailOptOut, HotspotAlert, Notification, NotificationEvent
from issues.notify import hotspots, subscriptions
from issues.tasks import detect_hotspots
from tests.dashboards.conftest import points_in
from tests.factories import make_issue, make_service_type, make_user


def offset(point, north_m: float, east_m: float):
    lat, lon = point
    return (
        lat + north_m / 111_320.0,
        lon + east_m / (111_320.0 * math.cos(math.radians(lat))),
    )


@pytest.fixture
def syringe(department):
    return make_service_type(
        department,
        code="found-syringe",
        name="Found Syringe",
        hotspot_min_reports=3,
        hotspot_radius_m=150,
    )


@pytest.fixture
def ward_and_spot(some_wards):
    ward = some_wards[0]
    return ward, points_in(ward, 1)[0]


@pytest.fixture
def alderman(ward_and_spot):
    user = make_user("alderman@city.example", notify_ward_digest=True)
    ward_and_spot[0].aldermen.add(user)
    return user


def report(service_type, point, days_ago: float = 1):
    return make_issue(
        service_type, point=point, requested_at=timezone.now() - timedelta(days=days_ago)
    )


def hotspot_rows():
    return Notification.objects.filter(event=NotificationEvent.HOTSPOT)


def test_cluster_is_found_once_and_alerted_to_department_and_aldermen(
    syringe, ward_and_spot, alderman
):
    ward, spot = ward_and_spot
    watcher = make_user("neighbour@example.org")
    subscriptions.watch_ward(ward=ward, user=watcher)
    members = [report(syringe, offset(spot, dn, de)) for dn, de in [(0, 0), (40, 10), (-30, 50)]]
    report(syringe, offset(spot, 2000, 0))  # far away: not part of it

    alerts = hotspots.detect_and_alert()

    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.ward == ward
    assert alert.report_count == 3
    assert sorted(alert.issue_ids) == sorted(i.pk for i in members)
    assert geo.distance_m(alert.latitude, alert.longitude, *spot) < 150
    rows = hotspot_rows()
    assert sorted(r.recipient_email for r in rows) == sorted(
        [syringe.department.contact_email, alderman.email]
    )
    assert all(r.ward_id == ward.pk for r in rows)
    body = rows.first().body_text
    assert "3 reports" in body and "Found Syringe" in body
    assert f"/wards/{ward.slug}/" in body


def test_same_cluster_is_not_alerted_again_even_when_it_grows(syringe, ward_and_spot, alderman):
    _ward, spot = ward_and_spot
    for dn in (0, 30, 60):
        report(syringe, offset(spot, dn, 0))
    assert len(hotspots.detect_and_alert()) == 1
    sent = hotspot_rows().count()

    assert hotspots.detect_and_alert() == []
    # It grows, and the newest report moves its densest point: still the same hotspot.
    for dn in (90, 120, 150):
        report(syringe, offset(spot, dn, 0), days_ago=0.1)
    assert hotspots.detect_and_alert() == []
    assert hotspot_rows().count() == sent
    alert = HotspotAlert.objects.get()
    assert alert.report_count == 6


def test_hidden_and_old_reports_do_not_make_a_hotspot(syringe, ward_and_spot, staff_user):
    _ward, spot = ward_and_spot
    report(syringe, spot)
    report(syringe, offset(spot, 20, 0))
    hidden = report(syringe, offset(spot, 0, 20))
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="Duplicate")
    report(syringe, offset(spot, 10, 10), days_ago=8)
    assert hotspots.detect_and_alert() == []
    assert not hotspot_rows().exists()


def test_reports_further_apart_than_the_radius_are_no_cluster(syringe, ward_and_spot):
    _ward, spot = ward_and_spot
    for k in range(4):
        report(syringe, offset(spot, k * 200, 0))
    assert hotspots.detect_and_alert() == []


def test_thresholds_are_per_type_and_two_places_make_two_alerts(department, some_wards):
    ward = some_wards[0]
    a, b = points_in(ward, 2, spacing=0.02)
    potholes = make_service_type(department, code="pothole", hotspot_min_reports=5)
    for k in range(4):
        report(potholes, offset(a, k * 10, 0))
        report(potholes, offset(b, k * 10, 0))
    assert hotspots.detect_and_alert() == []  # 4 < 5
    report(potholes, offset(a, 45, 0))
    report(potholes, offset(b, 45, 0))
    alerts = hotspots.detect_and_alert()
    assert len(alerts) == 2
    assert len({al.key for al in alerts}) == 2


def test_opted_out_and_unwilling_recipients_are_skipped(syringe, ward_and_spot, alderman):
    ward, spot = ward_and_spot
    EmailOptOut.objects.create(email=syringe.department.contact_email)
    quiet = make_user("quiet-alderman@city.example", notify_ward_digest=False)
    ward.aldermen.add(quiet)
    for dn in (0, 20, 40):
        report(syringe, offset(spot, dn, 0))
    hotspots.detect_and_alert()
    assert [r.recipient_email for r in hotspot_rows()] == [alderman.email]


def test_the_nightly_task_runs_detection(syringe, ward_and_spot):
    _ward, spot = ward_and_spot
    for dn in (0, 20, 40):
        report(syringe, offset(spot, dn, 0))
    assert detect_hotspots.delay().get() == 1
    assert detect_hotspots.delay().get() == 0


def test_alert_is_listed_on_the_ward_dashboard_with_its_reports(client, syringe, ward_and_spot):
    ward, spot = ward_and_spot
    for dn in (0, 20, 40):
        report(syringe, offset(spot, dn, 0))
    (alert,) = hotspots.detect_and_alert()
    response = client.get(f"/wards/{ward.slug}/")
    listed = response.context["alerts"]
    assert [a["alert"].pk for a in listed] == [alert.pk]
    from tests.dashboards.test_ward_dashboard import count_behind

    assert count_behind(listed[0]["figure"].list_url) == 3
    assert "Found Syringe" in response.content.decode()


def test_candidates_are_narrowed_in_the_database(syringe, ward_and_spot, some_wards):
    """Only reports in dense grid neighbourhoods reach Python."""
    _ward, spot = ward_and_spot
    for dn in (0, 20, 40):
        report(syringe, offset(spot, dn, 0))
    lonely = points_in(some_wards[3], 1)[0]
    report(syringe, lonely)
    now = timezone.now()
    points = hotspots.candidate_points(
        service_type=syringe, since=now - timedelta(days=7), until=now
    )
    assert len(points) == 3


def test_alert_email_carries_no_reporter_details(syringe, ward_and_spot, alderman):
    _ward, spot = ward_and_spot
    for k, dn in enumerate((0, 20, 40)):
        make_issue(
            syringe,
            point=offset(spot, dn, 0),
            reporter_email=f"private{k}@example.net",
            reporter_phone=f"312-555-010{k}",
            reporter_name=f"Private Person {k}",
        )
    hotspots.detect_and_alert()
    rows = list(hotspot_rows())
    assert rows
    for row in rows:
        for text in (row.subject, row.body_text, row.body_html):
            assert "@example.net" not in text
            assert "312-555" not in text
            assert "Private Person" not in text
        assert row.unsubscribe_url


def test_a_zero_radius_is_treated_as_a_small_one(department, ward_and_spot):
    _ward, spot = ward_and_spot
    tight = make_service_type(department, code="tight", hotspot_min_reports=2, hotspot_radius_m=0)
    report(tight, spot)
    report(tight, offset(spot, 3, 0))
    (alert,) = hotspots.detect_and_alert()
    assert alert.radius_m == hotspots.MIN_RADIUS_M
