"""Anonymous reports that wait for an emailed confirmation (service types marked
`confirm_anonymous`): created hidden by reports.create_issue, published here when the link is
followed (then, and only then, the department, watchers and alerts hear of it and it goes to the
city's system), and deleted by beat when never confirmed."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from issues.models import UNCONFIRMED, Issue, NotificationEvent, Photo
from issues.notify.events import queue_event
from issues.services.reports import set_hidden
from issues.services.workflow import lock_issue
from issues.upstream import outbox


def is_awaiting(issue: Issue) -> bool:
    return issue.is_hidden and issue.withheld == UNCONFIRMED


def confirm_report(*, issue: Issue) -> bool:
    """Publish a report waiting for its confirmation; False if it was not waiting (confirmed
    already, or hidden by a moderator since: a link never overrides moderation)."""
    with transaction.atomic():
        locked = lock_issue(issue)
        if not is_awaiting(locked):
            return False
        set_hidden(target=locked, hidden=False, by=None)
        locked.refresh_from_db()
        queue_event(NotificationEvent.ISSUE_CREATED, issue=locked)
        outbox.queue_report(locked)
    issue.refresh_from_db()
    return True


def expire_unconfirmed(now: datetime | None = None) -> int:
    """Delete the reports never confirmed within REPORT_CONFIRM_HOURS. They were never public
    nor counted (the dashboards count public reports only)."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.REPORT_CONFIRM_HOURS)
    stale = Issue.objects.filter(is_hidden=True, withheld=UNCONFIRMED, requested_at__lt=cutoff)
    # A queryset delete skips Issue.delete and the rollup: safe, since nothing counted them. It
    # would leave the photos' files in the store, though, and a report nobody confirmed must not
    # outlive its rows there either, so their names are taken first and removed once committed.
    photos = Photo.objects.filter(issue__in=stale).values_list("image", "thumbnail")
    with transaction.atomic():
        names = [name for pair in photos for name in pair if name]
        _, per_model = stale.delete()
        transaction.on_commit(lambda: _remove_files(names))
    return per_model.get(Issue._meta.label, 0)


def _remove_files(names: list[str]) -> None:
    storage = Photo._meta.get_field("image").storage
    for name in names:
        with contextlib.suppress(OSError):
            storage.delete(name)
