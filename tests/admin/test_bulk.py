"""Bulk actions in the queue: each issue goes through the service on its own, so each gets one
history row and one batch of emails, and a refusal for one never undoes the others."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from issues import pagecache, services
from issues.models import (
    Issue,
    Notification,
    NotificationEvent,
    Status,
    StatusChange,
    Subscription,
)
from tests.admin.conftest import changelist_url
from tests.factories import make_issue

pytestmark = pytest.mark.django_db


def _many_open_issues(service_type, n):
    """n open reports, each followed by its reporter, written in bulk: creating them one by one
    through create_issue is tested elsewhere and would triple this test's time."""
    now = timezone.now()
    issues = Issue.objects.bulk_create(
        Issue(
            service_type=service_type,
            department=service_type.department,
            needs_triage=True,
            address=f"{k} W Division St",
            requested_at=now,
            updated_at=now,
            expected_at=now + timedelta(hours=service_type.sla_hours),
        )
        for k in range(n)
    )
    if not issues[0].pk:  # backends that do not return ids from bulk inserts
        issues = list(Issue.objects.order_by("pk"))
    Subscription.objects.bulk_create(
        Subscription(issue=issue, email=f"r{k}@example.net") for k, issue in enumerate(issues)
    )
    return issues


def _post_action(client, action, issues, *, view="", **extra):
    """Post an action as the queue's form does, to the view it was chosen in (the queue opens
    on open issues; `view="?status=all"` for a selection that includes closed ones)."""
    data = {"action": action, "_selected_action": [i.pk for i in issues], **extra}
    return client.post(changelist_url() + view, data)


@pytest.mark.slow
def test_bulk_closing_500_issues_makes_one_change_and_one_email_batch_each(
    client, sam, pothole, close_template, django_capture_on_commit_callbacks, settings
):
    settings.BULK_JOB_THRESHOLD = 1000  # within the request (background jobs: test_bulk_jobs.py)
    issues = _many_open_issues(pothole, 500)
    client.force_login(sam)
    first = _post_action(client, "close_with_template", issues, index="0")
    assert first.status_code == 200  # the intermediate page
    assert "Pothole filled" in first.content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post_action(
            client,
            "close_with_template",
            issues,
            apply="1",
            resolution="fixed",
            template=close_template.pk,
        )
    assert response.status_code == 302
    assert Issue.objects.filter(status=Status.CLOSED).count() == 500
    per_issue_changes = (
        StatusChange.objects.filter(to_status=Status.CLOSED).values("issue").annotate(n=Count("id"))
    )
    assert len(per_issue_changes) == 500 and {row["n"] for row in per_issue_changes} == {1}
    per_issue_mail = (
        Notification.objects.filter(event=NotificationEvent.STATUS_CHANGED)
        .values("issue")
        .annotate(n=Count("id"))
    )
    assert len(per_issue_mail) == 500 and {row["n"] for row in per_issue_mail} == {1}
    deliveries = [c for c in callbacks if not isinstance(c, pagecache.AfterCommitBump)]
    assert len(deliveries) == 500  # one delivery batch scheduled per issue, on commit
    assert set(
        StatusChange.objects.filter(to_status=Status.CLOSED).values_list("message", flat=True)
    ) == {"A crew filled this pothole."}


def test_bulk_close_needs_a_template_or_a_message(client, sam, streets_issue):
    client.force_login(sam)
    response = _post_action(client, "close_with_template", [streets_issue], apply="1")
    assert response.status_code == 400
    assert "Pick a response template or write a message" in response.content.decode()
    assert Issue.objects.get(pk=streets_issue.pk).status == Status.OPEN


def test_bulk_close_with_own_message(client, sam, streets_issue):
    client.force_login(sam)
    _post_action(
        client,
        "close_with_template",
        [streets_issue],
        apply="1",
        resolution="fixed",
        message="Done today.",
    )
    change = StatusChange.objects.get(issue=streets_issue, to_status=Status.CLOSED)
    assert change.message == "Done today." and change.changed_by == sam


def test_bulk_close_offers_only_own_and_citywide_closing_templates(
    client, sam, streets_issue, close_template, water_template
):
    from departments.models import ResponseTemplate

    ResponseTemplate.objects.create(title="City-wide duplicate", body="Duplicate.", status="closed")
    ResponseTemplate.objects.create(
        department=close_template.department,
        title="Crew booked",
        body="Soon.",
        status="in_progress",
    )
    client.force_login(sam)
    page = _post_action(client, "close_with_template", [streets_issue], index="0").content.decode()
    assert "Pothole filled" in page and "City-wide duplicate" in page
    assert "Leak fixed" not in page and "Crew booked" not in page


def test_bulk_acknowledge_reports_what_was_refused(client, sam, pothole, wards):
    fresh = make_issue(pothole)
    closed = make_issue(pothole)
    services.change_status(issue=closed, to=Status.CLOSED, by=sam)
    client.force_login(sam)
    response = _post_action(client, "acknowledge", [fresh, closed], view="?status=all", index="0")
    page = client.get(response["Location"]).content.decode()
    assert "1 issue is now acknowledged." in page
    assert closed.public_id in page and "cannot become acknowledged" in page
    assert Issue.objects.get(pk=fresh.pk).status == Status.ACKNOWLEDGED
    assert Issue.objects.get(pk=closed.pk).status == Status.CLOSED


def test_bulk_start_work_and_assign_to_me(client, sam, pothole, wards):
    issues = [make_issue(pothole) for _ in range(3)]
    client.force_login(sam)
    _post_action(client, "start_work", issues, index="0")
    _post_action(client, "assign_to_me", issues, index="0")
    assert set(Issue.objects.values_list("status", "assignee_id")) == {(Status.IN_PROGRESS, sam.pk)}


def test_admin_outside_the_department_cannot_assign_to_self(client, boss, streets_issue):
    client.force_login(boss)
    response = _post_action(client, "assign_to_me", [streets_issue], index="0")
    assert "does not work for" in client.get(response["Location"]).content.decode()
    assert Issue.objects.get(pk=streets_issue.pk).assignee is None


def test_bulk_transfer_through_the_intermediate_page(client, sam, water, pothole, wards):
    issues = [make_issue(pothole) for _ in range(2)]
    client.force_login(sam)
    page = _post_action(client, "transfer", issues, index="0")
    assert page.status_code == 200 and "Water Management" in page.content.decode()
    response = _post_action(
        client, "transfer", issues, apply="1", department=water.pk, message="Main break"
    )
    assert response.status_code == 302
    assert set(Issue.objects.values_list("department_id", flat=True)) == {water.pk}
    told = Notification.objects.filter(event=NotificationEvent.DEPARTMENT_TRANSFER)
    assert told.count() == 2
    assert (
        StatusChange.objects.filter(to_department=water, from_department=pothole.department).count()
        == 2
    )


def test_bulk_transfer_without_a_department_is_a_400(client, sam, streets_issue):
    client.force_login(sam)
    response = _post_action(client, "transfer", [streets_issue], apply="1", department="")
    assert response.status_code == 400
    assert Issue.objects.get(pk=streets_issue.pk).department == streets_issue.department
