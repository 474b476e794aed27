"""Changing a report's type: the wrong category picked by a resident, or a better one found by
staff. The type decides the department, the questions and the expected response time, so all of
them follow, in one transaction with the history and the dashboards' counters."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import issues.services.routing as routing
from departments.models import ServiceType
from issues.dashboards import rollups
from issues.models import (
    DESCRIPTION_MAX,
    OPEN_STATUSES,
    Comment,
    Issue,
    NotificationEvent,
    StaffChange,
    Status,
    StatusChange,
)
from issues.notify.events import queue_event
from issues.services.workflow import lock_issue, refresh_issue, require_worker
from issues.upstream import outbox


def recategorise_issue(
    *, issue: Issue, service_type: ServiceType, by=None, message: str = ""
) -> StatusChange:
    """Give the issue another type. Answers to questions the new type also asks (same code)
    are kept; the others are dropped from the report and written into an internal note, so
    staff still see them. The department follows the type (the assignee is cleared and the new
    department told, as for a transfer); an open issue's due time is recomputed from the new
    type's expected response time. Recorded in the history with both types."""
    message = (message or "").strip()
    if len(message) > DESCRIPTION_MAX:
        raise ValidationError({"message": _("The message is too long.")})
    if service_type is None or service_type.pk is None:
        raise ValidationError({"service_type": _("Pick the new type.")})
    with transaction.atomic():
        locked = lock_issue(issue)
        require_worker(by, locked)
        _check_new_type(locked, service_type)
        before = rollups.state_of(locked)
        old_type_id, old_department_id = locked.service_type_id, locked.department_id
        old_assignee_id = locked.assignee_id
        asked = set(service_type.attributes.values_list("code", flat=True))
        answers = dict(locked.attributes or {})
        kept = {code: value for code, value in answers.items() if code in asked}
        dropped = {code: value for code, value in answers.items() if code not in asked}
        now = timezone.now()
        locked.service_type = service_type
        locked.attributes = kept
        locked.department_id = service_type.department_id
        if locked.department_id != old_department_id:
            locked.assignee = None  # the old department's assignee no longer works it
        if locked.status in OPEN_STATUSES:
            locked.expected_at = locked.sla_due()
        locked.updated_at = now
        locked.save(
            update_fields=[
                "service_type",
                "attributes",
                "department",
                "assignee",
                "expected_at",
                "updated_at",
            ]
        )
        if locked.assignee_id != old_assignee_id:
            StaffChange.of_assignee(locked, from_assignee_id=old_assignee_id, by=by, at=now).save()
        # The new type's rules decide who works it now and how urgent it is; with no rule for
        # it, an assignee of the same department keeps it.
        routing.route_locked(locked, by=by)
        rollups.issue_changed(before=before, after=rollups.state_of(locked))
        change = StatusChange.objects.create(
            issue=locked,
            from_status=locked.status,
            to_status=locked.status,
            from_department_id=old_department_id,
            to_department_id=locked.department_id,
            from_service_type_id=old_type_id,
            to_service_type=service_type,
            changed_by=by,
            message=message,
            created_at=now,
        )
        if dropped:
            lines = "\n".join(f"{code}: {_answer_text(value)}" for code, value in dropped.items())
            Comment.objects.create(
                issue=locked,
                author=by,
                is_internal=True,
                body=_("Answers the new type does not ask, kept here for staff:\n%(lines)s")
                % {"lines": lines},
                created_at=now,
            )
        if locked.department_id != old_department_id:
            queue_event(
                NotificationEvent.DEPARTMENT_TRANSFER, issue=locked, actor=by, status_change=change
            )
            outbox.queue_report(locked)
    refresh_issue(issue, locked)
    return change


def _answer_text(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _check_new_type(locked: Issue, service_type: ServiceType) -> None:
    if locked.service_type_id == service_type.pk:
        raise ValidationError(
            {"service_type": _("The issue is already a %(t)s.") % {"t": service_type.name}}
        )
    if locked.status == Status.ARCHIVED:
        raise ValidationError(
            {"service_type": _("An archived issue is final; its type cannot change.")}
        )
    if not service_type.active:
        raise ValidationError(
            {"service_type": _("%(t)s is retired: pick a current type.") % {"t": service_type}}
        )
