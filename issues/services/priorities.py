"""A person sets an issue's priority in the workbench (a routing rule sets it on creation and on
a change of type: issues/services/routing.py). Internal: recorded in the staff-only history."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from departments.models import Priority
from issues.models import Issue, StaffChange
from issues.services.workflow import lock_issue, refresh_issue, require_worker


def set_priority(*, issue: Issue, priority: str, by) -> Issue:
    """Give the issue another priority; the history says who, from what, to what."""
    if priority not in Priority.values:
        raise ValidationError({"priority": _("“%(p)s” is not a priority.") % {"p": priority}})
    with transaction.atomic():
        locked = lock_issue(issue)
        require_worker(by, locked)
        if locked.priority == priority:
            return locked
        before = locked.priority
        locked.priority = priority
        locked.save(update_fields=["priority"])
        StaffChange.of_priority(locked, from_priority=before, by=by).save()
    refresh_issue(issue, locked)
    return locked
