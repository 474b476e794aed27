"""Writes on departments, wards and the catalogue that carry consequences beyond one row.

Writes that also touch issues (a type's new SLA, a member leaving, a ward deleted) are issues
services (issues/services/catalogue.py): they call these for the catalogue's part.

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
from departments.models import Department, Ward


def _forget_roles(user: User) -> None:
    # roles caches memberships on the user object; a changed membership must be seen at once.
    for cached in ("_department_ids", "_supervised_ids", "_ward_ids"):
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


def leave_department(*, department: Department, user: User) -> None:
    """Take `user` out of `department`'s staff, and out of the workbench if that was their last
    role. What they were assigned there is the issues' business: issues.services.remove_staff
    calls this and hands their issues back to the queue."""
    with transaction.atomic():
        department.staff.remove(user)
        revoke_admin_access_if_roleless(user)


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
