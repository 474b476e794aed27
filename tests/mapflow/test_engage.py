"""Votes and follows: JSON with the buttons re-rendered when the page's script asks for it
(Accept: application/json), the plain form post and redirect when it does not; a vote offers
to follow on both paths."""

import pytest
from django.test import Client
from django.urls import reverse

from issues.models import Subscription, Vote
from tests.factories import make_issue

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def issue(service_type):
    return make_issue(service_type, description="Deep hole")


def test_a_vote_by_the_script_answers_json_and_offers_to_follow(client, issue, resident):
    client.force_login(resident)
    url = reverse("issues:vote", args=[issue.public_id])
    response = client.post(url, {"action": "add"}, **JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["voted"] is True and data["vote_count"] == 1 and data["following"] is False
    assert data["offer_follow"] is True
    assert "Thanks: the city sees" in data["message"]
    assert "Follow it too" in data["html"] and "take back" in data["html"]
    assert "data-engage" in data["html"] and "csrfmiddlewaretoken" in data["html"]
    assert Vote.objects.filter(issue=issue, user=resident).count() == 1
    # No message left behind for the next page: the script showed it.
    assert "Thanks: the city sees" not in client.get(issue.get_absolute_url()).content.decode()
    taken_back = client.post(url, {"action": "remove"}, **JSON).json()
    assert taken_back["voted"] is False and taken_back["vote_count"] == 0
    assert taken_back["offer_follow"] is False and "Follow it too" not in taken_back["html"]


def test_a_follow_by_the_script_answers_json(client, issue, resident):
    client.force_login(resident)
    url = reverse("issues:follow", args=[issue.public_id])
    data = client.post(url, {"action": "follow"}, **JSON).json()
    assert data["following"] is True and "Unfollow" in data["html"]
    assert Subscription.objects.filter(issue=issue, user=resident).exists()
    data = client.post(url, {"action": "unfollow"}, **JSON).json()
    assert data["following"] is False and "Follow: email me updates" in data["html"]
    assert not Subscription.objects.filter(issue=issue, user=resident).exists()


def test_after_voting_the_offer_to_follow_goes_once_following(client, issue, resident):
    client.force_login(resident)
    client.post(reverse("issues:follow", args=[issue.public_id]), {"action": "follow"}, **JSON)
    data = client.post(reverse("issues:vote", args=[issue.public_id]), {"action": "add"}, **JSON)
    assert data.json()["offer_follow"] is False and "Follow it too" not in data.json()["html"]


def test_without_javascript_a_vote_redirects_and_the_page_offers_to_follow(client, issue, resident):
    client.force_login(resident)
    response = client.post(reverse("issues:vote", args=[issue.public_id]), {"action": "add"})
    assert response.status_code == 302
    assert response["Location"] == issue.get_absolute_url() + "?voted=1#engage"
    html = client.get(response["Location"]).content.decode()
    assert "Thanks: the city sees" in html and "Follow it too" in html
    follow = client.post(reverse("issues:follow", args=[issue.public_id]), {"action": "follow"})
    assert follow.status_code == 302 and follow["Location"] == issue.get_absolute_url()
    html = client.get(follow["Location"]).content.decode()
    assert "You follow this issue" in html and "Unfollow" in html


def test_the_script_gets_a_json_refusal_it_can_show(client, issue, resident, settings):
    url = reverse("issues:vote", args=[issue.public_id])
    anonymous = client.post(url, {"action": "add"}, **JSON)
    assert anonymous.status_code == 401 and "Sign in" in anonymous.json()["error"]
    assert (
        client.post(
            reverse("issues:follow", args=[issue.public_id]), {"action": "follow"}, **JSON
        ).status_code
        == 401
    )
    unknown = client.post(reverse("issues:vote", args=["ZZZZ-ZZZZ"]), {"action": "add"}, **JSON)
    assert unknown.status_code == 404 and "ZZZZ-ZZZZ" in unknown.json()["error"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": (1, 3600)}
    client.force_login(resident)
    assert client.post(url, {"action": "add"}, **JSON).status_code == 200
    limited = client.post(url, {"action": "remove"}, **JSON)
    assert limited.status_code == 429 and "wait" in limited.json()["error"]
    assert Vote.objects.filter(issue=issue).count() == 1  # nothing changed


def test_the_script_posts_with_the_csrf_token(issue, resident):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(resident)
    url = reverse("issues:vote", args=[issue.public_id])
    assert strict.post(url, {"action": "add"}, **JSON).status_code == 403
    page = strict.get(issue.get_absolute_url())
    token = page.cookies["csrftoken"].value
    answer = strict.post(url, {"action": "add"}, HTTP_X_CSRFTOKEN=token, **JSON)
    assert answer.status_code == 200 and answer.json()["voted"] is True
