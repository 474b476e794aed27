"""Writes on departments, wards and the catalogue that carry consequences beyond one row.

Membership is a role (accounts/roles.py): putting someone in a department makes them staff, and
staff need `is_staff` to sign in to the workbench at all. These functions keep the two in step, so
nobody is a department member who cannot sign in, and nobody keeps workbench access after their
last department or ward is taken away.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import User
from departments.models import Department, ServiceType, Ward


def _forget_roles(user: User) -> None:
    # roles caches memberships on the user object; a changed membership must be seen at once.
    for cached in ("_department_ids", "_ward_ids"):
        if hasattr(user, cached):
            delattr(user, cached)


def grant_admin_access(user: User) -> None:
    """Let a staff member or alderman sign in to the workbench."""
    if not user.is_active:
        raise ValidationError(
            _("%(who)s is deactivated; reactivate the account first.") % {"who": user}
        )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def revoke_admin_access_if_roleless(user: User) -> None:
    """Take workbench access away from someone who no longer holds any role there."""
    _forget_roles(user)
    if user.is_staff and not roles.needs_admin_access(user):
        user.is_staff = False
        user.save(update_fields=["is_staff"])


def add_staff(*, department: Department, user: User) -> None:
    """Make `user` staff of `department`, with access to the workbench."""
    with transaction.atomic():
        grant_admin_access(user)
        department.staff.add(user)
        _forget_roles(user)


def remove_staff(*, department: Department, user: User) -> None:
    """Take `user` out of `department`. Issues they were assigned there go back to the
    department's unassigned queue rather than staying with someone who no longer sees them."""
    from issues.models import Issue

    with transaction.atomic():
        department.staff.remove(user)
        Issue.objects.filter(department=department, assignee=user).update(assignee=None)
        revoke_admin_access_if_roleless(user)


def set_staff(*, department: Department, users: Iterable[User]) -> None:
    """Make the department's staff exactly `users` (the admin's membership picker)."""
    wanted = {u.pk: u for u in users}
    current = {u.pk: u for u in department.staff.all()}
    for pk, user in wanted.items():
        if pk not in current:
            add_staff(department=department, user=user)
    for pk, user in current.items():
        if pk not in wanted:
            remove_staff(department=department, user=user)


def set_aldermen(*, ward: Ward, users: Iterable[User]) -> None:
    """Make the ward's aldermen exactly `users`; they get (or lose) read access to the workbench."""
    wanted = {u.pk: u for u in users}
    with transaction.atomic():
        current = {u.pk: u for u in ward.aldermen.all()}
        for pk, user in wanted.items():
            if pk not in current:
                grant_admin_access(user)
                ward.aldermen.add(user)
                _forget_roles(user)
        for pk, user in current.items():
            if pk not in wanted:
                ward.aldermen.remove(user)
                revoke_admin_access_if_roleless(user)


def check_sla_hours(hours: int | None) -> None:
    """An expected response time is some hours, or none at all; zero would make every new
    issue overdue the moment it is reported."""
    if hours is not None and hours <= 0:
        raise ValidationError(
            {"sla_hours": _("Give a number of hours above zero, or leave it empty.")}
        )


def set_sla_hours(*, service_type: ServiceType, hours: int | None) -> int:
    """Change a type's expected response time. Open issues of the type follow the new promise
    (see issues.services.reschedule_open_issues); returns how many were rescheduled."""
    from issues import services as issue_services

    check_sla_hours(hours)
    with transaction.atomic():
        service_type.sla_hours = hours
        service_type.save(update_fields=["sla_hours"])
        return issue_services.reschedule_open_issues(service_type=service_type)
