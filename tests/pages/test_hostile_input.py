"""Hostile or odd input gets a clear 4xx (or is harmlessly ignored), never a 500."""

import pytest
from django.urls import reverse

from issues.models import Issue
from tests.factories import make_issue
from tests.pages.conftest import report_data

pytestmark = pytest.mark.django_db
NUL = "a\x00b"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("issues:track", {"id": NUL}),
        ("issues:home", {"type": NUL}),
        ("issues:home", {"page": NUL}),
        ("issues:viewport", {"bbox": "-88,41,-87,42", "zoom": "12", "type": NUL}),
        ("issues:report", {"type": NUL, "latitude": NUL}),
        ("issues:report_questions", {"type": NUL}),
        ("issues:report_nearby", {"type": NUL, "latitude": "1", "longitude": "1"}),
    ],
)
def test_nul_characters_in_query_strings_never_cause_a_500(client, service_type, name, params):
    make_issue(service_type)
    response = client.get(reverse(name), params)
    assert response.status_code < 500


def test_nul_in_an_issue_id_is_a_404(client):
    assert client.get("/issues/AB%00CD/").status_code == 404


def test_nul_in_an_answer_is_refused(client, pothole, chicago_wards, department):
    from tests.factories import make_attribute

    make_attribute(pothole, "NOTE", "string", description="Anything else?")
    response = client.post(
        reverse("issues:report"), report_data(pothole, **{"attribute[NOTE]": NUL})
    )
    assert response.status_code == 400
    assert not Issue.objects.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_non_finite_coordinates_are_refused(client, pothole, chicago_wards, value):
    response = client.post(reverse("issues:report"), report_data(pothole, latitude=value))
    assert response.status_code == 400
    assert not Issue.objects.exists()


def test_several_answers_to_a_one_answer_question(client, pothole, chicago_wards):
    data = report_data(pothole)
    data["attribute[SIZE]"] = ["small", "large"]
    response = client.post(reverse("issues:report"), data)
    assert response.status_code == 400
    assert "takes one answer" in response.content.decode()


def test_get_only_and_post_only_endpoints(client, service_type):
    issue = make_issue(service_type)
    assert client.get(reverse("issues:vote", args=[issue.public_id])).status_code == 405
    assert client.post(reverse("issues:viewport")).status_code == 405
    assert client.delete(reverse("issues:report")).status_code == 405
