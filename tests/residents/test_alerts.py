"""Alerts around a place: matching by radius and type, confirmation for address-only alerts,
unsubscribing from each, managing them on the profile."""

import random
import re

import pytest
from django.core import mail
from django.urls import reverse

from departments.geo import distance_m
from issues import services
from issues.models import AreaAlert, EmailOptOut, NotificationEvent, Status
from issues.notify import areas, delivery, events, links, subscriptions
from issues.services import alerts as alert_services
from tests.factories import CITY_HALL, make_issue, make_service_type, make_user

pytestmark = pytest.mark.django_db

# About 300 m north of City Hall, and about 1.1 km north.
NEAR = (CITY_HALL[0] + 0.0027, CITY_HALL[1])
FAR = (CITY_HALL[0] + 0.01, CITY_HALL[1])


def covering(*point, **kwargs) -> list[int]:
    return [match.pk for match in areas.alerts_covering(*point, **kwargs)]


def alert_for(user=None, email="", point=CITY_HALL, radius=500, **extra) -> AreaAlert:
    return alert_services.create_alert(
        latitude=point[0], longitude=point[1], radius_m=radius, user=user, email=email, **extra
    )


def test_point_inside_the_radius_matches_and_outside_does_not(resident):
    alert = alert_for(user=resident, radius=500)
    assert 250 < distance_m(*CITY_HALL, *NEAR) < 350
    assert covering(*NEAR) == [alert.pk]
    assert covering(*FAR) == []


def test_box_corner_outside_the_circle_does_not_match(resident):
    alert_for(user=resident, radius=500)
    # Inside the bounding box (450 m north and 450 m east) but 636 m away.
    corner = (CITY_HALL[0] + 0.00405, CITY_HALL[1] + 0.00543)
    assert areas.candidates(*corner).count() == 1
    assert covering(*corner) == []


def test_large_radius_reaches_far(resident):
    alert = alert_for(user=resident, radius=5000)
    assert covering(*FAR) == [alert.pk]


def test_types_restrict_the_alert(resident, service_type):
    other = make_service_type(service_type.department)
    alert = alert_for(user=resident, service_types=[service_type])
    assert covering(*NEAR, service_type_id=service_type.pk) == [alert.pk]
    assert covering(*NEAR, service_type_id=other.pk) == []
    both = alert_for(user=resident, service_types=[service_type, other], point=NEAR)
    assert covering(*NEAR, service_type_id=other.pk) == [both.pk]  # once, not once per type


@pytest.mark.parametrize("radius", [199, 5001, 0])
def test_radius_out_of_range_is_refused(resident, radius):
    with pytest.raises(Exception, match="between 200 m and 5000 m"):
        alert_for(user=resident, radius=radius)


def test_new_report_in_the_area_emails_the_alert_owner(service_type, deliver):
    watcher = make_user("street@example.org")
    alert_for(user=watcher)
    _, sent = deliver(make_issue, service_type, point=NEAR)
    to_watcher = [m for m in sent if m.to == ["street@example.org"]]
    assert len(to_watcher) == 1
    assert "your alert area" in to_watcher[0].subject
    assert "Stop this alert" in to_watcher[0].body


def test_new_report_outside_the_area_emails_nobody_about_it(service_type, deliver):
    alert_for(user=make_user("street@example.org"))
    _, sent = deliver(make_issue, service_type, point=FAR)
    assert all(m.to != ["street@example.org"] for m in sent)


def test_hidden_report_alerts_nobody(service_type):
    alert_for(user=make_user("street@example.org"))
    with events.suppressed():
        issue = make_issue(service_type, point=NEAR)
    issue.is_hidden = True
    assert areas.instant_recipients(issue) == []


def test_two_overlapping_alerts_send_one_email(service_type, deliver):
    watcher = make_user("street@example.org")
    alert_for(user=watcher, radius=500)
    alert_for(user=watcher, radius=2000)
    _, sent = deliver(make_issue, service_type, point=NEAR)
    assert len([m for m in sent if m.to == ["street@example.org"]]) == 1


def test_updates_only_reach_alerts_that_asked_for_them(service_type, staff_user, deliver):
    alert_for(user=make_user("news@example.org"), include_updates=True)
    alert_for(user=make_user("quiet@example.org"))
    with events.suppressed():
        issue = make_issue(service_type, point=NEAR)
    _, sent = deliver(
        services.change_status, issue=issue, to=Status.CLOSED, by=staff_user, message="Filled"
    )
    assert [m.to for m in sent if "alert area" in m.subject] == [["news@example.org"]]
    assert "Filled" in next(m for m in sent if m.to == ["news@example.org"]).body


def test_daily_alert_gets_no_instant_email(service_type, deliver):
    alert_for(user=make_user("daily@example.org"), frequency="daily")
    _, sent = deliver(make_issue, service_type, point=NEAR)
    assert all(m.to != ["daily@example.org"] for m in sent)


# Address-only alerts need a confirmation ----------------------------------------------------------


def test_anonymous_alert_sends_only_a_confirmation_until_confirmed(client, service_type, deliver):
    def ask():
        return client.post(
            reverse("issues:alert_new"),
            {
                "latitude": CITY_HALL[0],
                "longitude": CITY_HALL[1],
                "radius_m": 500,
                "frequency": "instant",
                "email": "Anon@Example.org",
            },
        )

    response, sent = deliver(ask)
    assert response.status_code == 200 and "Check your email" in response.text
    assert [m.to for m in sent] == [["anon@example.org"]]
    confirm_path = re.search(r"https?://[^/\s]+(/alerts/confirm/\S+/)", sent[0].body).group(1)

    _, sent = deliver(make_issue, service_type, point=NEAR)
    assert all(m.to != ["anon@example.org"] for m in sent)  # not confirmed: nothing

    page = client.get(confirm_path)  # a mail scanner's GET confirms nothing
    assert page.status_code == 200 and AreaAlert.objects.get().confirmed_at is None
    assert client.post(confirm_path).status_code == 200
    assert AreaAlert.objects.get().confirmed_at is not None

    _, sent = deliver(make_issue, service_type, point=NEAR)
    assert [m.to for m in sent if "alert area" in m.subject] == [["anon@example.org"]]


def test_forged_confirmation_link_is_refused(client):
    response = client.get(reverse("issues:alert_confirm", kwargs={"token": "nope"}))
    assert response.status_code == 400 and "damaged" in response.text


def test_anonymous_alert_needs_an_email(client):
    response = client.post(
        reverse("issues:alert_new"),
        {"latitude": 41.88, "longitude": -87.63, "radius_m": 500, "frequency": "instant"},
    )
    assert response.status_code == 400
    assert AreaAlert.objects.count() == 0


def test_radius_outside_the_choices_is_a_clear_400(client, resident):
    client.force_login(resident)
    response = client.post(
        reverse("issues:alert_new"),
        {"latitude": 41.88, "longitude": -87.63, "radius_m": 9000, "frequency": "instant"},
    )
    assert response.status_code == 400 and "9000" in response.text
    assert AreaAlert.objects.count() == 0


def test_opted_out_address_gets_no_confirmation(deliver):
    EmailOptOut.objects.create(email="gone@example.org")
    _, sent = deliver(alert_for, email="gone@example.org")
    assert sent == []


# Unsubscribe and the profile ---------------------------------------------------------------------


def test_unsubscribe_link_stops_that_alert_only_and_undo_restarts_it(client, service_type):
    watcher = make_user("street@example.org")
    first = alert_for(user=watcher)
    second = alert_for(user=watcher, point=FAR)
    token = links.unsubscribe_token(email=watcher.email, scope="alert", target_id=first.pk)
    response = client.post(reverse("notify:unsubscribe", kwargs={"token": token}))
    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.active, second.active) == (False, True)
    assert covering(*CITY_HALL) == []
    client.post(reverse("notify:resubscribe", kwargs={"token": token}))
    assert covering(*CITY_HALL) == [first.pk]


def test_unsubscribe_for_someone_elses_alert_changes_nothing(resident):
    alert = alert_for(user=resident)
    assert (
        subscriptions.unsubscribe(email="other@example.org", scope="alert", target_id=alert.pk) == 0
    )


def test_signed_in_user_creates_and_deletes_alerts_on_the_profile(client, resident, service_type):
    client.force_login(resident)
    response = client.post(
        reverse("issues:alert_new"),
        {
            "latitude": CITY_HALL[0],
            "longitude": CITY_HALL[1],
            "radius_m": 1000,
            "frequency": "weekly",
            "label": "My street",
            "service_types": [service_type.service_code],
        },
    )
    assert response.status_code == 302
    alert = AreaAlert.objects.get()
    assert alert.user == resident and alert.confirmed_at is not None
    assert list(alert.service_types.all()) == [service_type]
    profile = client.get(reverse("issues:profile"))
    assert "My street" in profile.text and "A weekly summary" in profile.text
    assert client.post(reverse("issues:alert_delete", args=[alert.pk])).status_code == 302
    assert AreaAlert.objects.count() == 0


def test_nobody_deletes_someone_elses_alert(client, resident):
    alert = alert_for(user=make_user())
    client.force_login(resident)
    assert client.post(reverse("issues:alert_delete", args=[alert.pk])).status_code == 404
    assert AreaAlert.objects.filter(pk=alert.pk).exists()


def test_alert_email_is_an_outbox_row(service_type, deliver):
    alert_for(user=make_user("street@example.org"))
    issue, _ = deliver(make_issue, service_type, point=NEAR)
    assert issue.notifications.filter(
        event=NotificationEvent.AREA_ALERT, recipient_email="street@example.org"
    ).exists()
    assert mail.outbox


def test_indexed_match_agrees_with_measuring_every_alert(resident):
    """The corner-box query never misses an alert the exact distance would find."""
    rng = random.Random(17)
    alerts = [
        alert_for(
            user=resident,
            point=(CITY_HALL[0] + rng.uniform(-0.08, 0.08), CITY_HALL[1] + rng.uniform(-0.1, 0.1)),
            radius=rng.choice([200, 500, 1000, 2000, 5000]),
        )
        for i in range(20)
    ]
    AreaAlert.objects.update(confirmed_at="2026-01-01T00:00:00Z")
    for _ in range(200):
        point = (CITY_HALL[0] + rng.uniform(-0.1, 0.1), CITY_HALL[1] + rng.uniform(-0.12, 0.12))
        expected = {
            a.pk for a in alerts if distance_m(a.latitude, a.longitude, *point) <= a.radius_m
        }
        assert set(covering(*point)) == expected


def test_alert_page_prefills_the_pin_from_an_issue_page_link(client, service_type):
    response = client.get(reverse("issues:alert_new") + "?lat=41.88&lon=-87.63&radius=1000")
    assert response.status_code == 200
    assert 'value="41.88"' in response.text and 'value="-87.63"' in response.text
    assert 'id="id_email"' in response.text  # not signed in: an address is asked for
    assert "js/alert-map.js" in response.text and "<script>" not in response.text


def test_queued_alert_email_is_withdrawn_after_unsubscribing(client, service_type):
    watcher = make_user("street@example.org")
    alert = alert_for(user=watcher)
    issue = make_issue(service_type, point=NEAR)  # rows written; no commit, so not sent yet
    row = issue.notifications.get(event=NotificationEvent.AREA_ALERT)
    token = links.unsubscribe_token(email=watcher.email, scope="alert", target_id=alert.pk)
    client.post(reverse("notify:unsubscribe", kwargs={"token": token}))
    before = len(mail.outbox)
    assert delivery.deliver(row.pk) == "withdrawn"
    row.refresh_from_db()
    assert len(mail.outbox) == before and "stopped" in row.last_error


@pytest.mark.parametrize(
    "query", ["lat=nan&lon=inf", "lat=1e400&lon=-1e400", "lat=95&lon=-87.6", "lat=41.8&lon=x"]
)
def test_alert_page_drops_a_pin_that_could_not_be_a_place(client, query):
    """The map's JSON would carry NaN or Infinity and stop the page's script."""
    response = client.get(reverse("issues:alert_new") + "?" + query)
    assert response.status_code == 200
    assert b"NaN" not in response.content and b"Infinity" not in response.content
    assert b'"pin": null' in response.content or b'"pin":null' in response.content
