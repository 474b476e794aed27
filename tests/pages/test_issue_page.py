"""The issue page: timeline, privacy, votes, follows, comments; the tracker; the list."""

import pytest
from django.urls import reverse

from issues import services
from issues.models import Subscription, Vote
from issues.notify import subscriptions
from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(service_type):
    return make_issue(
        service_type,
        reporter_name="Pat Private",
        reporter_email="pat.private@example.net",
        reporter_phone="312-555-0199",
        description="Huge hole",
    )


def test_page_shows_public_timeline_in_order_and_nothing_private(
    client, issue, staff_user, resident
):
    services.change_status(issue=issue, to="acknowledged", by=staff_user, message="Crew booked.")
    services.add_comment(
        issue=issue, author=staff_user, body="Internal: ring the reporter", internal=True
    )
    public = services.add_comment(issue=issue, author=resident, body="Still there this morning")
    hidden = services.add_comment(issue=issue, author=resident, body="Rude words")
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="abuse")
    services.change_status(issue=issue, to="closed", by=staff_user, message="Filled today.")
    html = client.get(issue.get_absolute_url()).content.decode()
    order = [html.index(t) for t in ("Crew booked.", public.body, "Filled today.")]
    assert order == sorted(order)
    assert "Rosa commented" in html
    for secret in (
        "Internal: ring the reporter",
        "Rude words",
        "pat.private@example.net",
        "312-555-0199",
        staff_user.email,
        "Pat Private",  # an anonymous reporter's name is contact detail, like the email
    ):
        assert secret not in html
    assert "by a resident" in html


def test_hidden_name_shows_as_a_resident(client, service_type):
    issue = make_issue(service_type, reporter_name="Pat Private", hide_reporter_name=True)
    html = client.get(issue.get_absolute_url()).content.decode()
    assert "by a resident" in html and "Pat Private" not in html


def test_page_shows_ward_alderman_department_and_answers(client, chicago_wards, department):
    from tests.factories import make_attribute, make_service_type

    service_type = make_service_type(department, code="lights", name="Street Light Out")
    make_attribute(
        service_type,
        "PROBLEM",
        "singlevaluelist",
        values=[{"key": "out", "name": "Completely out"}],
        description="What is wrong?",
    )
    alderman = make_user(display_name="Ald. Reilly")
    chicago_wards[41].aldermen.add(alderman)
    issue = make_issue(service_type, attributes={"PROBLEM": ["out"]})
    html = client.get(issue.get_absolute_url()).content.decode()
    assert "Ward 42" in html and "Ald. Reilly" in html
    assert "Streets and Sanitation" in html
    assert "What is wrong?" in html and "Completely out" in html


def test_hidden_or_unknown_issue_is_a_friendly_404(client, issue, staff_user):
    services.set_hidden(target=issue, hidden=True, by=staff_user, reason="spam")
    for public_id in (issue.public_id, "ZZZZ-ZZZZ"):
        response = client.get(reverse("issues:detail", args=[public_id]))
        assert response.status_code == 404
        assert "We can't find that request" in response.content.decode()


def test_voting_needs_an_account_and_counts_once(client, issue, resident):
    url = reverse("issues:vote", args=[issue.public_id])
    response = client.post(url, {"action": "add"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(resident)
    client.post(url, {"action": "add"})
    client.post(url, {"action": "add"})
    issue.refresh_from_db()
    assert issue.vote_count == 1 and Vote.objects.count() == 1
    html = client.get(issue.get_absolute_url()).content.decode()
    assert "1</strong> person has this too" in html and "take back" in html
    client.post(url, {"action": "remove"})
    issue.refresh_from_db()
    assert issue.vote_count == 0


def test_vote_rate_limit_is_a_429_page(client, issue, resident, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": (1, 3600)}
    client.force_login(resident)
    url = reverse("issues:vote", args=[issue.public_id])
    assert client.post(url, {"action": "add"}).status_code == 302
    response = client.post(url, {"action": "remove"})
    assert response.status_code == 429
    assert "Please wait a while" in response.content.decode()


def test_follow_and_unfollow(client, issue, resident):
    client.force_login(resident)
    url = reverse("issues:follow", args=[issue.public_id])
    client.post(url, {"action": "follow"})
    assert Subscription.objects.filter(user=resident, issue=issue).exists()
    assert "Unfollow" in client.get(issue.get_absolute_url()).content.decode()
    response = client.post(url, {"action": "unfollow", "next": "profile"})
    assert response["Location"] == reverse("issues:profile")
    assert not Subscription.objects.filter(user=resident, issue=issue).exists()


def test_comment_posting_and_its_failures(client, issue, resident, settings):
    url = reverse("issues:comment", args=[issue.public_id])
    assert "/accounts/login/" in client.post(url, {"body": "hi"})["Location"]
    client.force_login(resident)
    response = client.post(url, {"body": "Seen it too"})
    assert response.status_code == 302 and "#comment-" in response["Location"]
    assert issue.comments.get().body == "Seen it too"
    empty = client.post(url, {"body": "   "})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": (1, 3600)}
    limited = client.post(url, {"body": "Please keep this text"})
    assert limited.status_code == 429
    assert "Please keep this text" in limited.content.decode()
    assert issue.comments.count() == 1


def test_forms_are_csrf_protected(issue, resident):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(resident)
    assert strict.post(reverse("issues:vote", args=[issue.public_id])).status_code == 403
    assert strict.post(reverse("issues:report"), {}).status_code == 403


def test_tracker_finds_a_request_however_it_is_typed(client, issue):
    typed = issue.public_id.lower().replace("-", " ")
    response = client.get(reverse("issues:track"), {"id": typed})
    assert response.status_code == 302 and response["Location"] == issue.get_absolute_url()


def test_tracker_unknown_id_is_a_friendly_404(client, db):
    response = client.get(reverse("issues:track"), {"id": "<b>NOPE</b>"})
    html = response.content.decode()
    assert response.status_code == 404
    assert "We have no request" in html and "&lt;b&gt;NOPE&lt;/b&gt;" in html
    assert client.get(reverse("issues:track")).status_code == 200


def test_home_list_is_filtered_paginated_and_constant_in_queries(
    client, service_type, staff_user, django_assert_num_queries
):
    from issues.photos import prepare_photo
    from tests.pages.conftest import jpeg_bytes, upload

    photo = prepare_photo(upload("a.jpg", jpeg_bytes()))
    issues = [make_issue(service_type, photos=[photo]) for _ in range(25)]
    services.change_status(issue=issues[0], to="closed", by=staff_user)
    # 6: five before, and the wards' version for the outlines' year-long URL.
    with django_assert_num_queries(6):
        response = client.get(reverse("issues:home"))
    html = response.content.decode()
    assert "25 issues, newest first" in html and "Page 1 of 2" in html
    assert html.index(issues[-1].public_id) < html.index(issues[-2].public_id)
    closed = client.get(reverse("issues:home"), {"status": "closed"}).content.decode()
    assert "1 issue, newest first" in closed and issues[0].public_id in closed
    bad = client.get(reverse("issues:home"), {"status": "lost", "start": "soon"})
    assert bad.status_code == 400 and "Unknown status" in bad.content.decode()


def test_ward_outlines_are_geojson(client, chicago_wards):
    data = client.get(reverse("issues:ward_outlines")).json()
    assert len(data["features"]) == 50


def test_issue_page_query_count_does_not_grow_with_its_history(
    client, issue, staff_user, resident, django_assert_num_queries
):
    from issues.photos import prepare_photo
    from tests.pages.conftest import jpeg_bytes, upload

    for n in range(6):
        services.add_comment(issue=issue, author=resident, body=f"Comment {n}")
    services.change_status(issue=issue, to="acknowledged", by=staff_user, message="Seen")
    from issues.photos import store_photo

    for _ in range(3):
        store_photo(issue=issue, prepared=prepare_photo(upload("p.jpg", jpeg_bytes())))
    client.force_login(resident)
    # 9: when the reporter last edited it (the public "edited" line, issue 17) and whether it
    # has duplicates (issue 16) come with the issue itself (issue 19).
    with django_assert_num_queries(9):
        response = client.get(issue.get_absolute_url())
    assert response.status_code == 200 and "Comment 5" in response.content.decode()


def test_profile_query_count_is_constant(client, service_type, resident, django_assert_num_queries):
    for _ in range(8):
        subscriptions.follow_issue(issue=make_issue(service_type, reporter=resident), user=resident)
    client.force_login(resident)
    # 7: + the alert areas (issue 17).
    with django_assert_num_queries(7):
        assert client.get(reverse("issues:profile")).status_code == 200
