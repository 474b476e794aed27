"""One meaning of "open" site-wide: not closed. The ward page's "By status" table named the
status `open` "Open" and counted it alone, while its links asked for status=open, which every
filter widens to all open statuses (ward 8 showed 7 and its CSV held 14). The status is now
called "New" and its links ask for status=new."""

import csv
import io
from urllib.parse import urlsplit

import pytest

from issues import services
from issues.filters import IssueFilters, status_choices
from issues.models import Issue, Status
from tests.dashboards.conftest import points_in
from tests.factories import make_issue, make_service_type, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward_with_every_status(some_wards, department):
    ward = some_wards[0]
    pothole = make_service_type(department, code="pothole", name="Pothole")
    staff = make_staff(department)
    plan = [Status.OPEN] * 3 + [Status.ACKNOWLEDGED] * 2 + [Status.IN_PROGRESS] + [Status.CLOSED]
    for status, point in zip(plan, points_in(ward, len(plan), spacing=0.002), strict=True):
        issue = make_issue(pothole, point=point)
        if status != Status.OPEN:
            services.change_status(issue=issue, to=status, by=staff)
    return ward


def _csv_rows(client, url: str) -> int:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return len(list(csv.DictReader(io.StringIO(body.decode("utf-8")))))


def test_every_by_status_figure_and_its_list_and_csv_name_the_same_rows(
    client, ward_with_every_status
):
    response = client.get(f"/wards/{ward_with_every_status.slug}/")
    rows = {row["label"]: row["figure"] for row in response.context["by_status"]}
    assert {label: f.value for label, f in rows.items()} == {
        "New": 3,
        "Acknowledged": 2,
        "In progress": 1,
        "Closed": 1,
    }
    for label, figure in rows.items():
        filters = IssueFilters.from_params(dict(_query(figure.list_url)))
        assert filters.apply(Issue.objects.public()).count() == figure.value, label
        assert _csv_rows(client, figure.csv_url) == figure.value, label
    headline = {h["figure"].label: h["figure"] for h in response.context["headline"]}
    open_figure = next(f for label, f in headline.items() if label.startswith("Open"))
    assert open_figure.value == 6
    assert _csv_rows(client, open_figure.csv_url) == 6


def _query(url: str):
    from django.http import QueryDict

    return QueryDict(urlsplit(url).query).items()


def test_open_is_every_status_that_is_not_closed_and_new_is_one_status():
    assert IssueFilters.from_params({"status": "open"}).statuses == sorted(
        ["open", "acknowledged", "in_progress"]
    )
    assert IssueFilters.from_params({"status": "new"}).statuses == ["open"]
    assert Status.OPEN.label == "New"
    # The list's menu offers each status by a value that names it alone, and "open" only once.
    values = [value for value, _label in status_choices()]
    assert "open" not in values and values[0] == "new"


def test_the_list_page_offers_open_once(client, db):
    html = client.get("/").content.decode()
    assert html.count('<option value="open"') == 1
    assert '<option value="new">New</option>' in html
