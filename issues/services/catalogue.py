"""Catalogue changes that reach into issues: a type's new expected response time, a member
leaving a department, wards deleted. The catalogue's own part is departments/services.py; these add
what follows for the issues, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.utils import timezone

from accounts.models import User
from departments import services as catalogue
from departments.models import Department, ServiceType, Ward
from issues.dashboards import recount, rollups
from issues.models import Issue, StaffChange


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


def set_sla_hours(*, service_type: ServiceType, hours: int | None) -> int:
    """Change a type's expected response time. Open issues of the type follow the new promise
    (`reschedule_open_issues`); returns how many were rescheduled."""
    catalogue.check_sla_hours(hours)
    with transaction.atomic():
        service_type.sla_hours = hours
        service_type.save(update_fields=["sla_hours"])
        return reschedule_open_issues(service_type=service_type)


def remove_staff(*, department: Department, user: User, by: User | None = None) -> None:
    """Take `user` out of `department`. Issues they were assigned there go back to the
    department's unassigned queue rather than staying with someone who no longer sees them;
    each issue's staff-only history says so, as for any other change of assignee."""
    with transaction.atomic():
        catalogue.leave_department(department=department, user=user)
        theirs = Issue.objects.select_for_update().filter(department=department, assignee=user)
        freed = list(theirs.only("pk", "assignee_id"))
        if not freed:
            return
        now = timezone.now()
        Issue.objects.filter(pk__in=[i.pk for i in freed]).update(assignee=None, updated_at=now)
        for issue in freed:
            issue.assignee_id = None
        StaffChange.objects.bulk_create(
            StaffChange.of_assignee(issue, from_assignee_id=user.pk, by=by, at=now)
            for issue in freed
        )


def set_staff(*, department: Department, users: Iterable[User], by: User | None = None) -> None:
    """Make the department's staff exactly `users` (the admin's membership picker)."""
    wanted = {u.pk: u for u in users}
    current = {u.pk: u for u in department.staff.all()}
    for pk, user in wanted.items():
        if pk not in current:
            catalogue.add_staff(department=department, user=user)
    for pk, user in current.items():
        if pk not in wanted:
            remove_staff(department=department, user=user, by=by)


def delete_wards(wards: Iterable[Ward]) -> int:
    """Delete wards. Their issues stay, in no ward (for triage), and the dashboards' counters
    move them to "no ward" in the same transaction. Returns how many wards were deleted."""
    with transaction.atomic():
        ids = [ward.pk for ward in wards]
        for ward in Ward.objects.filter(pk__in=ids):
            ward.delete()
        recount.rebuild_for_wards([*ids, None])
    return len(ids)
