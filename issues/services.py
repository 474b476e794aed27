"""Every multi-step write on issues. Views, the admin, the Open311 API, imports and tasks call these;
nothing else changes an issue's status, assignment or department.

Each function validates, writes inside `transaction.atomic()`, records history, and queues
notifications in the outbox (rows in the same transaction; delivery is scheduled on commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from departments import rollups
from departments.attributes import clean_attribute_answers
from departments.models import Department, ServiceType, Ward
from issues import notifications
from issues.models import (
    DESCRIPTION_MAX,
    Comment,
    Issue,
    NotificationEvent,
    Photo,
    Source,
    Status,
    StatusChange,
    Subscription,
    Vote,
)
from issues.photos import PreparedPhoto, store_photo

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


class TransitionError(ValidationError):
    """A status change the workflow does not allow; its message says why."""


def _validate_location(latitude: float | None, longitude: float | None) -> dict[str, str]:
    errors = {}
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90.")
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180.")
    return errors


def route(
    *, service_type: ServiceType, latitude: float | None, longitude: float | None
) -> tuple[Department, Ward | None]:
    """Department from the type, ward from the point."""
    return service_type.department, Ward.objects.containing(latitude, longitude)


def create_issue(
    *,
    service_type: ServiceType,
    latitude: float | None,
    longitude: float | None,
    address: str = "",
    description: str = "",
    attributes: Mapping[str, Sequence[str]] | None = None,
    reporter=None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    hide_reporter_name: bool = False,
    source: str = Source.WEB,
    photos: Sequence[PreparedPhoto] = (),
    media_url: str = "",
    zipcode: str = "",
    require_ward: bool = False,
    requested_at: datetime | None = None,
) -> Issue:
    """Create a report, routed to its department and ward.

    `attributes` are the raw answers {code: [values]} and are validated against the type's
    attributes. A point in no ward is refused when `require_ward` (the resident form) and otherwise
    kept, flagged for triage. Raises ValidationError with per-field messages.
    """
    errors: dict[str, list[str]] = {}
    if not service_type.active:
        errors["service_code"] = [_("This service type is no longer accepting reports.")]
    for field, message in _validate_location(latitude, longitude).items():
        errors.setdefault(field, []).append(message)
    description = (description or "").replace("\r\n", "\n").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [
            _("The description is %(n)d characters; at most %(max)d are allowed.")
            % {"n": len(description), "max": DESCRIPTION_MAX}
        ]
    texts = {
        "description": description,
        "address_string": address,
        "name": reporter_name,
        "email": reporter_email,
        "phone": reporter_phone,
        "zipcode": zipcode,
        "media_url": media_url,
    }
    for field, text in texts.items():
        if text and "\x00" in text:
            # PostgreSQL cannot store NUL in text; refuse it here so every door (form, API,
            # import) answers with a message instead of a database error.
            errors.setdefault(field, []).append(_("Null characters are not allowed."))
    if latitude is None and not address.strip():
        errors["location"] = [_("Say where the problem is: a point on the map or an address.")]
    try:
        answers = clean_attribute_answers(service_type, attributes or {})
    except ValidationError as exc:
        for code, messages in exc.message_dict.items():
            errors[f"attribute[{code}]"] = messages
        answers = {}
    if reporter is None and reporter_email and len(reporter_email) > 254:
        errors["email"] = [_("That email address is too long.")]
    department, ward = route(service_type=service_type, latitude=latitude, longitude=longitude)
    if ward is None and latitude is not None and require_ward:
        errors.setdefault("location", []).append(
            _("That point is outside %(city)s's wards. Please choose a place inside the city.")
            % {"city": _city_name()}
        )
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    requested_at = _as_utc(requested_at or now)
    with transaction.atomic():
        issue = Issue(
            service_type=service_type,
            department=department,
            ward=ward,
            needs_triage=ward is None,
            latitude=latitude,
            longitude=longitude,
            address=address.strip()[:255],
            zipcode=zipcode.strip()[:16],
            description=description,
            attributes=answers,
            reporter=reporter if reporter and reporter.is_authenticated else None,
            reporter_name=reporter_name.strip()[:120],
            reporter_email=(reporter_email or "").strip().lower(),
            reporter_phone=reporter_phone.strip()[:40],
            hide_reporter_name=hide_reporter_name,
            source=source,
            media_url=media_url[:500],
            requested_at=requested_at,
            updated_at=requested_at,
        )
        issue.expected_at = issue.sla_due()
        issue.save()
        for prepared in photos:
            store_photo(issue=issue, prepared=prepared, uploaded_by=issue.reporter)
        StatusChange.objects.create(
            issue=issue,
            from_status="",
            to_status=Status.OPEN,
            to_department=department,
            changed_by=issue.reporter,
            created_at=requested_at,
        )
        if issue.reporter_id:
            follow_issue(issue=issue, user=issue.reporter)
        elif issue.reporter_email:
            follow_issue(issue=issue, email=issue.reporter_email)
        if source != Source.IMPORT:
            notifications.queue_event(NotificationEvent.ISSUE_CREATED, issue=issue)
        # Dashboards' rollup (departments/rollups.py), in the same transaction but last: every
        # report in a ward updates the same counter rows, and they stay locked until commit,
        # so nothing slow (photo files) may come after.
        rollups.issue_changed(before=None, after=rollups.state_of(issue))
    return issue


def _as_utc(moment: datetime) -> datetime:
    """A time in UTC. A naive one is read in the city's time zone. Python adds a timedelta to
    an aware local time on the wall clock, so an SLA of 24 hours from a Chicago time would be 25
    real hours across the autumn DST change; in UTC it is always 24."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(UTC)


def _city_name() -> str:
    from django.conf import settings

    return settings.CITY_NAME


def _lock(issue: Issue) -> Issue:
    """Re-read the issue under a row lock so concurrent changes serialise."""
    return Issue.objects.select_for_update().get(pk=issue.pk)


def _require_worker(user, issue: Issue) -> None:
    if user is not None and not roles.can_work_issue(user, issue):
        raise PermissionDenied(_("You do not work on this department's issues."))


def change_status(
    *, issue: Issue, to: str, by=None, message: str = "", at: datetime | None = None
) -> StatusChange:
    """Move an issue along the workflow, recording who, when and the public message.

    `by=None` is the system acting for someone (e.g. the reporter answering "not fixed").
    `at` backdates the change (imports and demo history); it defaults to now.
    Raises TransitionError for a move the workflow does not allow, PermissionDenied when `by`
    does not work on the issue's department.
    """
    if to not in Status.values:
        raise TransitionError(_("“%(s)s” is not a status.") % {"s": to})
    message = (message or "").strip()
    if len(message) > DESCRIPTION_MAX:
        raise ValidationError({"message": _("The message is too long.")})
    with transaction.atomic():
        locked = _lock(issue)
        _require_worker(by, locked)
        current = locked.status
        if to == current:
            raise TransitionError(
                _("The issue is already %(s)s.") % {"s": Status(current).label.lower()}
            )
        if to not in ALLOWED_TRANSITIONS[current]:
            raise TransitionError(
                _("An issue that is %(from)s cannot become %(to)s.")
                % {"from": Status(current).label.lower(), "to": Status(to).label.lower()}
            )
        now = _as_utc(at) if at else timezone.now()
        before = rollups.state_of(locked)
        locked.status = to
        locked.updated_at = now
        if message:
            locked.status_notes = message
        if to == Status.CLOSED:
            locked.closed_at = now
        elif to == Status.OPEN:  # reopened: the clock for the follow-up starts again
            locked.closed_at = None
            locked.followup_sent_at = None
        locked.save(
            update_fields=["status", "updated_at", "status_notes", "closed_at", "followup_sent_at"]
        )
        rollups.issue_changed(before=before, after=rollups.state_of(locked))
        change = StatusChange.objects.create(
            issue=locked,
            from_status=current,
            to_status=to,
            changed_by=by,
            message=message,
            created_at=now,
        )
        notifications.queue_event(
            NotificationEvent.STATUS_CHANGED, issue=locked, actor=by, status_change=change
        )
    _refresh(issue, locked)
    return change


def transfer_issue(
    *, issue: Issue, to_department: Department, by=None, message: str = ""
) -> StatusChange:
    """Move an issue to another department's queue; recorded, and the new department is told."""
    with transaction.atomic():
        locked = _lock(issue)
        _require_worker(by, locked)
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
        from_department_id = locked.department_id
        locked.department = to_department
        locked.assignee = None  # the old department's assignee no longer works it
        locked.updated_at = now
        locked.save(update_fields=["department", "assignee", "updated_at"])
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
        notifications.queue_event(
            NotificationEvent.DEPARTMENT_TRANSFER, issue=locked, actor=by, status_change=change
        )
    _refresh(issue, locked)
    return change


def assign_issue(*, issue: Issue, assignee, by=None) -> Issue:
    """Give an issue to a member of its department (or to nobody, with None)."""
    with transaction.atomic():
        locked = _lock(issue)
        _require_worker(by, locked)
        if assignee is not None and not (
            assignee.is_active and locked.department_id in roles.department_ids(assignee)
        ):
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
        locked.assignee = assignee
        locked.updated_at = timezone.now()
        locked.save(update_fields=["assignee", "updated_at"])
    _refresh(issue, locked)
    return locked


def place_issue(*, issue: Issue, latitude: float, longitude: float, by, address: str = "") -> Issue:
    """Staff set (or correct) an issue's point: the ward follows from it and the triage flag
    clears. A point in no ward is refused, so a placed issue is always on some alderman's map.
    The old and new place are kept as an internal note: the move must be traceable."""
    errors = _validate_location(latitude, longitude)
    if latitude is None or longitude is None:
        errors.setdefault("latitude", _("Give both latitude and longitude."))
    if errors:
        raise ValidationError(errors)
    address = (address or "").strip()
    if len(address) > 255:
        raise ValidationError({"address": _("The address can be at most 255 characters.")})
    ward = Ward.objects.containing(latitude, longitude)
    if ward is None:
        raise ValidationError(
            {
                "latitude": _(
                    "That point is outside %(city)s's wards. Pick a place inside the city, "
                    "or close the issue if it is not the city's to fix."
                )
                % {"city": _city_name()}
            }
        )
    with transaction.atomic():
        locked = _lock(issue)
        _require_worker(by, locked)
        before = (locked.latitude, locked.longitude, locked.address, locked.ward)
        counted = rollups.state_of(locked)
        locked.latitude, locked.longitude = float(latitude), float(longitude)
        if address:
            locked.address = address
        locked.ward = ward
        locked.needs_triage = False
        locked.updated_at = timezone.now()
        locked.save(
            update_fields=[
                "latitude",
                "longitude",
                "address",
                "ward",
                "needs_triage",
                "updated_at",
            ]
        )
        rollups.issue_changed(before=counted, after=rollups.state_of(locked))
        Comment.objects.create(
            issue=locked,
            author=by,
            is_internal=True,
            body=_("Moved from %(old)s to %(lat).6f, %(lon).6f (%(ward)s).")
            % {
                "old": (
                    f"{before[0]:.6f}, {before[1]:.6f} ({before[3] or _('no ward')})"
                    if before[0] is not None
                    else before[2] or _("no point")
                ),
                "lat": locked.latitude,
                "lon": locked.longitude,
                "ward": ward,
            },
        )
    for field in ("latitude", "longitude", "address", "ward_id", "needs_triage", "updated_at"):
        setattr(issue, field, getattr(locked, field))
    issue._state.fields_cache.pop("ward", None)
    return locked


def reschedule_open_issues(*, service_type: ServiceType) -> int:
    """After a type's SLA hours change, open issues of that type take the new due time
    (reported time + new hours); closed and archived issues keep the due time they were judged
    by. With no SLA any more, open issues have no due time. Returns how many issues moved."""
    open_issues = Issue.objects.open().filter(service_type=service_type)
    with transaction.atomic():
        # The dashboards' rollup counts open issues by due day: uncount, move, count again.
        ids = list(open_issues.select_for_update().values_list("pk", flat=True))
        rollups.subtract_issues(ids)
        if not service_type.sla_hours:
            moved = open_issues.exclude(expected_at=None).update(expected_at=None)
        else:
            due = ExpressionWrapper(
                F("requested_at") + timedelta(hours=service_type.sla_hours),
                output_field=DateTimeField(),
            )
            moved = open_issues.update(expected_at=due)
        rollups.add_issues(ids)
    return moved


def add_comment(*, issue: Issue, author, body: str, internal: bool = False) -> Comment:
    """A public comment (anyone signed in) or an internal note (staff of the issue only)."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    if len(body) > DESCRIPTION_MAX:
        raise ValidationError(
            {"body": _("Comments can be at most %(max)d characters.") % {"max": DESCRIPTION_MAX}}
        )
    if internal and not roles.can_work_issue(author, issue):
        raise PermissionDenied(_("Only the issue's department can write internal notes."))
    with transaction.atomic():
        comment = Comment.objects.create(
            issue=issue, author=author, body=body, is_internal=internal
        )
        if not internal:
            Issue.objects.filter(pk=issue.pk).update(updated_at=comment.created_at)
            notifications.queue_event(
                NotificationEvent.COMMENT_ADDED, issue=issue, actor=author, comment=comment
            )
    return comment


def set_hidden(*, target, hidden: bool, by, reason: str = "") -> None:
    """Moderation: hide or show an issue, a comment or a photo. Hidden things vanish from every
    public page, the API and exports, and stay visible to staff."""
    if not isinstance(target, Issue | Comment | Photo):
        raise ValidationError(_("Only issues, comments and photos can be hidden."))
    issue = target if isinstance(target, Issue) else target.issue
    _require_worker(by, issue)
    reason = (reason or "").strip()
    if hidden and not reason:
        raise ValidationError({"reason": _("Say why it is hidden.")})
    if len(reason) > 255:
        raise ValidationError({"reason": _("Keep the reason under 255 characters.")})
    with transaction.atomic():
        # The dashboards' rollup counts public issues only: read what it counted under a lock.
        counted = rollups.state_of(_lock(target)) if isinstance(target, Issue) else None
        target.is_hidden = hidden
        target.hidden_reason = reason if hidden else ""
        target.save(update_fields=["is_hidden", "hidden_reason"])
        if counted is not None:
            rollups.issue_changed(before=counted, after=counted._replace(is_hidden=hidden))
        # A moderation is a change of the issue's public face: caches keyed on updated_at
        # (dashboards) and feed readers asking for updated issues must see it at once.
        Issue.objects.filter(pk=issue.pk).update(updated_at=timezone.now())


def add_vote(*, issue: Issue, user) -> bool:
    """ "I have this too". Returns False when the user had already voted."""
    try:
        with transaction.atomic():
            Vote.objects.create(issue=issue, user=user)
            Issue.objects.filter(pk=issue.pk).update(vote_count=F("vote_count") + 1)
    except IntegrityError:
        return False
    issue.refresh_from_db(fields=["vote_count"])
    return True


def remove_vote(*, issue: Issue, user) -> bool:
    with transaction.atomic():
        deleted, _ = Vote.objects.filter(issue=issue, user=user).delete()
        if deleted:
            Issue.objects.filter(pk=issue.pk).update(vote_count=F("vote_count") - 1)
    issue.refresh_from_db(fields=["vote_count"])
    return bool(deleted)


def follow_issue(*, issue: Issue, user=None, email: str = "") -> Subscription:
    return _subscribe(issue=issue, user=user, email=email)


def watch_ward(*, ward: Ward, user=None, email: str = "") -> Subscription:
    return _subscribe(ward=ward, user=user, email=email)


def _subscribe(*, issue=None, ward=None, user=None, email: str = "") -> Subscription:
    if user is not None:
        lookup = {"user": user}
    else:
        email = (email or "").strip().lower()
        if not email:
            raise ValidationError({"email": _("An email address is needed to follow.")})
        lookup = {"user": None, "email": email}
    subscription, _created = Subscription.objects.get_or_create(issue=issue, ward=ward, **lookup)
    return subscription


def unfollow(*, subscription: Subscription) -> None:
    subscription.delete()


def unfollow_issue(*, issue: Issue, user) -> int:
    deleted, _ = Subscription.objects.filter(issue=issue, user=user).delete()
    return deleted


def unwatch_ward(*, ward: Ward, user) -> int:
    deleted, _ = Subscription.objects.filter(ward=ward, user=user).delete()
    return deleted


def bulk_change_status(
    *, issues: Iterable[Issue], to: str, by, message: str = ""
) -> tuple[list[Issue], list[tuple[Issue, str]]]:
    """Apply change_status to many issues; each succeeds or fails on its own (its own
    transaction, its own notifications), so one refusal never undoes the others.
    Returns (changed, [(issue, reason), ...])."""
    return _each(issues, lambda issue: change_status(issue=issue, to=to, by=by, message=message))


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


def _refresh(stale: Issue, fresh: Issue) -> None:
    """Bring the caller's instance up to date without another query."""
    for field in (
        "status",
        "updated_at",
        "closed_at",
        "status_notes",
        "department_id",
        "assignee_id",
        "followup_sent_at",
    ):
        setattr(stale, field, getattr(fresh, field))
    for cached in ("department", "assignee"):
        stale._state.fields_cache.pop(cached, None)
