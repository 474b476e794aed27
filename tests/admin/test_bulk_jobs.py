"""Bulk actions over more than BULK_JOB_THRESHOLD issues run as background jobs: one job row,
each issue through the status service in its own transaction, a progress page for the person
who started it, and a job that resumes without applying anything twice."""

from __future__ import annotations

import re

import pytest
from django.db.models import Count

from departments.services import leave_department
from issues import services
from issues.models import (
    BulkAction,
    BulkJob,
    BulkJobItem,
    BulkJobState,
    BulkOutcome,
    Issue,
    Notification,
    NotificationEvent,
    Status,
    StatusChange,
)
from tests.admin.test_bulk import _many_open_issues, _post_action

pytestmark = pytest.mark.django_db


def job_url(job) -> str:
    return f"/admin/issues/bulkjob/{job.pk}/change/"


def test_a_bulk_close_of_120_issues_runs_as_a_job_with_history_and_counts(
    client, sam, pothole, close_template, deliver, settings
):
    settings.BULK_JOB_THRESHOLD = 50
    issues = _many_open_issues(pothole, 120)
    client.force_login(sam)

    response, _sent = deliver(
        _post_action,
        client,
        "close_with_template",
        issues,
        apply="1",
        resolution="fixed",
        template=close_template.pk,
    )

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert job.action == BulkAction.CLOSE and job.created_by == sam and job.total == 120
    assert job.state == BulkJobState.DONE
    assert (job.done_count, job.skipped_count, job.failed_count) == (120, 0, 0)
    assert Issue.objects.filter(status=Status.CLOSED, resolution="fixed").count() == 120
    per_issue = (
        StatusChange.objects.filter(to_status=Status.CLOSED, changed_by=sam)
        .values("issue")
        .annotate(n=Count("id"))
    )
    assert len(per_issue) == 120 and {row["n"] for row in per_issue} == {1}
    assert Notification.objects.filter(event=NotificationEvent.STATUS_CHANGED).count() == 120
    page = client.get(job_url(job)).content.decode()
    assert "120 issues changed" in page and "Done" in page
    assert 'http-equiv="refresh"' not in page  # finished: no more refreshing


def test_small_selections_stay_within_the_request(client, sam, pothole, settings):
    settings.BULK_JOB_THRESHOLD = 50
    issues = _many_open_issues(pothole, 3)
    client.force_login(sam)
    response = _post_action(client, "acknowledge", issues, index="0")
    assert response["Location"].startswith("/admin/issues/issue/")
    assert not BulkJob.objects.exists()
    assert Issue.objects.filter(status=Status.ACKNOWLEDGED).count() == 3


def test_an_interrupted_job_resumes_without_changing_any_issue_twice(sam, pothole):
    issues = _many_open_issues(pothole, 30)
    job = services.start_bulk_job(by=sam, action=BulkAction.ACKNOWLEDGE, issues=issues)

    stopped = services.run_bulk_job(job.pk, limit=12)  # the worker dies after 12 issues
    assert stopped.state == BulkJobState.RUNNING and stopped.processed == 12
    again = services.run_bulk_job(job.pk)
    once_more = services.run_bulk_job(job.pk)  # a redelivered task finds the job done

    assert again.state == BulkJobState.DONE and once_more.processed == 30
    assert (again.done_count, again.skipped_count) == (30, 0)
    changes = StatusChange.objects.filter(to_status=Status.ACKNOWLEDGED)
    assert changes.count() == 30
    assert changes.values("issue").distinct().count() == 30
    assert BulkJobItem.objects.filter(job=job).count() == 30


def test_a_stalled_job_is_handed_to_a_worker_again(sam, pothole):
    from datetime import timedelta

    from django.utils import timezone

    issues = _many_open_issues(pothole, 5)
    job = services.start_bulk_job(by=sam, action=BulkAction.START_WORK, issues=issues)
    services.run_bulk_job(job.pk, limit=2)
    BulkJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    assert services.resume_stalled_jobs() == 1  # eager: the resumed run finishes here

    job.refresh_from_db()
    assert job.state == BulkJobState.DONE and job.done_count == 5
    assert StatusChange.objects.filter(to_status=Status.IN_PROGRESS).count() == 5


def test_the_task_re_checks_the_department_scope(sam, pothole, leak, water, streets):
    ours = _many_open_issues(pothole, 3)
    theirs = _many_open_issues(leak, 2)
    job = services.start_bulk_job(by=sam, action=BulkAction.ACKNOWLEDGE, issues=ours + theirs)
    # Between the click and the run, one of ours was transferred away.
    services.transfer_issue(issue=ours[0], to_department=water, by=sam)

    done = services.run_bulk_job(job.pk)

    assert (done.done_count, done.skipped_count) == (2, 3)
    skipped = BulkJobItem.objects.filter(job=job, outcome=BulkOutcome.SKIPPED)
    assert {item.issue_id for item in skipped} == {ours[0].pk, theirs[0].pk, theirs[1].pk}
    assert {item.reason for item in skipped} == {"You no longer work on this issue's department."}
    assert not Issue.objects.filter(department=water, status=Status.ACKNOWLEDGED).exists()


def test_someone_who_left_the_department_changes_nothing(sam, pothole, streets):
    issues = _many_open_issues(pothole, 4)
    job = services.start_bulk_job(by=sam, action=BulkAction.ASSIGN_TO_ME, issues=issues)
    leave_department(department=streets, user=sam)  # the same object: roles must see it at once

    done = services.run_bulk_job(job.pk)

    assert (done.done_count, done.skipped_count) == (0, 4)
    assert not Issue.objects.filter(assignee=sam).exists()


def test_skipped_issues_say_why_on_the_summary(client, sam, pothole, settings, deliver):
    settings.BULK_JOB_THRESHOLD = 2
    issues = _many_open_issues(pothole, 4)
    services.change_status(issue=issues[1], to=Status.CLOSED, by=sam, resolution="fixed")
    client.force_login(sam)

    response, _sent = deliver(
        _post_action, client, "acknowledge", issues, view="?status=all", index="0"
    )
    page = client.get(response["Location"]).content.decode()

    assert "3 issues changed" in page and "1 left as it was" in page
    assert issues[1].public_id in page and "cannot become acknowledged" in page


def test_a_template_no_longer_valid_for_the_type_is_skipped(sam, pothole, streets, close_template):
    from tests.factories import make_service_type

    graffiti = make_service_type(streets, code="graffiti", name="Graffiti")
    close_template.service_type = pothole
    close_template.save()
    issues = _many_open_issues(pothole, 3)
    job = services.start_bulk_job(
        by=sam,
        action=BulkAction.CLOSE,
        issues=issues,
        parameters={
            "message": close_template.body,
            "resolution": "fixed",
            "template_id": close_template.pk,
        },
    )
    services.recategorise_issue(issue=issues[2], service_type=graffiti, by=sam)

    done = services.run_bulk_job(job.pk)

    assert (done.done_count, done.skipped_count) == (2, 1)
    item = BulkJobItem.objects.get(job=job, issue=issues[2])
    assert "not valid for a Graffiti report" in item.reason
    assert Issue.objects.get(pk=issues[2].pk).status == Status.OPEN


def test_the_job_page_is_the_starters_and_404_for_other_departments(
    client, sam, wanda, boss, pothole
):
    issues = _many_open_issues(pothole, 3)
    job = services.start_bulk_job(by=sam, action=BulkAction.ACKNOWLEDGE, issues=issues)

    client.force_login(wanda)
    assert client.get(job_url(job)).status_code == 404
    assert client.get("/admin/issues/bulkjob/not-a-number/change/").status_code == 404
    client.force_login(sam)
    assert client.get(job_url(job)).status_code == 200
    client.force_login(boss)
    assert client.get(job_url(job)).status_code == 200


def test_an_unfinished_job_page_refreshes_itself_without_script(client, sam, pothole):
    issues = _many_open_issues(pothole, 10)
    job = services.start_bulk_job(by=sam, action=BulkAction.ACKNOWLEDGE, issues=issues)
    services.run_bulk_job(job.pk, limit=4)
    client.force_login(sam)

    page = client.get(job_url(job)).content.decode()

    assert re.search(r'<meta http-equiv="refresh" content="\d+">', page)
    assert '<progress id="cf-job-progress" max="10" value="4">' in page
    assert "4 of 10 issues processed" in page
    assert "<script>" not in page


@pytest.mark.django_db(transaction=True)
def test_two_runners_of_one_job_change_each_issue_once(sam, pothole):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("Concurrent runners need PostgreSQL's row locks (set DATABASE_URL=...)")
    issues = _many_open_issues(pothole, 40)
    job = BulkJob.objects.create(
        created_by=sam, action=BulkAction.START_WORK, issue_ids=[i.pk for i in issues]
    )
    start = threading.Barrier(2)

    def runner():
        try:
            start.wait()
            services.run_bulk_job(job.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    job.refresh_from_db()
    assert job.state == BulkJobState.DONE and (job.done_count, job.skipped_count) == (40, 0)
    assert StatusChange.objects.filter(to_status=Status.IN_PROGRESS).count() == 40
    assert BulkJobItem.objects.filter(job=job).count() == 40
