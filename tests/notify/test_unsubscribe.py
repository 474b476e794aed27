"""One-click unsubscribe without signing in: a GET only asks, the RFC 8058 POST unsubscribes."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from issues import services
from issues.models import EmailOptOut, Status, Subscription
from issues.notify import events, links, subscriptions
from tests.factories import make_department, make_user

pytestmark = pytest.mark.django_db

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def link(email: str, scope: str, target_id=None) -> str:
    token = links.unsubscribe_token(email=email, scope=scope, target_id=target_id)
    return reverse("notify:unsubscribe", kwargs={"token": token})


@pytest.fixture
def mail_client():
    """A mail client's POST: no cookies, no CSRF token, and CSRF checks on as in production."""
    return Client(enforce_csrf_checks=True)


def test_get_only_shows_a_confirmation_and_unsubscribes_nobody(client, issue, resident):
    response = client.get(link(resident.email, "issue", issue.pk))
    assert response.status_code == 200
    assert issue.public_id in response.text
    assert "<form" in response.text and 'name="List-Unsubscribe"' in response.text
    assert Subscription.objects.filter(issue=issue, user=resident).exists()


def test_one_click_post_from_a_mail_client_unsubscribes_from_the_issue(
    mail_client, issue, resident
):
    response = mail_client.post(link(resident.email, "issue", issue.pk), ONE_CLICK)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    assert not Subscription.objects.filter(issue=issue, user=resident).exists()
    # Doing it again (a second click, a retrying mail client) is fine.
    assert mail_client.post(link(resident.email, "issue", issue.pk), ONE_CLICK).status_code == 200


def test_unsubscribed_reporter_gets_no_more_updates(
    mail_client, issue, resident, staff_user, deliver
):
    mail_client.post(link(resident.email, "issue", issue.pk), ONE_CLICK)
    _, sent = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)
    assert sent == []


def test_ward_link_stops_watching_that_ward_only(mail_client, wards):
    subscriptions.watch_ward(ward=wards[42], email="watcher@example.org")
    subscriptions.watch_ward(ward=wards[1], email="watcher@example.org")
    mail_client.post(link("watcher@example.org", "ward", wards[42].pk), ONE_CLICK)
    assert list(Subscription.objects.values_list("ward__number", flat=True)) == [1]


def test_everything_link_records_an_opt_out_and_undo_removes_it(mail_client, resident):
    url = link("Resident@Example.org", "all")
    mail_client.post(url, ONE_CLICK)
    assert EmailOptOut.objects.filter(email="resident@example.org").exists()
    response = mail_client.post(url.rstrip("/") + "/undo/")
    assert response.status_code == 200
    assert not EmailOptOut.objects.exists()


def test_undo_follows_the_issue_again(mail_client, issue, resident):
    url = link(resident.email, "issue", issue.pk)
    mail_client.post(url, ONE_CLICK)
    mail_client.post(url.rstrip("/") + "/undo/")
    assert Subscription.objects.filter(issue=issue, user=resident).exists()


def test_digest_link_turns_the_aldermans_digest_off(mail_client):
    alderman = make_user("ald@city.example")
    mail_client.post(link(alderman.email, "digest"), ONE_CLICK)
    assert not User.objects.get(pk=alderman.pk).notify_ward_digest


def test_department_link_only_works_for_its_contact_address(mail_client):
    department = make_department(contact_email="streets@city.example")
    mail_client.post(link("someone.else@example.org", "department", department.pk), ONE_CLICK)
    department.refresh_from_db()
    assert department.notify_new_issues
    mail_client.post(link("streets@city.example", "department", department.pk), ONE_CLICK)
    department.refresh_from_db()
    assert not department.notify_new_issues


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_damaged_or_forged_link_gets_a_clear_400(mail_client, resident, method):
    good = link(resident.email, "all")
    forged = good.replace("/unsubscribe/", "/unsubscribe/x")
    for url in (forged, "/unsubscribe/not-a-token/"):
        response = getattr(mail_client, method)(url, ONE_CLICK if method == "post" else None)
        assert response.status_code == 400
        assert "damaged" in response.text
    assert not EmailOptOut.objects.exists()


def test_a_token_for_another_purpose_is_refused(mail_client, resident):
    from django.core import signing

    token = signing.dumps({"e": resident.email, "s": "all", "t": None}, salt="something.else")
    response = mail_client.post(f"/unsubscribe/{token}/", ONE_CLICK)
    assert response.status_code == 400


def test_pages_never_show_other_peoples_details(client, anonymous_issue_with_secrets):
    issue = anonymous_issue_with_secrets
    response = client.get(link("someone@example.org", "issue", issue.pk))
    assert "secret-reporter" not in response.text and "Hidden Name" not in response.text


@pytest.fixture
def anonymous_issue_with_secrets(service_type, wards):
    from tests.factories import make_issue

    with events.suppressed():
        return make_issue(
            service_type, reporter_email="secret-reporter@example.org", reporter_name="Hidden Name"
        )
