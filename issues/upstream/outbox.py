"""Writing the city's outbox: the services call these inside the transaction that makes the report,
the comment or the status change, so the row exists exactly when the thing does; delivery is
handed the row when that transaction commits (issues/upstream/delivery.py)."""

from __future__ import annotations

from departments.selectors import upstream_route
from issues.models import (
    Comment,
    Issue,
    Source,
    StatusChange,
    UpstreamKind,
    UpstreamSend,
    UpstreamState,
)
from issues.upstream import delivery


def queue_report(issue: Issue) -> UpstreamSend | None:
    """Queue the report for the city's system its type and department route it to, once per
    endpoint; None when it stays in CivicFix. Imports are the city's own history: never sent."""
    if issue.source == Source.IMPORT or issue.withheld == "banned":
        return None  # a banned sender's reports stay here (issue 20)
    route = upstream_route(service_type=issue.service_type, department=issue.department)
    if route is None:
        return None
    row, created = UpstreamSend.objects.get_or_create(
        dedupe_key=f"report:{issue.pk}:{route.endpoint.pk}",
        defaults={"issue": issue, "endpoint": route.endpoint, "kind": UpstreamKind.REPORT},
    )
    if created:
        delivery.schedule([row.pk])
    return row


def queue_update(
    *, issue: Issue, status_change: StatusChange | None = None, comment: Comment | None = None
) -> UpstreamSend | None:
    """Queue a public comment or a status change for the city's system the report went to, if
    it accepts updates; otherwise it stays in CivicFix. Internal notes never leave, and neither
    does what the city itself told us (the caller passes only our own changes)."""
    if comment is not None and (comment.is_internal or comment.is_hidden):
        return None
    report = (
        UpstreamSend.objects.filter(issue=issue, kind=UpstreamKind.REPORT)
        .exclude(state=UpstreamState.FAILED)
        .select_related("endpoint")
        .order_by("-pk")
        .first()
    )
    if report is None or not report.endpoint.send_updates:
        return None
    ref = f"c{comment.pk}" if comment is not None else f"s{status_change.pk}"
    row, created = UpstreamSend.objects.get_or_create(
        dedupe_key=f"update:{ref}:{report.endpoint_id}",
        defaults={
            "issue": issue,
            "endpoint": report.endpoint,
            "kind": UpstreamKind.UPDATE,
            "comment": comment,
            "status_change": status_change,
        },
    )
    if created:
        delivery.schedule([row.pk])
    return row
