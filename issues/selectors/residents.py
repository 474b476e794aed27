"""Reads about what a reporter may still do to their report, shared by the services that enforce
it and the emails that offer it (a closing email offers "Not fixed?" only while it would work)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from issues.models import Issue, ReporterActionKind, Status


def reporter_may_reopen(issue: Issue, now: datetime | None = None) -> bool:
    """Closed, public, closed less than REPORTER_REOPEN_DAYS ago, and never reopened by its
    reporter before (once only; one query, only when the rest holds)."""
    now = now or timezone.now()
    return (
        issue.status == Status.CLOSED
        and not issue.is_hidden
        and issue.closed_at is not None
        and now < issue.closed_at + timedelta(days=settings.REPORTER_REOPEN_DAYS)
        and not issue.reporter_actions.filter(kind=ReporterActionKind.REOPENED).exists()
    )
