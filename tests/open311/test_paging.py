"""Paging GET requests: numbered pages (deep ones through a deferred join) and the `after`
cursor, which must visit every request exactly once even while new ones arrive."""

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues.models import Issue, Photo
from issues.notify import events
from issues.open311.query import encode_cursor
from tests.factories import make_issue

API = "/open311/v2"


def page(client, fmt="json", expect=200, **params):
    response = client.get(f"{API}/requests.{fmt}", params)
    assert response.status_code == expect, response.content
    return response


def walk(client, page_size, on_page=None, **params):
    """Follow X-Next-Cursor from the first page to the last: every id seen, in order."""
    seen, after, pages = [], None, 0
    while True:
        response = page(client, page_size=page_size, after=after or "", **params)
        seen += [row["service_request_id"] for row in response.json()]
        pages += 1
        if on_page:
            on_page(pages)
        after = response.get("X-Next-Cursor")
        if after is None:
            return seen
        assert pages < 100, "the cursor never ends"


@pytest.fixture
def backlog(graffiti, wards):
    """Twelve requests, three of which share one requested_at to the microsecond (an import
    gives them that), so that the order is only decided by the id."""
    with events.suppressed():
        issues = [make_issue(graffiti) for _ in range(12)]
    base = timezone.now() - timedelta(days=3)
    for n, issue in enumerate(issues):
        at = base if n in (4, 5, 6) else base + timedelta(minutes=n)
        Issue.objects.filter(pk=issue.pk).update(requested_at=at)
    return [i.public_id for i in Issue.objects.order_by("-requested_at", "-id").only("public_id")]


def test_cursor_walk_visits_every_request_once_in_the_list_order(client, backlog):
    assert walk(client, page_size=5) == backlog
    assert walk(client, page_size=1) == backlog


def test_numbered_pages_agree_with_one_long_page(client, backlog):
    rows = []
    for number in range(1, 6):
        rows += page(client, page=number, page_size=3).json()
    assert [r["service_request_id"] for r in rows] == backlog
    # A deep page is the same bytes as the same rows read from the top.
    assert page(client, page=3, page_size=3).json() == page(client, page_size=9).json()[6:]


def test_requests_added_during_a_cursor_walk_are_neither_repeated_nor_skipped(
    client, backlog, graffiti
):
    def add_new_requests(pages):
        with events.suppressed():
            make_issue(graffiti)
            make_issue(graffiti)

    seen = walk(client, page_size=4, on_page=add_new_requests)
    assert seen == backlog  # the new ones are newer than where the walk began
    assert len(set(seen)) == len(seen)


def test_cursor_link_headers_lead_on_by_after(client, backlog):
    first = page(client, page_size=5)
    cursor = first["X-Next-Cursor"]
    assert "page=2" in first["Link"] and 'rel="next"' in first["Link"]
    second = page(client, page_size=5, after=cursor)
    assert second["X-Page-Size"] == "5"
    assert f"after={second['X-Next-Cursor']}" in second["X-Next-Page-URL"]
    assert second["Link"] == f'<{second["X-Next-Page-URL"]}>; rel="next"'
    assert "page=" not in second["Link"] and "X-Previous-Page-URL" not in second
    last = page(client, page_size=5, after=second["X-Next-Cursor"])
    assert len(last.json()) == 2
    assert "X-Next-Cursor" not in last and "Link" not in last
    # A browser app on another site may read them.
    assert "X-Next-Cursor" in first["Access-Control-Expose-Headers"]
    assert "Link" in first["Access-Control-Expose-Headers"]


def test_cursor_keeps_the_filters_and_works_in_xml(client, backlog, pothole):
    with events.suppressed():
        other = make_issue(pothole, attributes={"SIZE": ["small"]})
    cursor = page(client, page_size=2, service_code="graffiti")["X-Next-Cursor"]
    rest = page(client, "xml", page_size=50, service_code="graffiti", after=cursor)
    assert rest.content.count(b"<request>") == len(backlog) - 2
    assert other.public_id.encode() not in rest.content


def test_a_photo_is_the_media_url_and_hidden_photos_never_show(client, graffiti, wards):
    with events.suppressed():
        issue = make_issue(graffiti)
    # Sizes given, so that no file has to exist for these rows.
    for name, hidden in (("hidden.jpg", True), ("first é.jpg", False), ("second.jpg", False)):
        Photo.objects.create(
            issue=issue, image=f"photos/{name}", is_hidden=hidden, width=1, height=1
        )
    [row] = page(client, extensions="true").json()
    assert row["media_url"] == "http://testserver/media/photos/first%20%C3%A9.jpg"
    assert row["extended_attributes"]["photos"] == [
        "http://testserver/media/photos/first%20%C3%A9.jpg",
        "http://testserver/media/photos/second.jpg",
    ]
    assert row["extended_attributes"]["url"] == f"http://testserver/issues/{issue.public_id}/"


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "not-a-cursor",
        "!!!",
        _token("2:0:1"),  # another version
        _token("1:abc:1"),
        _token("1:0:-1"),
        _token("1:0:0"),
        _token(f"1:0:{2**63}"),  # beyond the bigint id: a database error, not "no rows"
        _token(f"1:{10**20}:1"),  # beyond any datetime
        _token("1:0"),
        "wq",  # decodes to a byte that is not ASCII
    ],
)
def test_bad_cursor_is_400_with_an_explanation(client, db, after):
    errors = page(client, expect=400, after=after).json()
    assert errors[0]["code"] == 400
    assert "after" in errors[0]["description"]


def test_page_and_after_together_are_400(client, backlog):
    cursor = page(client, page_size=2)["X-Next-Cursor"]
    errors = page(client, expect=400, page=2, after=cursor).json()
    assert "page" in errors[0]["description"] and "after" in errors[0]["description"]
    assert len(page(client, page=1, after=cursor).json()) == len(backlog) - 2


def test_an_empty_page_after_a_cursor_reads_no_photos(client, backlog):
    last = Issue.objects.order_by("requested_at", "id").first()
    with CaptureQueriesContext(connection) as captured:
        assert page(client, after=encode_cursor(last.requested_at, last.pk)).json() == []
    assert not [q for q in captured.captured_queries if "issues_photo" in q["sql"]]


@pytest.mark.parametrize(
    "params", [{"ward": "99"}, {"service_code": "no-such-code"}, {"ward": "99", "page": "900"}]
)
def test_a_filter_that_matches_nothing_never_scans_the_requests(
    backlog, params, django_assert_num_queries
):
    # Joined in the query, PostgreSQL walked every request looking for ward 99 (5 s at 1M).
    from issues.open311.query import RequestQuery, service_requests

    with django_assert_num_queries(1):  # the ward or the service type, nothing else
        page_ = service_requests(RequestQuery.from_params(params))
    assert page_.rows == [] and not page_.has_next


def test_code_and_ward_filters_still_combine_as_lists(client, backlog, graffiti, pothole):
    with events.suppressed():
        other = make_issue(pothole, attributes={"SIZE": ["small"]})
    ward = str(other.ward.number)
    both = page(client, service_code="nope,pothole,graffiti", ward=f"99,{ward}", page_size=50)
    assert len(both.json()) == len(backlog) + 1
    assert [r["service_request_id"] for r in page(client, service_code="pothole").json()] == [
        other.public_id
    ]
