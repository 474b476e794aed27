"""What residents add to a report: comments (and staff's internal notes) and votes."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts import roles
from accounts.text import clean_text
from departments.translations import in_city_language
from issues.models import (
    CLOSED_STATUSES,
    DESCRIPTION_MAX,
    Comment,
    Issue,
    NotificationEvent,
    Photo,
    UpdateKind,
    Vote,
)
from issues.notify.events import queue_event
from issues.photos import PreparedPhoto, attach_files
from issues.selectors.moderation import is_banned
from issues.upstream import outbox


def _banned_reason() -> str:
    """Stored for the moderators (in_city_language)."""
    with in_city_language():
        return _("Banned sender")


def add_comment(
    *,
    issue: Issue,
    author,
    body: str,
    internal: bool = False,
    kind: str = UpdateKind.COMMENT,
    photos: Sequence[PreparedPhoto] = (),
) -> Comment:
    """A public comment (anyone signed in) or an internal note (staff of the issue only).
    A resident's update of a `kind` ("still there", "it's fixed") may have no text, and may
    carry photos (prepared by issues/photos.py), stored with it and hidden with it."""
    body = clean_text(body)  # once, where text enters (docs/security.md)
    if not body and not kind:
        raise ValidationError({"body": _("Write something first.")})
    if len(body) > DESCRIPTION_MAX:
        raise ValidationError(
            {"body": _("Comments can be at most %(max)d characters.") % {"max": DESCRIPTION_MAX}}
        )
    speaks_for_city = roles.can_work_issue(author, issue)
    if internal and not speaks_for_city:
        raise PermissionDenied(_("Only the issue's department can write internal notes."))
    # A banned account's update is kept for staff, hidden, and nobody is told (issue 20).
    banned = not internal and is_banned(user=author)
    with transaction.atomic():
        comment = Comment.objects.create(
            issue=issue,
            author=author,
            body=body,
            kind=kind if not internal else UpdateKind.COMMENT,
            is_internal=internal,
            is_hidden=banned,
            hidden_reason=_banned_reason() if banned else "",
            # A public reply by the department's staff speaks for the department: the public
            # sees its name with an "official" mark, never the staffer's (docs/residents.md).
            official_department_id=issue.department_id
            if speaks_for_city and not internal
            else None,
        )
        for prepared in photos if not internal else ():
            photo = Photo(
                issue=issue,
                comment=comment,
                uploaded_by=author,
                size=len(prepared.image),
                is_hidden=banned,
            )
            attach_files(photo, prepared)
            photo.save()
        if not internal:
            Issue.objects.filter(pk=issue.pk).update(updated_at=comment.created_at)
            queue_event(NotificationEvent.COMMENT_ADDED, issue=issue, actor=author, comment=comment)
            outbox.queue_update(issue=issue, comment=comment)
    return comment


def add_resident_update(
    *, issue: Issue, author, kind: str, body: str = "", photos: Sequence[PreparedPhoto] = ()
) -> Comment:
    """ "Still there" (on an open or a closed report) or "it's fixed" (on an open one), with an
    optional note and photo. Neither changes the status: the followers are emailed as for a
    comment, and staff see it in the history and decide (a reporter who wants a closed report
    reopened uses the reopen button or the closing email's link)."""
    if kind not in (UpdateKind.STILL_THERE, UpdateKind.FIXED):
        raise ValidationError({"kind": _("Say whether it is still there or fixed.")})
    if kind == UpdateKind.FIXED and issue.status in CLOSED_STATUSES:
        raise ValidationError({"kind": _("This report is already closed.")})
    return add_comment(issue=issue, author=author, body=body, kind=kind, photos=photos)


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
