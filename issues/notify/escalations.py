"""Overdue escalation: an issue past its due time is emailed to whoever carries it, and, if it is
still open some hours later, to its department's supervisors.

Beat runs `queue_escalations` every few minutes. Each threshold an issue passes becomes one
`Escalation` row, written with its emails in one transaction and unique per (issue, level, open
spell): a second run, a run after a beat restart, or two workers at once find the row (or wait
for the other's insert and then find it) and send nothing. A reopened issue starts a new spell
(`since` is its latest reopening), so it escalates afresh: the assignee as soon as it is both
reopened and past its due time, the supervisors the set delay after that.

Closed and hidden issues never escalate; one closed or hidden after its email was queued has the
email withdrawn before sending (issues/notify/withdrawal.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.timesince import timesince

from issues.models import (
    Escalation,
    EscalationLevel,
    Issue,
    NotificationEvent,
    Status,
    StatusChange,
)
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.links import absolute
from issues.notify.recipients import Recipient, allowed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Threshold:
    issue: Issue
    level: str
    since: datetime
    due_at: datetime
    reached_at: datetime


def supervisor_delay(department) -> timedelta:
    hours = department.escalate_after_hours
    if hours is None:
        hours = settings.ESCALATE_TO_SUPERVISORS_AFTER_HOURS
    return timedelta(hours=hours)


def overdue_issues(now: datetime):
    """Open issues that escalate (see escalates) past their due time, with the start of their current open spell."""
    reopened = (
        StatusChange.objects.filter(
            issue=OuterRef("pk"), from_status=Status.CLOSED, to_status=Status.OPEN
        )
        .values("issue")
        .annotate(last=Max("created_at"))
        .values("last")
    )
    # An issue whose spell already reached the last level has nothing left to send: left out in
    # the query, so a backlog of long-escalated issues never crowds out the newly overdue.
    finished = Escalation.objects.filter(
        issue=OuterRef("pk"), level=EscalationLevel.SUPERVISORS, since=OuterRef("since")
    )
    return (
        Issue.objects.open()
        .escalating()
        .filter(expected_at__lt=now)
        .annotate(since=Coalesce(Subquery(reopened), "requested_at"))
        .filter(~Exists(finished))
        .select_related("department", "assignee", "service_type", "ward")
        .order_by("expected_at", "pk")
    )


def thresholds_due(now: datetime, limit: int = 2000) -> list[Threshold]:
    """Every threshold passed and not yet recorded, oldest due first."""
    issues = list(overdue_issues(now)[:limit])
    recorded = set(
        Escalation.objects.filter(issue__in=issues).values_list("issue_id", "level", "since")
    )
    due: list[Threshold] = []
    for issue in issues:
        start = max(issue.expected_at, issue.since)
        levels = [(EscalationLevel.ASSIGNEE, start)]
        levels.append((EscalationLevel.SUPERVISORS, start + supervisor_delay(issue.department)))
        for level, reached_at in levels:
            if reached_at <= now and (issue.pk, level, issue.since) not in recorded:
                due.append(Threshold(issue, level, issue.since, issue.expected_at, reached_at))
    return due


def queue_escalations(now: datetime | None = None) -> int:
    """Record and email every threshold passed since the last run. Returns emails queued."""
    now = now or timezone.now()
    queued = 0
    for threshold in thresholds_due(now):
        queued += escalate(threshold, now=now)
    return queued


def escalate(threshold: Threshold, *, now: datetime) -> int:
    """One threshold: its row and its emails in one transaction, or nothing if already done."""
    try:
        with transaction.atomic():
            # The issue's lock orders this against a close arriving at the same moment.
            issue = (
                Issue.objects.select_for_update(of=("self",))
                .select_related("department", "assignee", "service_type", "ward")
                .get(pk=threshold.issue.pk)
            )
            if not issue.is_open or not issue.escalates or issue.expected_at is None:
                return 0
            done = Escalation.objects.filter(
                issue=issue, level=threshold.level, since=threshold.since
            )
            if done.exists():  # recorded by a run that held the lock before us
                return 0
            recipients = escalation_recipients(issue, threshold.level)
            escalation = Escalation.objects.create(
                issue=issue,
                level=threshold.level,
                since=threshold.since,
                due_at=issue.expected_at,
                recipient_count=len(recipients),
                created_at=now,
            )
            ids = write_rows(escalation_drafts(escalation, issue, recipients, now=now))
            schedule_delivery(ids)
            return len(ids)
    except IntegrityError:
        # Another run recorded this threshold first (the unique constraint decides): its
        # emails are queued, and these are not.
        return 0


def escalation_recipients(issue: Issue, level: str) -> list[Recipient]:
    """Level one: the assignee, or every member of the department while nobody has it. Level
    two: the department's supervisors. Inactive accounts, opted-out addresses and people who
    turned escalations off are dropped."""
    department = issue.department
    if level == EscalationLevel.SUPERVISORS:
        people = list(department.supervisors.filter(is_active=True).order_by("pk"))
    elif issue.assignee_id and issue.assignee.is_active:
        people = [issue.assignee]
    else:
        people = list(department.staff.filter(is_active=True).order_by("pk"))
    candidates = [
        Recipient(email=p.email, user=p) for p in people if p.email and p.notify_escalations
    ]
    return allowed(candidates, personal=False)


def workbench_url(issue: Issue) -> str:
    return absolute(reverse("admin:issues_issue_change", args=[issue.pk]))


def _plain_timesince(due_at: datetime, now: datetime) -> str:
    return timesince(due_at, now).replace("\xa0", " ")


_overdue_by = lazy(_plain_timesince, str)


def escalation_drafts(
    escalation: Escalation, issue: Issue, recipients: list[Recipient], *, now: datetime
) -> list[Draft]:
    context = {
        "escalation": escalation,
        "to_supervisors": escalation.level == EscalationLevel.SUPERVISORS,
        "due_at": escalation.due_at,
        # Lazy: worded in each recipient's language when their email is rendered. timesince joins
        # with no-break spaces, which plain-text mail shows oddly.
        "overdue_by": _overdue_by(escalation.due_at, now),
        "admin_url": workbench_url(issue),
        "department": issue.department,
        "assignee": issue.assignee,
    }
    return [
        Draft(
            event=NotificationEvent.OVERDUE_ESCALATION,
            ref=str(escalation.pk),
            recipient=recipient,
            issue=issue,
            context=context,
            unsubscribe_scope=("escalation", None),
        )
        for recipient in recipients
    ]
