"""Priorities (issue 16): low/normal/high/urgent, normal by default, set by a rule or by hand in
the workbench (the staff-only history says who), filtered and sorted in the queue (overdue first,
then the most urgent, then the newest), and never public."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments.models import Priority
from issues import services
from issues.admin.queue import IssueAdmin
from issues.models import Issue, StaffChange
from tests.admin.conftest import changelist_url, shown_ids
from tests.factories import make_issue

pytestmark = pytest.mark.django_db


def work_url(issue) -> str:
    return f"/admin/issues/issue/{issue.pk}/work/priority/"


def test_set_by_hand_in_the_workbench_with_history(client, sam, pothole, wards):
    issue = make_issue(pothole)
    assert issue.priority == Priority.NORMAL
    client.force_login(sam)
    response = client.post(work_url(issue), {"priority": "urgent"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.priority == Priority.URGENT
    change = StaffChange.objects.get(issue=issue, kind="priority")
    assert (change.changed_by, change.from_priority, change.to_priority) == (
        sam,
        "normal",
        "urgent",
    )
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "Priority Normal → Urgent" in page


def test_a_priority_that_does_not_exist_is_a_400_and_changes_nothing(client, sam, pothole, wards):
    issue = make_issue(pothole)
    client.force_login(sam)
    assert client.post(work_url(issue), {"priority": "whenever"}).status_code == 400
    assert Issue.objects.get(pk=issue.pk).priority == Priority.NORMAL
    with pytest.raises(ValidationError):
        services.set_priority(issue=issue, priority="whenever", by=sam)


def test_another_department_cannot_set_it(client, wanda, pothole, wards):
    issue = make_issue(pothole)
    with pytest.raises(PermissionDenied):
        services.set_priority(issue=issue, priority="high", by=wanda)
    client.force_login(wanda)
    assert client.post(work_url(issue), {"priority": "high"}).status_code == 404
    assert Issue.objects.get(pk=issue.pk).priority == Priority.NORMAL


def test_the_queue_filters_by_priority(client, sam, pothole, wards):
    made = {}
    for level in Priority.values:
        made[level] = make_issue(pothole, description=level)
        services.set_priority(issue=made[level], priority=level, by=sam)
    client.force_login(sam)
    for level in Priority.values:
        shown = shown_ids(client.get(changelist_url(), {"priority": level}))
        assert shown == {made[level].public_id}
    shown = shown_ids(client.get(changelist_url(), {"priority": "high_up"}))
    assert shown == {made["urgent"].public_id, made["high"].public_id}


def test_the_queue_sorts_overdue_then_urgent_then_newest(client, sam, pothole, wards, monkeypatch):
    now = timezone.now()
    old_low_overdue = make_issue(pothole, requested_at=now - timedelta(days=10))
    old_urgent_overdue = make_issue(pothole, requested_at=now - timedelta(days=9))
    new_normal = make_issue(pothole, requested_at=now - timedelta(hours=2))
    newer_normal = make_issue(pothole, requested_at=now - timedelta(hours=1))
    older_high = make_issue(pothole, requested_at=now - timedelta(hours=3))
    services.set_priority(issue=old_low_overdue, priority="low", by=sam)
    services.set_priority(issue=old_urgent_overdue, priority="urgent", by=sam)
    services.set_priority(issue=older_high, priority="high", by=sam)
    client.force_login(sam)
    rows = client.get(changelist_url()).context["cl"].result_list
    assert [i.pk for i in rows] == [
        old_urgent_overdue.pk,
        old_low_overdue.pk,
        older_high.pk,
        newer_normal.pk,
        new_normal.pk,
    ]
    # The workbench issue page offers the head of the queue without the issue itself.
    for shown, offered in ((old_urgent_overdue, old_low_overdue), (older_high, old_urgent_overdue)):
        page = client.get(f"/admin/issues/issue/{shown.pk}/change/")
        assert page.context["next_in_queue"].pk == offered.pk
    # Page by page (QueuePaginator reads a page's ids, then its rows): the same order, each
    # issue once, across every page, with the column-header order too.
    monkeypatch.setattr(IssueAdmin, "list_per_page", 2)
    for extra in ({}, {"o": "6"}):
        whole = [
            i.pk
            for i in client.get(changelist_url(), {**extra, "all": ""}).context["cl"].result_list
        ]
        paged = [
            i.pk
            for page in (1, 2, 3)
            for i in client.get(changelist_url(), {**extra, "p": page}).context["cl"].result_list
        ]
        assert paged == whole and len(set(paged)) == 5
    # The page's order is read with the ids alone (the queue's covering index), then the rows.
    with CaptureQueriesContext(connection) as queries:
        client.get(changelist_url(), {"p": 2})
    issue_reads = [q["sql"] for q in queries if 'FROM "issues_issue"' in q["sql"]]
    assert any(
        sql.startswith('SELECT "issues_issue"."id" AS "pk" FROM') and "ORDER BY" in sql
        for sql in issue_reads
    ), issue_reads
    # The column header sorts by priority alone, most urgent first.
    response = client.get(changelist_url(), {"o": "6"})
    first = response.context["cl"].result_list[0]
    assert first.priority == Priority.URGENT


def test_the_queue_shows_a_badge_for_all_but_normal(client, sam, pothole, wards):
    urgent = make_issue(pothole)
    services.set_priority(issue=urgent, priority="urgent", by=sam)
    make_issue(pothole)
    client.force_login(sam)
    page = client.get(changelist_url()).content.decode()
    assert page.count('class="cf-priority cf-priority-urgent"') == 1
    assert "cf-priority-normal" not in page


def test_priority_is_never_public(client, sam, pothole, wards):
    issue = make_issue(pothole)
    services.set_priority(issue=issue, priority="urgent", by=sam)
    for url in (
        issue.get_absolute_url(),
        f"/open311/v2/requests/{issue.public_id}.json?extensions=true",
        f"/open311/v2/requests/{issue.public_id}.xml?extensions=true",
    ):
        body = client.get(url).content.decode().lower()
        assert "urgent" not in body and "priority" not in body, url
