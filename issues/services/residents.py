"""What a reporter may do to their own report: edit its description and answers or withdraw it
while the window is open (REPORT_EDIT_MINUTES after reporting, and only until staff acknowledge
it), and reopen it once within REPORTER_REOPEN_DAYS of its closing ("it's not fixed").

Every rule is checked here, server-side, whatever page or request calls. Status changes go through
workflow.change_status like every other; the edit's old text is kept for staff only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.attributes import clean_attribute_answers
from departments.translations import in_city_language
from issues.models import (
    DESCRIPTION_MAX,
    Comment,
    Issue,
    ReporterAction,
    ReporterActionKind,
    Status,
)
from issues.notify.recipients import on_behalf_of
from issues.selectors import reporter_may_reopen
from issues.services.reports import set_hidden
from issues.services.workflow import change_status, lock_issue


@dataclass(frozen=True)
class ReporterControls:
    """What the signed-in viewer may do to this report as its reporter (all False for others)."""

    can_edit: bool = False
    can_reopen: bool = False
    edit_until: datetime | None = None


def _is_reporter(issue: Issue, user) -> bool:
    return bool(user and user.is_authenticated and issue.reporter_id == user.pk)


def edit_deadline(issue: Issue) -> datetime:
    return issue.requested_at + timedelta(minutes=settings.REPORT_EDIT_MINUTES)


def _edit_open(issue: Issue, now: datetime) -> bool:
    return issue.status == Status.OPEN and not issue.is_hidden and now < edit_deadline(issue)


def _reopen_open(issue: Issue, now: datetime) -> bool:
    return reporter_may_reopen(issue, now)


def reporter_controls(issue: Issue, user, now: datetime | None = None) -> ReporterControls:
    """No query unless the viewer is the reporter of a closed report (the "once" check)."""
    if not _is_reporter(issue, user):
        return ReporterControls()
    now = now or timezone.now()
    can_edit = _edit_open(issue, now)
    return ReporterControls(
        can_edit=can_edit,
        can_reopen=issue.status == Status.CLOSED and _reopen_open(issue, now),
        edit_until=edit_deadline(issue) if can_edit else None,
    )


def _require_edit_window(issue: Issue, by, now: datetime) -> None:
    if not _is_reporter(issue, by):
        raise PermissionDenied(_("Only the person who reported this can change it."))
    if not _edit_open(issue, now):
        raise ValidationError(
            _(
                "This report can no longer be changed: the %(n)s minutes are over or the "
                "department has started on it. Add a comment instead."
            )
            % {"n": settings.REPORT_EDIT_MINUTES}
        )


def edit_own_report(*, issue: Issue, by, description: str, answers: dict | None = None) -> Issue:
    """Change the description (and the answers to the type's questions, given as {code:
    [values]}). The public history says "edited"; the old text goes to an internal note."""
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Describe the problem.")})
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError({"description": _("The description is too long.")})
    with transaction.atomic():
        locked = lock_issue(issue)
        now = timezone.now()
        _require_edit_window(locked, by, now)
        new_answers = (
            clean_attribute_answers(locked.service_type, answers)
            if answers is not None
            else locked.attributes
        )
        if description == locked.description and new_answers == locked.attributes:
            return locked
        ReporterAction.objects.create(
            issue=locked,
            kind=ReporterActionKind.EDITED,
            old_description=locked.description,
            old_attributes=locked.attributes,
            created_at=now,
        )
        # Staff read internal notes in the workbench's history: the old text is there for them.
        with in_city_language():
            body = _("The reporter edited the report. Before:\n\n%(old)s%(answers)s") % {
                "old": locked.description or "-",
                "answers": _answers_before(locked, new_answers),
            }
        Comment.objects.create(
            issue=locked, author=None, is_internal=True, body=body, created_at=now
        )
        locked.description = description
        locked.attributes = new_answers
        locked.updated_at = now
        locked.save(update_fields=["description", "attributes", "updated_at"])
    issue.description, issue.attributes = locked.description, locked.attributes
    return locked


def _answers_before(issue: Issue, new_answers: dict) -> str:
    """The answers as they were, for the staff note, when the edit changed them."""
    if new_answers == issue.attributes:
        return ""
    lines = [f"{code}: {value}" for code, value in sorted((issue.attributes or {}).items())]
    return "\n\n" + _("Answers before:") + "\n" + ("\n".join(lines) or "-")


def withdraw_own_report(*, issue: Issue, by) -> Issue:
    """Take the report back: closed through the workflow ("withdrawn by the reporter") and
    taken off the public site; staff still see it."""
    with transaction.atomic():
        locked = lock_issue(issue)
        now = timezone.now()
        _require_edit_window(locked, by, now)
        ReporterAction.objects.create(
            issue=locked, kind=ReporterActionKind.WITHDRAWN, created_at=now
        )
        with in_city_language():
            withdrawn = _("Withdrawn by the reporter.")
        with on_behalf_of(by.email):
            change_status(issue=locked, to=Status.CLOSED, by=None, message=withdrawn)
        set_hidden(target=locked, hidden=True, by=None, reason=withdrawn)
    issue.refresh_from_db()
    return issue


def _refuse_reopen() -> ValidationError:
    return ValidationError(
        _(
            "This report cannot be reopened here: it is not closed, it was closed more than "
            "%(n)s days ago, or you reopened it once already. You can still say it is still "
            "there on its page, and the department will see it."
        )
        % {"n": settings.REPORTER_REOPEN_DAYS}
    )


def _reopen(locked: Issue, *, email: str, note: str) -> None:
    """The reopening itself, on a locked issue whose reporter is acting: recorded once, back
    to the department's open queue through the workflow, which emails the followers, the
    department's address and the assignee (issues/notify/events.py)."""
    if not _reopen_open(locked, timezone.now()):
        raise _refuse_reopen()
    ReporterAction.objects.create(issue=locked, kind=ReporterActionKind.REOPENED)
    with in_city_language():
        message = _("Reopened: the reporter says this is not fixed.")
    if note:
        message = f"{message}\n\n{note}"
    with on_behalf_of(email):
        change_status(issue=locked, to=Status.OPEN, by=None, message=message)


def _clean_note(note: str) -> str:
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > DESCRIPTION_MAX:
        raise ValidationError({"note": _("The note is too long.")})
    return note


def reopen_own_report(*, issue: Issue, by, note: str = "") -> Issue:
    """ "It's not fixed": the reporter reopens their closed report, once, within the set days.
    It goes back to the department's open queue; the department and assignee are emailed."""
    note = _clean_note(note)
    with transaction.atomic():
        locked = lock_issue(issue)
        if not _is_reporter(locked, by):
            raise PermissionDenied(_("Only the person who reported this can reopen it."))
        _reopen(locked, email=by.email, note=note)
    issue.refresh_from_db()
    return issue


def reopen_by_link(*, issue: Issue, email: str, note: str = "") -> Issue:
    """The same reopening from a signed emailed link (no sign-in: the link names the address it
    was sent to, which must still be the report's contact address)."""
    note = _clean_note(note)
    with transaction.atomic():
        locked = lock_issue(issue)
        own = (locked.contact_email or "").lower()
        if not own or own != (email or "").lower():
            raise PermissionDenied(_("Only the person who reported this can reopen it."))
        _reopen(locked, email=own, note=note)
    issue.refresh_from_db()
    return issue
