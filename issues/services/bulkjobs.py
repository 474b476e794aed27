"""Bulk actions over many issues, run by a worker as a `BulkJob`, one issue at a time.

The workbench starts a job for a selection larger than BULK_JOB_THRESHOLD (issues/admin/bulk.py);
smaller ones run within the request, where a person waits a second for the answer. Each issue
goes through the same service as a single change (change_status, assign_issue, transfer_issue),
in its own transaction, together with the `BulkJobItem` that records what happened to it: one
refusal never undoes the others, and a job run again (its worker was killed and the broker
redelivered it, or the resume sweep found it stalled) skips every issue already recorded. The
job's row is locked for each issue, so two runners of one job take turns and never both apply
the action to the same issue.

The acting person's reach is checked again for every issue when it is processed
(`roles.workable_issues`): someone who left a department between the click and the run, or an
issue transferred away meanwhile, is skipped with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import roles
from departments.models import Department, ResponseTemplate
from issues.models import (
    BulkAction,
    BulkJob,
    BulkJobItem,
    BulkJobState,
    BulkOutcome,
    Issue,
    Status,
)
from issues.services.workflow import (
    assign_issue,
    change_status,
    fill_placeholders,
    transfer_issue,
)

log = logging.getLogger(__name__)

# A job whose heartbeat is older than this lost its worker (a run touches it after every issue).
STALLED_AFTER = timedelta(minutes=10)


def start_bulk_job(
    *, by, action: str, issues: Sequence[Issue], parameters: dict | None = None
) -> BulkJob:
    """Record the job and hand it to a worker once the transaction commits."""
    if action not in BulkAction.values:
        raise ValidationError(_("“%(a)s” is not a bulk action.") % {"a": action})
    if not roles.can_work_queue(by):
        raise PermissionDenied(_("Only department staff run bulk actions."))
    job = BulkJob.objects.create(
        created_by=by,
        action=action,
        parameters=dict(parameters or {}),
        issue_ids=[issue.pk for issue in issues],
    )
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: int) -> bool:
    """Hand the job to a worker (or, with no broker, run it here). False when the broker is
    down: the job stays queued and the resume sweep hands it over later."""
    try:
        run_bulk_job_task.delay(job_id)
    except Exception:
        log.warning("Broker unavailable; bulk job %s left to the resume sweep", job_id)
        return False
    return True


def run_bulk_job(job_id: int, *, limit: int | None = None) -> BulkJob:
    """Apply the job's action to every issue it has not yet recorded; `limit` stops after that
    many issues (the job stays running, as if its worker had been stopped there)."""
    job = BulkJob.objects.select_related("created_by").get(pk=job_id)
    if job.state == BulkJobState.DONE:
        return job
    now = timezone.now()
    BulkJob.objects.filter(pk=job.pk).exclude(state=BulkJobState.DONE).update(
        state=BulkJobState.RUNNING, started_at=job.started_at or now, updated_at=now
    )
    recorded = set(BulkJobItem.objects.filter(job=job).values_list("issue_id", flat=True))
    processed = 0
    # Why an issue was left as it was is stored as text, in the language of the person who
    # started the job (they read it on the job's page), not the worker's default.
    with translation.override(getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE):
        for issue_id in job.issue_ids:
            if issue_id in recorded:
                continue
            if limit is not None and processed >= limit:
                return BulkJob.objects.get(pk=job.pk)
            process_one(job, issue_id)
            processed += 1
    BulkJob.objects.filter(pk=job.pk).update(
        state=BulkJobState.DONE, finished_at=timezone.now(), updated_at=timezone.now()
    )
    return BulkJob.objects.get(pk=job.pk)


def process_one(job: BulkJob, issue_id: int) -> str:
    """One issue: the action and its record in one transaction. Returns the outcome."""
    with transaction.atomic():
        BulkJob.objects.select_for_update().filter(pk=job.pk).first()
        done = BulkJobItem.objects.filter(job=job, issue_id=issue_id).first()
        if done is not None:  # another runner of this job got here first
            return done.outcome
        outcome, reason = _apply(job, issue_id)
        BulkJobItem.objects.create(job=job, issue_id=issue_id, outcome=outcome, reason=reason)
        counter = {
            BulkOutcome.DONE: "done_count",
            BulkOutcome.SKIPPED: "skipped_count",
            BulkOutcome.FAILED: "failed_count",
        }[outcome]
        BulkJob.objects.filter(pk=job.pk).update(
            **{counter: F(counter) + 1}, updated_at=timezone.now()
        )
    return outcome


def _apply(job: BulkJob, issue_id: int) -> tuple[str, str]:
    by = job.created_by
    issue = (
        roles.workable_issues(by, Issue.objects.all())
        .select_related("service_type", "department")
        .filter(pk=issue_id)
        .first()
    )
    if issue is None:
        if Issue.objects.filter(pk=issue_id).exists():
            return BulkOutcome.SKIPPED, _("You no longer work on this issue's department.")
        return BulkOutcome.SKIPPED, _("The issue no longer exists.")
    try:
        with transaction.atomic():
            ACTIONS[job.action](issue, by, job.parameters)
    except (ValidationError, PermissionDenied) as exc:
        return BulkOutcome.SKIPPED, " ".join(getattr(exc, "messages", None) or [str(exc)])
    except Exception as exc:
        log.exception("Bulk job %s failed on issue %s", job.pk, issue_id)
        return BulkOutcome.FAILED, f"{type(exc).__name__}: {exc}"[:500]
    return BulkOutcome.DONE, ""


def _to_status(to: str) -> Callable[[Issue, object, dict], None]:
    def apply(issue: Issue, by, params: dict) -> None:
        change_status(issue=issue, to=to, by=by)

    return apply


def _assign_to_me(issue: Issue, by, params: dict) -> None:
    assign_issue(issue=issue, assignee=by, by=by)


def _close(issue: Issue, by, params: dict) -> None:
    template_id = params.get("template_id")
    if template_id:
        template = ResponseTemplate.objects.filter(pk=template_id, active=True).first()
        if template is None or not template_fits(template, issue):
            raise ValidationError(
                _("The response template is not valid for a %(type)s report.")
                % {"type": issue.service_type.name}
            )
    change_status(
        issue=issue,
        to=Status.CLOSED,
        by=by,
        message=fill_placeholders(params.get("message", ""), issue),
        resolution=params.get("resolution", ""),
        referred_to=params.get("referred_to", ""),
    )


def template_fits(template: ResponseTemplate, issue: Issue) -> bool:
    """The same scope rule as the forms' offer (departments.selectors), for one issue now: it
    may have been re-categorised or transferred since the template was picked."""
    return (
        template.department_id in (None, issue.department_id)
        and template.service_type_id in (None, issue.service_type_id)
        and template.status in ("", Status.CLOSED)
    )


def _transfer(issue: Issue, by, params: dict) -> None:
    department = Department.objects.filter(pk=params.get("department_id")).first()
    if department is None:
        raise ValidationError(_("The department to transfer to no longer exists."))
    transfer_issue(issue=issue, to_department=department, by=by, message=params.get("message", ""))


ACTIONS: dict[str, Callable[[Issue, object, dict], None]] = {
    BulkAction.ACKNOWLEDGE: _to_status(Status.ACKNOWLEDGED),
    BulkAction.START_WORK: _to_status(Status.IN_PROGRESS),
    BulkAction.ASSIGN_TO_ME: _assign_to_me,
    BulkAction.CLOSE: _close,
    BulkAction.TRANSFER: _transfer,
}


def resume_stalled_jobs(now=None) -> int:
    """Hand every unfinished job whose heartbeat stopped to a worker again (beat)."""
    now = now or timezone.now()
    stalled = BulkJob.objects.exclude(state=BulkJobState.DONE).filter(
        updated_at__lt=now - STALLED_AFTER
    )
    handed = 0
    for job_id in stalled.values_list("pk", flat=True):
        BulkJob.objects.filter(pk=job_id).update(updated_at=now)
        handed += int(enqueue(job_id))
    return handed


@shared_task(name="issues.tasks.run_bulk_job", ignore_result=True)
def run_bulk_job_task(job_id: int) -> int:
    """The worker's entry point. The items, not the task, remember what was done, so a task
    redelivered after a worker died resumes where it stopped."""
    return run_bulk_job(job_id).processed
