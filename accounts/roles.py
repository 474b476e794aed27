"""The one place that answers "who may do what". Roles come from relations:

- resident: any account (the default);
- staff: member of one or more departments (Department.staff);
- alderman: holds one or more wards (Ward.aldermen);
- admin: a superuser.

Views, the admin, the API and services all ask these functions; none checks flags itself.
"""

from __future__ import annotations

from typing import Protocol

from django.db.models import Exists, OuterRef, Q

from accounts.models import User


class Routed(Protocol):
    """What the role checks read of an issue: the department that works it and its ward. A
    protocol, not the model, because issues sit above accounts."""

    department_id: int
    ward_id: int | None


def is_admin(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def department_ids(user: User | None) -> set[int]:
    """Departments whose queue the user works (cached on the user object for the request)."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    if getattr(user, "_department_ids", None) is None:
        _load_departments(user)
    return user._department_ids


def _load_departments(user: User) -> None:
    """The departments the user works in and those they supervise, in one query for both (the
    workbench's every page asks both: its sidebar lists the routing rules)."""
    departments = user.departments.model  # reached through the relation: accounts sits below
    member = departments.staff.through.objects.filter(department_id=OuterRef("pk"), user=user)
    supervisor = departments.supervisors.through.objects.filter(
        department_id=OuterRef("pk"), user=user
    )
    rows = (
        departments.objects.annotate(member=Exists(member), supervises=Exists(supervisor))
        .filter(Q(member=True) | Q(supervises=True))
        .order_by()
        .values_list("id", "member", "supervises")
    )
    user._department_ids, user._supervised_ids = set(), set()
    for department_id, is_member, supervises in rows:
        if is_member:
            user._department_ids.add(department_id)
        if supervises:
            user._supervised_ids.add(department_id)


def ward_ids(user: User | None) -> set[int]:
    """Wards the user holds as alderman."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    cached = getattr(user, "_ward_ids", None)
    if cached is None:
        cached = set(user.wards.values_list("id", flat=True))
        user._ward_ids = cached
    return cached


def is_department_staff(user: User | None) -> bool:
    return bool(department_ids(user))


def is_alderman(user: User | None) -> bool:
    return bool(ward_ids(user))


def can_work_issue(user: User | None, issue: Routed) -> bool:
    """May change status, assign, transfer, add notes, moderate this issue."""
    return is_admin(user) or issue.department_id in department_ids(user)


def can_view_issue_in_admin(user: User | None, issue: Routed) -> bool:
    """May open the issue in the staff workbench (aldermen read their wards' issues)."""
    return can_work_issue(user, issue) or (
        issue.ward_id is not None and issue.ward_id in ward_ids(user)
    )


def visible_issues_for_staff(user: User | None, queryset):
    """The workbench queryset: everything for admins, own departments for staff, own wards
    (read-only) for aldermen, nothing for anyone else."""
    if is_admin(user):
        return queryset
    depts, wards = department_ids(user), ward_ids(user)
    if not depts and not wards:
        return queryset.none()
    return queryset.filter(Q(department_id__in=depts) | Q(ward_id__in=wards))


def needs_admin_access(user: User) -> bool:
    """Staff and aldermen sign in to the workbench; residents never do."""
    return is_admin(user) or is_department_staff(user) or is_alderman(user)


def can_work_queue(user: User | None) -> bool:
    """May act in the workbench at all (bulk actions, the work forms): admins and department
    staff. Aldermen read; residents never get in."""
    return is_admin(user) or is_department_staff(user)


def workable_issues(user: User | None, queryset):
    """The issues the user may change: all for admins, own departments for staff, none else."""
    if is_admin(user):
        return queryset
    depts = department_ids(user)
    if not depts:
        return queryset.none()
    return queryset.filter(department_id__in=depts)


def can_manage_catalogue(user: User | None) -> bool:
    """Departments, service types (and their SLA hours), response templates, wards, people:
    edited by admins only, because a change there moves every department's queue."""
    return is_admin(user)


def can_manage_api_keys(user: User | None) -> bool:
    """Open311 API keys (issue, see, deactivate): admins only. A key speaks for its owner on
    every request, so handing one out is an admin's decision, whatever Django permissions a
    group may carry."""
    return is_admin(user)


def can_assign_to(user: User | None, issue: Routed) -> bool:
    """Whether the issue may be given to `user`: only active members of its department carry it
    (admins work every queue but are members of none, so they are not assignees)."""
    return bool(user and user.is_active and issue.department_id in department_ids(user))


def supervised_department_ids(user: User | None) -> set[int]:
    """Departments the user supervises (Department.supervisors)."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    if getattr(user, "_supervised_ids", None) is None:
        _load_departments(user)
    return user._supervised_ids


def can_manage_routing(user: User | None, department_id: int | None = None) -> bool:
    """May write routing rules and teams: admins for every department, a department's
    supervisors for theirs. Without a department: for at least one (the list, the add page)."""
    if is_admin(user):
        return True
    supervised = supervised_department_ids(user)
    return bool(supervised) if department_id is None else department_id in supervised


def routing_department_ids(user: User | None) -> set[int] | None:
    """Departments whose rules and teams the user may read: None for all (admins); their own
    and supervised departments for staff, so nobody reads another department's routing."""
    if is_admin(user):
        return None
    return department_ids(user) | supervised_department_ids(user)
