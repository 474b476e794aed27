"""Private and held types, and banned senders: their reports are stored and worked by staff,
and kept out of every public output (pages, map, feeds, CSV/GeoJSON, Open311, embeds, the
dashboards' figures, email to others) until a moderator releases them. Private ones never are."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse

from departments.models import Department, UpstreamEndpoint
from issues import services
from issues.dashboards import recount
from issues.models import Ban, Issue, Notification, StatusTally, Subscription, UpstreamSend
from tests.factories import make_issue, make_staff, make_user

pytestmark = pytest.mark.django_db

SECRET = "SECRET-WORDS-NOBODY-ELSE-SEES"


def public_outputs(client, issue, ward) -> dict[str, str]:
    """Every public door that lists or shows reports, as text."""
    urls = {
        "list": reverse("issues:home"),
        "page": issue.get_absolute_url(),
        "map": reverse("issues:viewport") + "?bbox=-180,-90,180,90",
        "csv": reverse("opendata:issues_csv"),
        "geojson": reverse("opendata:issues_geojson"),
        "feed": reverse("opendata:feed_new"),
        "feed_updated": reverse("opendata:feed_updated"),
        "embed": reverse("opendata:embed"),
        "open311": "/open311/v2/requests.json",
        "open311_one": f"/open311/v2/requests/{issue.public_id}.json",
        "ward": reverse("wards:detail", kwargs={"slug": ward.slug}),
        "ward_map": reverse("wards:open_issues", kwargs={"slug": ward.slug}),
        "league": reverse("wards:index"),
        "ward_feed": reverse("opendata:ward_feed_new", kwargs={"ward": ward.number}),
        "type_feed": reverse(
            "opendata:type_feed_new", kwargs={"service_code": issue.service_type.service_code}
        ),
        "open311_by_type": "/open311/v2/requests.json?service_code="
        + issue.service_type.service_code,
    }
    return {name: client.get(url) for name, url in urls.items()}


def text_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def watcher(ward):
    person = make_user("watcher@example.org")
    Subscription.objects.create(user=person, ward=ward)
    return person


@pytest.mark.parametrize("kind", ["private", "held", "banned"])
def test_withheld_reports_are_in_no_public_output(
    client, kind, person_at_risk, graffiti_held, pothole, ward, deliver, watcher
):
    service_type = {"private": person_at_risk, "held": graffiti_held, "banned": pothole}[kind]
    if kind == "banned":
        Ban.objects.create(email="spammer@example.org", reason="abuse")
    issue, sent = deliver(
        make_issue,
        service_type,
        description=SECRET,
        reporter_email="spammer@example.org",
        address="1 Secret St",
    )
    issue.refresh_from_db()
    assert issue.is_hidden and issue.withheld == kind
    # A public report next to it, so each output is seen to list reports at all.
    control = make_issue(pothole, description="An ordinary pothole", address="2 Main St")
    control_seen = {
        name
        for name, r in public_outputs(client, control, ward).items()
        if control.public_id in text_of(r)
    }
    assert {"csv", "geojson", "feed", "open311", "open311_one", "page", "list"} <= control_seen
    for name, response in public_outputs(client, issue, ward).items():
        body = text_of(response)
        assert SECRET not in body, name
        if name in ("page", "open311_one"):
            assert response.status_code == 404, name  # the not-found page repeats the id
        else:
            assert issue.public_id not in body, name
    # Nobody but the reporter and the department's own inbox hears of it: no ward watcher.
    assert {m.to[0] for m in sent} <= {"spammer@example.org", issue.department.contact_email}
    assert not Notification.objects.filter(
        recipient_email="watcher@example.org", issue=issue
    ).exists()
    # ... who does hear of a public one (the control).
    assert Notification.objects.filter(
        recipient_email="watcher@example.org", issue=control
    ).exists()


def test_a_released_held_report_becomes_public(client, graffiti_held, ward, department):
    issue = make_issue(graffiti_held, description=SECRET)
    assert SECRET not in text_of(client.get(reverse("opendata:issues_csv")))
    staff = make_staff(department)
    assert services.release_issues(issues=[issue], by=staff, reason="fine") == 1
    issue.refresh_from_db()
    assert not issue.is_hidden and issue.withheld == ""
    assert SECRET in text_of(client.get(reverse("opendata:issues_csv")))
    assert client.get(issue.get_absolute_url()).status_code == 200
    assert issue.moderation_actions.filter(kind="release", by=staff).exists()


def test_a_private_report_is_never_released(person_at_risk, ward, department):
    issue = make_issue(person_at_risk, description=SECRET)
    staff = make_staff(department)
    assert services.release_issues(issues=[issue], by=staff) == 0
    with pytest.raises(ValidationError):
        services.set_hidden(target=issue, hidden=False, by=staff)
    issue.refresh_from_db()
    assert issue.is_hidden


def test_a_banned_account_is_not_sent_upstream_and_not_told(client, pothole, ward, department):
    department.upstream = UpstreamEndpoint.objects.create(
        name="City", base_url="https://city.example.org/open311/v2"
    )
    department.save()
    Department.objects.filter(pk=department.pk).update(upstream=department.upstream)
    banned = make_user("troll@example.org")
    Ban.objects.create(user=banned, reason="abuse")
    client.force_login(banned)
    response = client.post(
        reverse("issues:report"),
        {
            "service_code": "pothole",
            "latitude": "41.8837",
            "longitude": "-87.6324",
            "description": SECRET,
        },
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.withheld == "banned" and issue.is_hidden
    assert not UpstreamSend.objects.filter(issue=issue).exists()
    # Told what a held report's sender is told: nothing about a ban.
    page = client.get(response["Location"]).content.decode()
    assert "moderator" in page and "ban" not in page.lower()


def test_an_ordinary_report_still_goes_upstream(pothole, ward, department):
    department.upstream = UpstreamEndpoint.objects.create(
        name="City", base_url="https://city.example.org/open311/v2"
    )
    department.save()
    issue = make_issue(pothole)
    assert UpstreamSend.objects.filter(issue=issue).exists()


def test_the_dashboards_figures_count_no_withheld_report(
    person_at_risk, graffiti_held, pothole, ward, department
):
    make_issue(person_at_risk)
    held = make_issue(graffiti_held)
    assert StatusTally.objects.aggregate(n=Sum("n"))["n"] in (None, 0)
    make_issue(pothole)
    assert StatusTally.objects.aggregate(n=Sum("n"))["n"] == 1
    services.release_issues(issues=[held], by=make_staff(department))
    assert StatusTally.objects.aggregate(n=Sum("n"))["n"] == 2
    rebuilt_before = list(StatusTally.objects.values_list("ward_key", "type_key", "status", "n"))
    recount.rebuild()
    assert sorted(rebuilt_before) == sorted(
        StatusTally.objects.values_list("ward_key", "type_key", "status", "n")
    )


def test_an_account_banned_by_its_address_is_banned(pothole, ward):
    person = make_user("Troll@Example.org")
    Ban.objects.create(email="TROLL@example.org", reason="abuse")
    issue = make_issue(pothole, reporter=person)
    assert issue.withheld == "banned"


def test_a_banned_accounts_update_is_kept_hidden_and_nobody_is_told(client, pothole, ward, deliver):
    follower = make_user("follower@example.org")
    issue = make_issue(pothole, reporter=follower)
    troll = make_user("troll@example.org")
    Ban.objects.create(user=troll, reason="abuse")
    comment, sent = deliver(services.add_comment, issue=issue, author=troll, body=SECRET)
    assert comment.is_hidden
    assert sent == []
    assert SECRET not in client.get(issue.get_absolute_url()).content.decode()


def test_the_receipt_of_a_held_report_links_to_no_page_that_is_not_there(
    graffiti_held, ward, deliver
):
    issue, sent = deliver(make_issue, graffiti_held, reporter_email="rosa@example.org")
    receipt = next(m for m in sent if m.to == ["rosa@example.org"])
    assert issue.get_absolute_url() not in receipt.body
    assert "once a moderator has checked it" in receipt.body
