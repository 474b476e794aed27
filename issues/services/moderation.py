"""Safety and moderation (issue 20): what a new report's type or sender keeps from the public,
releasing held reports, abuse reports from the public, the ban list, and mending what was
published (editing text, removing a name, redacting a photo) instead of hiding it.

Every step here is logged as a ModerationAction (who, when, why), shown to staff on the issue."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from departments.models import ServiceType
from issues.dashboards import rollups
from issues.models import (
    DESCRIPTION_MAX,
    AbuseReason,
    AbuseReport,
    Ban,
    Comment,
    Issue,
    ModerationAction,
    ModerationKind,
    Photo,
)
from issues.photos import attach_files, private_storage, redact_image
from issues.selectors.moderation import BANNER_CACHE_KEY, banner_schedule, is_banned
from issues.services.workflow import lock_issue, require_worker

REASON_MAX = 255


def stop_instruction(service_type: ServiceType) -> str:
    """What a refused emergency type tells the sender to do instead, for every door's error."""
    text = service_type.notice.strip() or _("Please call 911.")
    if service_type.notice_link:
        text = f"{text} {service_type.notice_link}"
    return _("%(type)s is not reported here. %(instruction)s") % {
        "type": service_type.name,
        "instruction": text,
    }


def withheld_for(*, service_type: ServiceType, reporter=None, reporter_email: str = "") -> str:
    """Why a new report is kept from the public from the start: "banned" (its sender is on the
    ban list, and is not told), "private" or "held" (its type), or "" (public at once)."""
    if is_banned(user=reporter, email=reporter_email):
        return "banned"
    if service_type.publication in ("private", "held"):
        return service_type.publication
    return ""


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": _("Say why.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason under 255 characters.")})
    return reason


def _require_moderator(by) -> None:
    if by is None or not roles.can_work_queue(by):
        raise PermissionDenied(_("Only staff moderate."))


def log_action(
    *, issue: Issue, kind: str, by, reason: str = "", before: str = "", after: str = "", **targets
) -> ModerationAction:
    return ModerationAction.objects.create(
        issue=issue, kind=kind, by=by, reason=reason, before=before, after=after, **targets
    )


def release_issues(*, issues: Iterable[Issue], by, reason: str = "") -> int:
    """Publish held reports (a held type's, or a banned sender's a moderator judged fine).
    A private type's report is never released: it stays for staff. Returns how many."""
    reason = _reason(reason, required=False)
    released = 0
    for issue in issues:
        if not issue.is_hidden or issue.withheld == "private":
            continue
        require_worker(by, issue)
        with transaction.atomic():
            locked = lock_issue(issue)
            counted = rollups.state_of(locked)
            locked.is_hidden = False
            locked.hidden_reason = ""
            locked.withheld = ""
            locked.updated_at = timezone.now()
            locked.save(update_fields=["is_hidden", "hidden_reason", "withheld", "updated_at"])
            rollups.issue_changed(before=counted, after=rollups.state_of(locked))
            log_action(issue=locked, kind=ModerationKind.RELEASE, by=by, reason=reason)
        released += 1
    return released


def hide_issues(*, issues: Iterable[Issue], by, reason: str) -> int:
    """Hide several issues at once (the queue's bulk action), each logged."""
    reason = _reason(reason, required=True)
    hidden = 0
    for issue in issues:
        if issue.is_hidden:
            continue
        require_worker(by, issue)
        with transaction.atomic():
            locked = lock_issue(issue)
            counted = rollups.state_of(locked)
            locked.is_hidden = True
            locked.hidden_reason = reason
            locked.updated_at = timezone.now()
            locked.save(update_fields=["is_hidden", "hidden_reason", "updated_at"])
            rollups.issue_changed(before=counted, after=rollups.state_of(locked))
            log_action(issue=locked, kind=ModerationKind.HIDE, by=by, reason=reason)
        hidden += 1
    return hidden


def report_abuse(
    *,
    issue: Issue,
    reason: str,
    details: str = "",
    comment: Comment | None = None,
    photo: Photo | None = None,
    sent_by=None,
) -> AbuseReport:
    """Someone asks the moderators to look at a public report, update or photo. Only what is
    public can be reported (a hidden thing is not there to see)."""
    if reason not in AbuseReason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    details = (details or "").strip()
    if len(details) > 1000:
        raise ValidationError({"details": _("Keep it under 1,000 characters.")})
    if "\x00" in details:
        raise ValidationError({"details": _("Null characters are not allowed.")})
    if issue.is_hidden:
        raise ValidationError(_("That report is not public."))
    if comment is not None and (
        comment.issue_id != issue.pk or comment.is_hidden or comment.is_internal
    ):
        raise ValidationError(_("That update is not public."))
    if photo is not None and (photo.issue_id != issue.pk or photo.is_hidden):
        raise ValidationError(_("That photo is not public."))
    return AbuseReport.objects.create(
        issue=issue,
        comment=comment,
        photo=photo,
        reason=reason,
        details=details,
        sent_by=sent_by if sent_by is not None and sent_by.is_authenticated else None,
    )


def resolve_abuse(*, reports: Iterable[AbuseReport], by, reason: str = "") -> int:
    """Close abuse reports once looked at (whatever was done about them), each logged."""
    _require_moderator(by)
    reason = _reason(reason, required=False)
    done = 0
    now = timezone.now()
    for report in reports:
        if report.resolved_at is not None:
            continue
        with transaction.atomic():
            report.resolved_at, report.resolved_by = now, by
            report.save(update_fields=["resolved_at", "resolved_by"])
            log_action(
                issue=report.issue,
                kind=ModerationKind.RESOLVE_ABUSE,
                by=by,
                reason=reason or report.get_reason_display(),
                comment=report.comment,
                photo=report.photo,
            )
        done += 1
    return done


def ban_sender(*, by, reason: str, user=None, email: str = "", issue: Issue | None = None) -> Ban:
    """Put a sender on the ban list: their new reports are kept for staff only. Reports they
    already sent are not touched (a moderator hides those one by one, if they must go)."""
    _require_moderator(by)
    reason = _reason(reason, required=True)
    email = (email or "").strip().lower()
    if user is None and not email:
        raise ValidationError(_("Name an account or an email address to ban."))
    with transaction.atomic():
        ban = Ban.objects.create(user=user, email=email, reason=reason, created_by=by)
        if issue is not None:
            log_action(issue=issue, kind=ModerationKind.BAN, by=by, reason=reason, after=str(ban))
    return ban


def edit_public_text(*, target: Issue | Comment, text: str, by, reason: str) -> None:
    """Mend a report's description or an update's text (a phone number, a name) instead of
    hiding it: the original stays in the log for staff, the public sees "edited by moderator"."""
    if not isinstance(target, Issue | Comment):
        raise ValidationError(_("Only a report's or an update's text can be edited."))
    issue = target if isinstance(target, Issue) else target.issue
    require_worker(by, issue)
    _require_moderator(by)
    reason = _reason(reason, required=True)
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError({"text": _("At most %(max)d characters.") % {"max": DESCRIPTION_MAX}})
    if "\x00" in text:
        raise ValidationError({"text": _("Null characters are not allowed.")})
    field = "description" if isinstance(target, Issue) else "body"
    if isinstance(target, Comment) and not text:
        raise ValidationError({"text": _("An update cannot be empty; hide it instead.")})
    with transaction.atomic():
        before = getattr(target, field)
        if before == text:
            return
        setattr(target, field, text)
        target.edited_by_moderator = True
        target.save(update_fields=[field, "edited_by_moderator"])
        Issue.objects.filter(pk=issue.pk).update(updated_at=timezone.now())
        log_action(
            issue=issue,
            kind=ModerationKind.EDIT_TEXT,
            by=by,
            reason=reason,
            before=before,
            after=text,
            comment=target if isinstance(target, Comment) else None,
        )


def remove_reporter_name(*, issue: Issue, by, reason: str) -> None:
    """Show the reporter as "a resident" publicly from now on; the city still knows who."""
    require_worker(by, issue)
    _require_moderator(by)
    reason = _reason(reason, required=True)
    with transaction.atomic():
        before = issue.public_reporter_name
        issue.hide_reporter_name = True
        issue.edited_by_moderator = True
        issue.save(update_fields=["hide_reporter_name", "edited_by_moderator"])
        log_action(
            issue=issue, kind=ModerationKind.REMOVE_NAME, by=by, reason=reason, before=before
        )


def redact_photo(
    *, photo: Photo, boxes: Sequence[tuple[int, int, int, int]], by, reason: str
) -> Photo:
    """Fill boxes (x, y, width, height in the stored image's pixels) of a photo with black and
    serve the re-encoded result under a new name. The unredacted file leaves the public media
    store: kept in the private store for staff, or deleted when
    settings.MODERATION_KEEP_ORIGINALS is off."""
    require_worker(by, photo.issue)
    _require_moderator(by)
    reason = _reason(reason, required=True)
    with photo.image.open("rb") as handle:
        data = handle.read()
    prepared = redact_image(data, boxes)
    old_names = [photo.image.name, photo.thumbnail.name]
    stored_original = ""
    if settings.MODERATION_KEEP_ORIGINALS and not photo.original_name:
        stored_original = private_storage().save(f"originals/{photo.pk}.jpg", ContentFile(data))
    try:
        with transaction.atomic():
            attach_files(photo, prepared)
            if stored_original:
                photo.original_name = stored_original
            photo.size = len(prepared.image)
            photo.edited_by_moderator = True
            photo.save()
            log_action(
                issue=photo.issue,
                kind=ModerationKind.REDACT_PHOTO,
                by=by,
                reason=reason,
                after=", ".join(f"{x},{y},{w},{h}" for x, y, w, h in boxes),
                photo=photo,
            )
    except BaseException:
        if stored_original:
            with contextlib.suppress(OSError):
                private_storage().delete(stored_original)
        raise

    def _delete_old() -> None:
        # The unredacted public files go once the redaction is committed: their URLs must
        # stop answering.
        for name in old_names:
            with contextlib.suppress(OSError):
                photo.image.storage.delete(name)

    transaction.on_commit(_delete_old)
    return photo


def refresh_banners() -> None:
    """Write the banner schedule to the cache that every page reads it from."""
    cache.set(BANNER_CACHE_KEY, banner_schedule(), timeout=None)
