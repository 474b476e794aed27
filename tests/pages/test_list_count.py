"""The public list counts up to a cap, so its cost does not grow with the city's history."""

import pytest
from django.urls import reverse

from issues.views import home
from tests.factories import make_issue

pytestmark = pytest.mark.django_db


def test_beyond_the_cap_the_list_says_more_than_and_still_pages(client, service_type, monkeypatch):
    monkeypatch.setattr(home, "LIST_COUNT_CAP", 3)
    monkeypatch.setattr(home, "LIST_PAGE_SIZE", 2)
    for _ in range(5):
        make_issue(service_type)
    html = client.get(reverse("issues:home")).content.decode()
    assert "More than 3 issues, newest first" in html
    assert "Page 1</span>" in html and "Page 1 of" not in html
    assert 'rel="next"' in html


def test_under_the_cap_the_count_is_exact(client, service_type, monkeypatch):
    monkeypatch.setattr(home, "LIST_COUNT_CAP", 3)
    for _ in range(3):
        make_issue(service_type)
    html = client.get(reverse("issues:home")).content.decode()
    assert "3 issues, newest first" in html and "More than" not in html


def test_the_count_query_is_bounded(client, service_type):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_issue(service_type)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("issues:home"))
    # Of the issues: the wards' version (the outlines' URL) counts the 50 wards, not issues.
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"] and "departments_ward" not in q["sql"]
    ]
    assert len(counts) == 1 and "LIMIT" in counts[0] and "ORDER BY" not in counts[0]
