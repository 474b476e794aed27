"""Reports: creating one (from the web form, the API, imports, staff taking a call), placing it
on the map, and hiding it (or one of its comments or photos) by moderation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

import issues.services.routing as routing
from accounts.text import clean_text
from departments.attributes import clean_attribute_answers
from departments.models import Asset, Department, Priority, ServiceType, Ward
from departments.translations import translated
from issues.dashboards import rollups
from issues.models import (
    AWAITING_CONFIRMATION,
    DESCRIPTION_MAX,
    UNCONFIRMED,
    Comment,
    Issue,
    ModerationKind,
    NotificationEvent,
    Photo,
    Source,
    Status,
    StatusChange,
)
from issues.notify.confirmations import queue_report_confirmation
from issues.notify.events import queue_event
from issues.notify.subscriptions import follow_issue
from issues.photos import PreparedPhoto, store_photo
from issues.services.geocoding import locate_address, note_for_staff
from issues.services.moderation import log_action, stop_instruction, withheld_for
from issues.services.workflow import as_utc, lock_issue, require_worker
from issues.upstream import outbox


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
    asset: Asset | None = None,
) -> Issue:
    """Create a report, routed to its department and ward.

    `attributes` are the raw answers {code: [values]} and are validated against the type's
    attributes. A point in no ward is refused when `require_ward` (the resident form) and otherwise
    kept, flagged for triage. Raises ValidationError with per-field messages.
    """
    description, address, reporter_name, reporter_phone, zipcode, attributes = _cleaned(
        description, address, reporter_name, reporter_phone, zipcode, attributes
    )
    latitude, longitude, address, located = _place(asset, latitude, longitude, address)
    texts = {
        "description": description,
        "address_string": address,
        "name": reporter_name,
        "email": reporter_email,
        "phone": reporter_phone,
        "zipcode": zipcode,
        "media_url": media_url,
    }
    errors = _report_errors(service_type, latitude, longitude, texts, asset)
    answers = _attribute_answers(service_type, attributes, errors)
    awaiting = _awaits_confirmation(service_type, reporter, source)
    _check_reporter_email(errors, reporter=reporter, email=reporter_email, awaiting=awaiting)
    department, ward = route(service_type=service_type, latitude=latitude, longitude=longitude)
    if ward is None and latitude is not None and require_ward and located is None:
        errors.setdefault("location", []).append(_outside_city())
    if errors:
        raise ValidationError(errors)

    requested_at = as_utc(requested_at or timezone.now())
    with transaction.atomic():
        issue = _unsaved_issue(
            service_type=service_type,
            department=department,
            ward=ward,
            latitude=latitude,
            longitude=longitude,
            address=address,
            zipcode=zipcode,
            description=description,
            attributes=answers,
            asset=asset,
            reporter=reporter,
            reporter_name=reporter_name,
            reporter_email=reporter_email,
            reporter_phone=reporter_phone,
            hide_reporter_name=hide_reporter_name,
            source=source,
            media_url=media_url,
            requested_at=requested_at,
        )
        # The department's rules give it out before it is saved (a team's turn is taken under
        # the team's row lock, before the rollup's rows are locked, always in that order).
        routed = routing.decide(issue) if source != Source.IMPORT else routing.Routing()
        routing.apply(issue, routed)
        _save_new(issue, awaiting=awaiting, photos=photos, located=located)
        routing.record(issue, routed, from_assignee_id=None, from_priority=Priority.NORMAL)
    return issue


def _cleaned(description: str, *lines_and_answers):
    """Text is cleaned once, here, whichever door it came through (docs/security.md); a NUL is
    kept, to be refused with a message by the validation."""
    *lines, attributes = lines_and_answers
    if attributes:
        attributes = {code: _clean_answers(values) for code, values in attributes.items()}
    return (
        clean_text(description, keep_nul=True),
        *(clean_text(text, multiline=False, keep_nul=True) for text in lines),
        attributes,
    )


def _place(asset: Asset | None, latitude, longitude, address: str):
    """The report's point: the asset's, the one given, or the typed address geocoded."""
    latitude, longitude, address = _asset_place(asset, latitude, longitude, address)
    # Only a typed address: placed by the geocoder, or kept for triage with the reason.
    located = locate_address(address) if latitude is None and longitude is None else None
    if located is not None:
        latitude, longitude = located.latitude, located.longitude
    return latitude, longitude, address, located


def _outside_city() -> str:
    return _("That point is outside %(city)s's wards. Please choose a place inside the city.") % {
        "city": settings.CITY_NAME
    }


def _save_new(issue: Issue, *, awaiting: bool, photos: Sequence[PreparedPhoto], located) -> None:
    """Save the new report with its photos and first events; or, awaiting confirmation, hidden
    with the confirmation link queued instead of the notices."""
    issue.expected_at = issue.sla_due()
    # Hidden until its address confirms; a report already hidden for another reason (held
    # for a moderator) keeps that reason, and the link then never publishes it.
    awaiting = awaiting and not issue.is_hidden
    if awaiting:
        issue.is_hidden, issue.withheld = True, UNCONFIRMED
        issue.hidden_reason = AWAITING_CONFIRMATION
    issue.save()
    _record_new(issue, photos=photos, notify=issue.source != Source.IMPORT and not awaiting)
    note_for_staff(issue, located)
    if awaiting:
        queue_report_confirmation(issue)


def _awaits_confirmation(service_type: ServiceType, reporter, source: str) -> bool:
    """Sensitive types publish an anonymous report only once its address confirms (issue 17)."""
    return bool(
        service_type.confirm_anonymous
        and not (reporter and reporter.is_authenticated)
        and source != Source.IMPORT
    )


def _check_reporter_email(
    errors: dict[str, list[str]], *, reporter, email: str, awaiting: bool
) -> None:
    """Add the reporter's email errors: too long, or missing where a confirmation link is sent."""
    if reporter is None and email and len(email) > 254:
        errors["email"] = [_("That email address is too long.")]
    if awaiting and not (email or "").strip():
        errors.setdefault("email", []).append(
            _("Reports of this kind need an email address: we send a link to confirm it.")
        )


def _unsaved_issue(
    *,
    service_type: ServiceType,
    department: Department,
    ward: Ward | None,
    latitude: float | None,
    longitude: float | None,
    address: str,
    zipcode: str,
    description: str,
    attributes,
    asset: Asset | None,
    reporter,
    reporter_name: str,
    reporter_email: str,
    reporter_phone: str,
    hide_reporter_name: bool,
    source: str,
    media_url: str,
    requested_at: datetime,
) -> Issue:
    """The new report's row, fields trimmed to their columns; a withheld one starts hidden."""
    withheld = withheld_for(
        service_type=service_type, reporter=reporter, reporter_email=reporter_email
    )
    return Issue(
        is_hidden=bool(withheld),
        withheld=withheld,
        service_type=service_type,
        department=department,
        ward=ward,
        needs_triage=ward is None,
        latitude=latitude,
        longitude=longitude,
        address=address.strip()[:255],
        zipcode=zipcode.strip()[:16],
        description=description,
        attributes=attributes,
        asset=asset,
        reporter=reporter if reporter and reporter.is_authenticated else None,
        reporter_name=reporter_name.strip()[:120],
        reporter_email=(reporter_email or "").strip().lower(),
        reporter_phone=reporter_phone.strip()[:40],
        hide_reporter_name=hide_reporter_name,
        reporter_language=get_language() or "",
        source=source,
        media_url=media_url[:500],
        requested_at=requested_at,
        updated_at=requested_at,
    )


def _clean_answers(values):
    if isinstance(values, str):
        return clean_text(values, multiline=False, keep_nul=True)
    return [
        clean_text(v, multiline=False, keep_nul=True) if isinstance(v, str) else v for v in values
    ]


def _asset_place(asset: Asset | None, latitude, longitude, address: str) -> tuple:
    """A report about an asset (a pole, a stop: one of its type's layer) is placed on the
    asset's point, so the crew goes to that one; its name stands in for a missing address."""
    if asset is None:
        return latitude, longitude, address
    return asset.latitude, asset.longitude, address or asset.name


def _report_errors(
    service_type: ServiceType,
    latitude: float | None,
    longitude: float | None,
    texts: dict[str, str],
    asset: Asset | None,
) -> dict[str, list[str]]:
    """What is wrong with a report before anything is stored, by field."""
    errors: dict[str, list[str]] = {}
    if asset is not None and asset.layer_id != service_type.asset_layer_id:
        errors["asset"] = [
            _("That is not something a %(type)s report can name.")
            % {"type": translated(service_type, "name")}
        ]
    if not service_type.active:
        errors["service_code"] = [_("This service type is no longer accepting reports.")]
    elif service_type.stops_reports:
        # An emergency type (a gas leak, a downed wire): refused on every door, with what to do.
        errors["service_code"] = [stop_instruction(service_type)]
    for field, message in _validate_location(latitude, longitude).items():
        errors.setdefault(field, []).append(message)
    if len(texts["description"]) > DESCRIPTION_MAX:
        errors["description"] = [
            _("The description is %(n)d characters; at most %(max)d are allowed.")
            % {"n": len(texts["description"]), "max": DESCRIPTION_MAX}
        ]
    for field, text in texts.items():
        if text and "\x00" in text:
            # PostgreSQL cannot store NUL in text; refuse it here so every door (form, API,
            # import) answers with a message instead of a database error.
            errors.setdefault(field, []).append(_("Null characters are not allowed."))
    if latitude is None and not texts["address_string"].strip():
        errors["location"] = [_("Say where the problem is: a point on the map or an address.")]
    return errors


def _attribute_answers(
    service_type: ServiceType,
    attributes: Mapping[str, Sequence[str]] | None,
    errors: dict[str, list[str]],
) -> dict:
    """The answers checked against the type's questions; their errors are added to `errors`."""
    try:
        return clean_attribute_answers(service_type, attributes or {})
    except ValidationError as exc:
        for code, messages in exc.message_dict.items():
            errors[f"attribute[{code}]"] = messages
        return {}


def _record_new(issue: Issue, *, photos: Sequence[PreparedPhoto], notify: bool) -> None:
    """What follows a new report inside its transaction: photos, the first step of its history,
    the reporter following it, the notifications, and the dashboards' counters."""
    for prepared in photos:
        store_photo(issue=issue, prepared=prepared, uploaded_by=issue.reporter)
    StatusChange.objects.create(
        issue=issue,
        from_status="",
        to_status=Status.OPEN,
        to_department=issue.department,
        changed_by=issue.reporter,
        created_at=issue.requested_at,
    )
    if issue.reporter_id:
        follow_issue(issue=issue, user=issue.reporter)
    elif issue.reporter_email:
        follow_issue(issue=issue, email=issue.reporter_email)
    if notify:
        queue_event(NotificationEvent.ISSUE_CREATED, issue=issue)
        outbox.queue_report(issue)
    # The dashboards' rollup, in the same transaction but last: every report in a ward updates
    # the same counter rows, and they stay locked until commit, so nothing slow (photo files)
    # may come after.
    rollups.issue_changed(before=None, after=rollups.state_of(issue))


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
                % {"city": settings.CITY_NAME}
            }
        )
    with transaction.atomic():
        locked = lock_issue(issue)
        require_worker(by, locked)
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


def set_hidden(*, target, hidden: bool, by, reason: str = "") -> None:
    """Moderation: hide or show an issue, a comment or a photo. Hidden things vanish from every
    public page, the API and exports, and stay visible to staff."""
    if not isinstance(target, Issue | Comment | Photo):
        raise ValidationError(_("Only issues, comments and photos can be hidden."))
    issue = target if isinstance(target, Issue) else target.issue
    require_worker(by, issue)
    reason = (reason or "").strip()
    if hidden and not reason:
        raise ValidationError({"reason": _("Say why it is hidden.")})
    if isinstance(target, Issue) and not hidden and target.withheld == "private":
        raise ValidationError(_("A report of a private type is never made public."))
    if len(reason) > 255:
        raise ValidationError({"reason": _("Keep the reason under 255 characters.")})
    with transaction.atomic():
        # The dashboards' rollup counts public issues only: read what it counted under a lock.
        counted = rollups.state_of(lock_issue(target)) if isinstance(target, Issue) else None
        target.is_hidden = hidden
        target.hidden_reason = reason if hidden else ""
        fields = ["is_hidden", "hidden_reason"]
        if (
            isinstance(target, Issue)
            and target.withheld
            and (not hidden or target.withheld == UNCONFIRMED)
        ):
            # Shown by a moderator: released, as release_issues does. Hidden by one while it
            # waited for its reporter's link: the moderator's reason now holds it, so the link
            # can no longer publish it.
            target.withheld = ""
            fields.append("withheld")
        target.save(update_fields=fields)
        log_action(
            issue=issue,
            kind=ModerationKind.HIDE if hidden else ModerationKind.SHOW,
            by=by,
            reason=reason,
            comment=target if isinstance(target, Comment) else None,
            photo=target if isinstance(target, Photo) else None,
        )
        if counted is not None:
            rollups.issue_changed(before=counted, after=counted._replace(is_hidden=hidden))
        # A moderation is a change of the issue's public face: caches keyed on updated_at
        # (dashboards) and feed readers asking for updated issues must see it at once.
        Issue.objects.filter(pk=issue.pk).update(updated_at=timezone.now())
