"""Overdue escalation and background bulk jobs: what staff-side jobs remember they have done.

An `Escalation` row is written in the same transaction as the emails it sends, and is unique per
issue, level and open spell, so a second run of the beat job (after a restart, or in a second
worker at the same moment) finds the row and sends nothing. A `BulkJobItem` does the same for one
issue of a background bulk action: written in the transaction that changes the issue, so a job
resumed after its worker died skips every issue already done.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.models.reports import Issue


class EscalationLevel(models.TextChoices):
    ASSIGNEE = "assignee", _("Overdue: the assignee (or the department's staff)")
    SUPERVISORS = "supervisors", _("Still overdue: the department's supervisors")


class Escalation(models.Model):
    """One threshold passed by one issue in one open spell, and the emails it queued.

    `since` is when the spell began: the report's time, or its latest reopening. A reopened
    issue starts a new spell, so it can escalate again; within a spell each level happens once.
    """

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="escalations")
    level = models.CharField(max_length=12, choices=EscalationLevel.choices)
    since = models.DateTimeField()
    due_at = models.DateTimeField(help_text=_("The due time the issue had passed."))
    recipient_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "level", "since"], name="escalation_once_per_level_and_spell"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"issue {self.issue_id} escalated to {self.level} at {self.created_at:%Y-%m-%d %H:%M}"
        )


class BulkAction(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    START_WORK = "start_work", _("Start work (in progress)")
    ASSIGN_TO_ME = "assign_to_me", _("Assign to me")
    CLOSE = "close", _("Close with a response")
    TRANSFER = "transfer", _("Transfer to a department")


class BulkJobState(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class BulkJob(models.Model):
    """A bulk action over many issues, run by a worker one issue at a time."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_jobs"
    )
    action = models.CharField(max_length=20, choices=BulkAction.choices)
    # The form's values (status, message, resolution, template id, department id...).
    parameters = models.JSONField(default=dict, blank=True)
    issue_ids = models.JSONField(default=list)
    state = models.CharField(
        max_length=10, choices=BulkJobState.choices, default=BulkJobState.QUEUED
    )
    done_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched after every issue: a job not DONE whose heartbeat is old lost its worker and is
    # handed to another (issues/services/bulkjobs.py resume_stalled_jobs).
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bulk job")
        verbose_name_plural = _("bulk jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"bulk job {self.pk}: {self.action} on {len(self.issue_ids)} issues ({self.state})"

    @property
    def total(self) -> int:
        return len(self.issue_ids)

    @property
    def processed(self) -> int:
        return self.done_count + self.skipped_count + self.failed_count


class BulkOutcome(models.TextChoices):
    DONE = "done", _("Changed")
    SKIPPED = "skipped", _("Left as it was")
    FAILED = "failed", _("Failed")


class BulkJobItem(models.Model):
    """What a bulk job did to one issue; its existence means "never again" for that issue."""

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="items")
    # No database constraint: an issue deleted before its turn is still recorded ("no longer
    # exists"), so the job's counts add up to its selection.
    issue = models.ForeignKey(
        Issue, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=BulkOutcome.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bulk job item")
        verbose_name_plural = _("bulk job items")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "issue"], name="bulk_item_once_per_issue"),
        ]

    def __str__(self) -> str:
        return f"job {self.job_id}, issue {self.issue_id}: {self.outcome}"
