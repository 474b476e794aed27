"""What residents add to a report: comments (and staff's internal notes) and votes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts import roles
from accounts.text import clean_text
from issues.models import DESCRIPTION_MAX, Comment, Issue, NotificationEvent, Vote
from issues.notify.events import queue_event
from issues.selectors.moderation import is_banned
from issues.upstream import outbox


def add_comment(*, issue: Issue, author, body: str, internal: bool = False) -> Comment:
    """A public comment (anyone signed in) or an internal note (staff of the issue only)."""
    body = clean_text(body)  # once, where text enters (docs/security.md)
    if not body:
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
            is_internal=internal,
            is_hidden=banned,
            hidden_reason=_("Banned sender") if banned else "",
            # A public reply by the department's staff speaks for the department: the public
            # sees its name with an "official" mark, never the staffer's (docs/residents.md).
            official_department_id=issue.department_id
            if speaks_for_city and not internal
            else None,
        )
        if not internal:
            Issue.objects.filter(pk=issue.pk).update(updated_at=comment.created_at)
            queue_event(NotificationEvent.COMMENT_ADDED, issue=issue, actor=author, comment=comment)
            outbox.queue_update(issue=issue, comment=comment)
    return comment


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
