"""The workflow: every change of an issue's status, department or assignee.

`change_status` is the one door for a status change (staff, the API, imports, the reporter's "not
fixed"): it checks the workflow and the actor's role, records the step in the history, keeps the
dashboards' counters in step and queues the notifications, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import issues.services.routing as routing
from accounts import roles
from accounts.text import clean_text
from departments.models import Department
from departments.translations import in_city_language
from issues.dashboards import rollups
from issues.models import (
    DESCRIPTION_MAX,
    Issue,
    NotificationEvent,
    Photo,
    Resolution,
    StaffChange,
    Status,
    StatusChange,
)
from issues.notify.events import queue_event
from issues.photos import PreparedPhoto, attach_files
from issues.upstream import outbox

# The workflow. Forward along the chain (skipping ahead is allowed: a duplicate is closed straight
# from open); a closed issue may be reopened, by its department's staff or by the system on the
# reporter's behalf ("not fixed" answer to the follow-up, by=None); archived is final. Every other
# move is refused with a reason a person can read (docs/staff.md has the table).
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.OPEN: {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ACKNOWLEDGED: {Status.IN_PROGRESS, Status.CLOSED},
    Status.IN_PROGRESS: {Status.CLOSED},
    Status.CLOSED: {Status.ARCHIVED, Status.OPEN},
    Status.ARCHIVED: set(),
}


PLACEHOLDERS = ("request_id", "service_type", "address", "department")


def fill_placeholders(text: str, issue: Issue) -> str:
    """A response template's text for one issue: {request_id}, {service_type}, {address} and
    {department} replaced; any other braces are left as written (no str.format surprises)."""
    if not text or "{" not in text:
        return text
    with in_city_language():  # the filled text is stored, as the city's template is written
        somewhere = str(_("the reported location"))
    values = {
        "request_id": issue.public_id,
        "service_type": issue.service_type.name if issue.service_type_id else "",
        "address": issue.address or somewhere,
        "department": issue.department.name if issue.department_id else "",
    }
    for key in PLACEHOLDERS:
        text = text.replace("{" + key + "}", values[key])
    return text


class TransitionError(ValidationError):
    """A status change the workflow does not allow; its message says why."""


def as_utc(moment: datetime) -> datetime:
    """A time in UTC. A naive one is read in the city's time zone. Python adds a timedelta to
    an aware local time on the wall clock, so an SLA of 24 hours from a Chicago time would be 25
    real hours across the autumn DST change; in UTC it is always 24."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(UTC)


def lock_issue(issue: Issue) -> Issue:
    """Re-read the issue under a row lock so concurrent changes serialise."""
    return Issue.objects.select_for_update().get(pk=issue.pk)


def require_worker(user, issue: Issue) -> None:
    if user is not None and not roles.can_work_issue(user, issue):
        raise PermissionDenied(_("You do not work on this department's issues."))


def change_status(
    *,
    issue: Issue,
    to: str,
    by=None,
    message: str = "",
    at: datetime | None = None,
    source: str = "",
    resolution: str = "",
    duplicate_of: Issue | None = None,
    referred_to: str = "",
    photos: Sequence[PreparedPhoto] = (),
) -> StatusChange:
    """Move an issue along the workflow, recording who, when and the public message.

    `by=None` is the system acting for someone (e.g. the reporter answering "not fixed").
    `at` backdates the change (imports and demo history); it defaults to now.
    `source` names the city's system when the change came from there (issues/services/
    cityupdates.py): it is recorded, and such a change is not sent back upstream.
    Raises TransitionError for a move the workflow does not allow, PermissionDenied when `by`
    does not work on the issue's department.
    A close takes a `resolution` (Resolution): a duplicate names the request it repeats
    (`duplicate_of`), a referral whose responsibility it is (`referred_to`). Doors where a
    person closes (the workbench) require one; the city's system and imports may leave it
    empty ("not recorded"). Reopening clears it.
    `photos` (prepared by issues/photos.py) are stored with the change: the "after" photo of a
    close, shown beside the report's own.
    """
    if to not in Status.values:
        raise TransitionError(_("“%(s)s” is not a status.") % {"s": to})
    resolution, referred_to = _check_resolution(
        issue=issue,
        to=to,
        resolution=resolution,
        duplicate_of=duplicate_of,
        referred_to=referred_to,
    )
    message = clean_text(message)  # once, where text enters (docs/security.md)
    if len(message) > DESCRIPTION_MAX:
        raise ValidationError({"message": _("The message is too long.")})
    with transaction.atomic():
        locked = lock_issue(issue)
        require_worker(by, locked)
        current = locked.status
        _check_transition(current, to)
        now = as_utc(at) if at else timezone.now()
        before = rollups.state_of(locked)
        _move(
            locked,
            to=to,
            now=now,
            message=message,
            resolution=resolution,
            duplicate_of=duplicate_of,
            referred_to=referred_to,
        )
        if to == Status.OPEN and current == Status.CLOSED:
            # Reopened: work again. Its assignee keeps it while they still may; otherwise the
            # rules give it out (before the rollup, whose rows stay locked until commit).
            routing.route_locked(locked, by=by, keep_assignee=True, prioritise=False)
        rollups.issue_changed(before=before, after=rollups.state_of(locked))
        change = StatusChange.objects.create(
            issue=locked,
            from_status=current,
            to_status=to,
            changed_by=by,
            message=message,
            source=source[:120],
            resolution=resolution if to == Status.CLOSED else "",
            created_at=now,
        )
        _attach_photos(change, photos, by=by)
        queue_event(NotificationEvent.STATUS_CHANGED, issue=locked, actor=by, status_change=change)
        if not source:
            outbox.queue_update(issue=locked, status_change=change)
    refresh_issue(issue, locked)
    return change


def _check_transition(current: str, to: str) -> None:
    if to == current:
        raise TransitionError(
            _("The issue is already %(s)s.") % {"s": Status(current).label.lower()}
        )
    if to not in ALLOWED_TRANSITIONS[current]:
        raise TransitionError(
            _("An issue that is %(from)s cannot become %(to)s.")
            % {"from": Status(current).label.lower(), "to": Status(to).label.lower()}
        )


def _move(
    locked: Issue,
    *,
    to: str,
    now: datetime,
    message: str,
    resolution: str,
    duplicate_of: Issue | None,
    referred_to: str,
) -> None:
    """The issue's own columns after the move (the caller holds its row lock)."""
    locked.status = to
    locked.updated_at = now
    if message:
        locked.status_notes = message
    if to == Status.CLOSED:
        locked.closed_at = now
        locked.resolution = resolution
        locked.duplicate_of = duplicate_of if resolution == Resolution.DUPLICATE else None
        locked.referred_to = referred_to
    elif to == Status.OPEN:  # reopened: the clock for the follow-up starts again
        locked.closed_at = None
        locked.followup_sent_at = None
        locked.resolution, locked.duplicate_of, locked.referred_to = "", None, ""
    locked.save(
        update_fields=[
            "status",
            "updated_at",
            "status_notes",
            "closed_at",
            "followup_sent_at",
            "resolution",
            "duplicate_of",
            "referred_to",
        ]
    )


def _attach_photos(change: StatusChange, photos: Sequence[PreparedPhoto], *, by) -> None:
    """The "after" photos of a change, through the same pipeline as a report's."""
    for prepared in photos:
        photo = Photo(
            issue=change.issue, status_change=change, uploaded_by=by, size=len(prepared.image)
        )
        attach_files(photo, prepared)
        photo.save()


def _check_resolution(
    *, issue: Issue, to: str, resolution: str, duplicate_of: Issue | None, referred_to: str
) -> tuple[str, str]:
    """The resolution and referral as they will be stored, or a ValidationError saying why not."""
    resolution = resolution or ""
    referred_to = (referred_to or "").strip()
    if to != Status.CLOSED:
        if resolution:
            raise ValidationError({"resolution": _("Only a closed issue has a resolution.")})
        return "", ""
    if resolution and resolution not in Resolution.values:
        raise ValidationError({"resolution": _("“%(r)s” is not a resolution.") % {"r": resolution}})
    if resolution == Resolution.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError(
                {"duplicate_of": _("Say which request this one is a duplicate of.")}
            )
        if duplicate_of.pk == issue.pk:
            raise ValidationError({"duplicate_of": _("An issue cannot be its own duplicate.")})
    elif duplicate_of is not None:
        raise ValidationError({"duplicate_of": _("Only a duplicate names the request it repeats.")})
    if resolution == Resolution.REFERRED:
        if not referred_to:
            raise ValidationError(
                {"referred_to": _("Say whose responsibility it is, so residents know where to go.")}
            )
        if len(referred_to) > 200:
            raise ValidationError({"referred_to": _("At most 200 characters.")})
    else:
        referred_to = ""
    return resolution, referred_to


def add_status_note(
    *, issue: Issue, message: str, source: str, at: datetime | None = None
) -> StatusChange:
    """A public note from the city's system that leaves the status as it is: recorded in the
    history like a status change (same status before and after), and followers are told just as
    they are of a change."""
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("A note needs words.")})
    if len(message) > DESCRIPTION_MAX:
        raise ValidationError({"message": _("The message is too long.")})
    with transaction.atomic():
        locked = lock_issue(issue)
        now = as_utc(at) if at else timezone.now()
        locked.status_notes = message
        locked.updated_at = now
        locked.save(update_fields=["status_notes", "updated_at"])
        change = StatusChange.objects.create(
            issue=locked,
            from_status=locked.status,
            to_status=locked.status,
            message=message,
            source=source[:120],
            created_at=now,
        )
        queue_event(NotificationEvent.STATUS_CHANGED, issue=locked, status_change=change)
    refresh_issue(issue, locked)
    return change


def transfer_issue(
    *, issue: Issue, to_department: Department, by=None, message: str = ""
) -> StatusChange:
    """Move an issue to another department's queue; recorded, and the new department is told."""
    with transaction.atomic():
        locked = lock_issue(issue)
        require_worker(by, locked)
        if to_department is None or to_department.pk is None:
            raise ValidationError({"department": _("Pick the department to send it to.")})
        if locked.department_id == to_department.pk:
            raise ValidationError(
                {"department": _("The issue is already with %(d)s.") % {"d": to_department}}
            )
        if locked.status == Status.ARCHIVED:
            raise ValidationError(
                {"department": _("An archived issue is final; it cannot be transferred.")}
            )
        message = (message or "").strip()
        if len(message) > DESCRIPTION_MAX:
            raise ValidationError({"message": _("The message is too long.")})
        now = timezone.now()
        from_department_id, from_assignee_id = locked.department_id, locked.assignee_id
        locked.department = to_department
        locked.assignee = None  # the old department's assignee no longer works it
        locked.updated_at = now
        locked.save(update_fields=["department", "assignee", "updated_at"])
        if from_assignee_id is not None:
            StaffChange.of_assignee(locked, from_assignee_id=from_assignee_id, by=by, at=now).save()
        change = StatusChange.objects.create(
            issue=locked,
            from_status=locked.status,
            to_status=locked.status,
            from_department_id=from_department_id,
            to_department=to_department,
            changed_by=by,
            message=message,
            created_at=now,
        )
        queue_event(
            NotificationEvent.DEPARTMENT_TRANSFER, issue=locked, actor=by, status_change=change
        )
        # The new department may send to a city system the old one did not.
        outbox.queue_report(locked)
    refresh_issue(issue, locked)
    return change


def assign_issue(*, issue: Issue, assignee, by=None) -> Issue:
    """Give an issue to a member of its department (or to nobody, with None)."""
    with transaction.atomic():
        locked = lock_issue(issue)
        require_worker(by, locked)
        if assignee is not None and not roles.can_assign_to(assignee, locked):
            # Admins work every queue but are not members of the department: an issue assigned
            # to someone outside the department would sit in nobody's "assigned to me" list.
            raise ValidationError(
                {
                    "assignee": _("%(who)s does not work for %(d)s.")
                    % {"who": assignee, "d": locked.department}
                }
            )
        if locked.assignee_id == getattr(assignee, "pk", None):
            return locked
        from_assignee_id = locked.assignee_id
        locked.assignee = assignee
        locked.updated_at = timezone.now()
        locked.save(update_fields=["assignee", "updated_at"])
        StaffChange.of_assignee(
            locked, from_assignee_id=from_assignee_id, by=by, at=locked.updated_at
        ).save()
    refresh_issue(issue, locked)
    return locked


def bulk_change_status(
    *,
    issues: Iterable[Issue],
    to: str,
    by,
    message: str = "",
    resolution: str = "",
    referred_to: str = "",
) -> tuple[list[Issue], list[tuple[Issue, str]]]:
    """Apply change_status to many issues; each succeeds or fails on its own (its own
    transaction, its own notifications), so one refusal never undoes the others. The message's
    placeholders ({request_id}, {address}...) are filled in for each issue.
    Returns (changed, [(issue, reason), ...])."""
    return _each(
        issues,
        lambda issue: change_status(
            issue=issue,
            to=to,
            by=by,
            message=fill_placeholders(message, issue),
            resolution=resolution,
            referred_to=referred_to,
        ),
    )


def bulk_assign(
    *, issues: Iterable[Issue], assignee, by
) -> tuple[list[Issue], list[tuple[Issue, str]]]:
    return _each(issues, lambda issue: assign_issue(issue=issue, assignee=assignee, by=by))


def bulk_transfer(
    *, issues: Iterable[Issue], to_department: Department, by, message: str = ""
) -> tuple[list[Issue], list[tuple[Issue, str]]]:
    return _each(
        issues,
        lambda issue: transfer_issue(
            issue=issue, to_department=to_department, by=by, message=message
        ),
    )


def _each(issues: Iterable[Issue], apply) -> tuple[list[Issue], list[tuple[Issue, str]]]:
    changed, refused = [], []
    for issue in issues:
        try:
            apply(issue)
            changed.append(issue)
        except (ValidationError, PermissionDenied) as exc:
            refused.append((issue, " ".join(getattr(exc, "messages", None) or [str(exc)])))
    return changed, refused


def refresh_issue(stale: Issue, fresh: Issue) -> None:
    """Bring the caller's instance up to date without another query."""
    for field in (
        "status",
        "updated_at",
        "closed_at",
        "status_notes",
        "department_id",
        "assignee_id",
        "priority",
        "followup_sent_at",
        "resolution",
        "duplicate_of_id",
        "referred_to",
        "service_type_id",
        "expected_at",
        "attributes",
    ):
        setattr(stale, field, getattr(fresh, field))
    for cached in ("department", "assignee", "duplicate_of", "service_type"):
        stale._state.fields_cache.pop(cached, None)
