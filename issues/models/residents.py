"""What a reporter did to their own report: edits (the old text kept for staff), a withdrawal, a
reopening. The public history shows that the report was edited, never what it said before."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.models.reports import Issue


class ReporterActionKind(models.TextChoices):
    EDITED = "edited", _("Edited by the reporter")
    WITHDRAWN = "withdrawn", _("Withdrawn by the reporter")
    REOPENED = "reopened", _("Reopened by the reporter")


class ReporterAction(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="reporter_actions")
    kind = models.CharField(max_length=12, choices=ReporterActionKind.choices)
    # Staff only: what the report said before an edit.
    old_description = models.TextField(blank=True)
    old_attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reporter action")
        verbose_name_plural = _("reporter actions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["issue", "kind"], name="reporter_action_issue_kind")]

    def __str__(self) -> str:
        return f"{self.issue_id}: {self.kind}"
