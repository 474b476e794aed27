"""Merging a duplicate into the request it repeats.

`mark_duplicate` closes the duplicate (resolution "duplicate", through the one status-change
service), moves its reporter and followers onto the original and its votes across, in one
transaction. The close email is the one message they get: they are moved after it is queued, so
nobody hears twice. Both rows are locked in id order first, so two staff merging the same pair (or
A into B while B goes into A) serialise: the second finds its issue already closed and is refused,
and no follower or vote moves twice.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from issues.models import Issue, Resolution, Status, StatusChange, Subscription, Vote
from issues.services.workflow import change_status, require_worker


def mark_duplicate(*, issue: Issue, original: Issue, by, message: str = "") -> StatusChange:
    """Close `issue` as a duplicate of `original` and merge its followers and votes there."""
    if original is None or original.pk is None:
        raise ValidationError({"original": _("Say which request this one repeats.")})
    if original.pk == issue.pk:
        raise ValidationError({"original": _("An issue cannot be its own duplicate.")})
    with transaction.atomic():
        # Both rows, in id order: two merges of the same pair cannot deadlock.
        locked = {
            row.pk: row
            for row in Issue.objects.select_for_update()
            .filter(pk__in=sorted([issue.pk, original.pk]))
            .order_by("pk")
        }
        dup, target = locked.get(issue.pk), locked.get(original.pk)
        if dup is None or target is None:
            raise ValidationError({"original": _("That request does not exist.")})
        require_worker(by, dup)
        if dup.status not in (Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS):
            raise ValidationError(
                _("%(id)s is already closed; reopen it first to mark it a duplicate.")
                % {"id": dup.public_id}
            )
        if target.duplicate_of_id is not None:
            raise ValidationError(
                {
                    "original": _(
                        "%(id)s is itself a duplicate of another request: mark this one a "
                        "duplicate of that one."
                    )
                    % {"id": target.public_id}
                }
            )
        if target.is_hidden:
            raise ValidationError({"original": _("That request is hidden from the public.")})
        change = change_status(
            issue=dup,
            to=Status.CLOSED,
            by=by,
            message=message,
            resolution=Resolution.DUPLICATE,
            duplicate_of=target,
        )
        _move_followers(dup, target)
        _move_votes(dup, target)
    issue.status, issue.resolution, issue.duplicate_of_id = dup.status, dup.resolution, target.pk
    issue.closed_at, issue.updated_at = dup.closed_at, dup.updated_at
    issue.vote_count = 0
    original.vote_count = Issue.objects.values_list("vote_count", flat=True).get(pk=target.pk)
    return change


def _move_followers(dup: Issue, target: Issue) -> None:
    """The duplicate's followers follow the original (once each). The reporter follows their
    report from the start (issues/services/reports.py), so moves with them; one who had
    unfollowed asked not to be mailed, and is not signed up again."""
    users = set(
        Subscription.objects.filter(issue=target, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    emails = {
        e.lower()
        for e in Subscription.objects.filter(issue=target, user__isnull=True).values_list(
            "email", flat=True
        )
    }
    new = []
    for sub in Subscription.objects.filter(issue=dup).order_by("pk"):
        if sub.user_id and sub.user_id not in users:
            users.add(sub.user_id)
            new.append(Subscription(user_id=sub.user_id, issue=target, language=sub.language))
        elif not sub.user_id and sub.email.lower() not in emails:
            emails.add(sub.email.lower())
            new.append(Subscription(email=sub.email, issue=target, language=sub.language))
    Subscription.objects.bulk_create(new)
    Subscription.objects.filter(issue=dup).delete()


def _move_votes(dup: Issue, target: Issue) -> None:
    """Each vote moves across unless its person already voted for the original. The counts are
    set from the rows, so they cannot drift from them."""
    voted = set(Vote.objects.filter(issue=target).values_list("user_id", flat=True))
    movers = [v.pk for v in Vote.objects.filter(issue=dup).order_by("pk") if v.user_id not in voted]
    Vote.objects.filter(pk__in=movers).update(issue=target)
    Vote.objects.filter(issue=dup).delete()
    Issue.objects.filter(pk=dup.pk).update(vote_count=0)
    Issue.objects.filter(pk=target.pk).update(vote_count=Vote.objects.filter(issue=target).count())
