"""Auto-assignment by the department's routing rules, and priorities (issue 16).

One place decides who gets an issue when it is created, reopened or re-typed: the department's
active rules (departments/models/routing.py) are tried in order; the first that matches and names
someone who may take the issue decides who (a team's members in turn, or one person), and the first
that matches and sets a priority decides the priority. Only active members of the issue's
department are ever chosen. Every assignment and priority change is written to the issue's
staff-only history (StaffChange) with the rule that decided it.

The callers (create_issue, change_status on reopening, recategorise_issue) hold the issue's
transaction and its row lock; a team's turn is taken under its row lock (select_for_update), so two issues
routed at the same moment never both go to the same person because of a race.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from shapely.geometry import Point

from accounts import roles
from accounts.models import User
from departments.models import RoutingRule, Team
from departments.wards import shape_from_geojson
from issues.models import Issue, StaffChange


@dataclass(frozen=True)
class Routing:
    """What the rules say for one issue: who (and by which rule), and which priority."""

    assignee: User | None = None
    assigned_by: RoutingRule | None = None
    priority: str = ""
    priority_by: RoutingRule | None = None


def matching_rules(issue: Issue) -> list[RoutingRule]:
    """The department's active rules that match the issue's type and place, in order. One query:
    the type and ward tests are done by the database, the drawn area here (shapely)."""
    types = RoutingRule.service_types.through.objects.filter(routingrule_id=OuterRef("pk"))
    wards = RoutingRule.wards.through.objects.filter(routingrule_id=OuterRef("pk"))
    candidates = (
        RoutingRule.objects.filter(department_id=issue.department_id, active=True)
        .annotate(
            any_type=~Exists(types),
            this_type=Exists(types.filter(servicetype_id=issue.service_type_id)),
            any_ward=~Exists(wards),
            this_ward=Exists(wards.filter(ward_id=issue.ward_id)),
        )
        .filter(Q(any_type=True) | Q(this_type=True))
        .select_related("assignee")
        .in_order()
    )
    return [rule for rule in candidates if _in_place(rule, issue)]


def _in_place(rule: RoutingRule, issue: Issue) -> bool:
    has_area = bool(rule.area)
    if rule.any_ward and not has_area:
        return True  # anywhere
    if issue.ward_id is not None and rule.this_ward:
        return True
    if has_area and issue.latitude is not None and issue.longitude is not None:
        return _area(json.dumps(rule.area, sort_keys=True)).covers(
            Point(issue.longitude, issue.latitude)
        )
    return False


@functools.lru_cache(maxsize=256)
def _area(geojson: str):
    # Keyed by the text, so an edited area is a new entry and never a stale shape.
    return shape_from_geojson(json.loads(geojson))


def decide(issue: Issue, *, assign: bool = True, prioritise: bool = True) -> Routing:
    """What the rules say for `issue` (saved or not). Takes a team's turn when a team rule
    decides, so call it inside the transaction that saves the result."""
    assignee = assigned_by = priority_by = None
    priority = ""
    for rule in matching_rules(issue):
        if assign and assigned_by is None and (rule.team_id or rule.assignee_id):
            assignee = _take_turn(rule, issue)
            if assignee is not None:
                assigned_by = rule
        if prioritise and priority_by is None and rule.priority:
            priority, priority_by = rule.priority, rule
        if (assigned_by or not assign) and (priority_by or not prioritise):
            break
    return Routing(assignee, assigned_by, priority, priority_by)


def _take_turn(rule: RoutingRule, issue: Issue) -> User | None:
    """The rule's person if they may take the issue; else the next of the team's members who
    may, after the last one given an issue (by id, wrapping round), under the team's row lock."""
    if rule.assignee_id:
        return rule.assignee if roles.can_assign_to(rule.assignee, issue) else None
    team = Team.objects.select_for_update().get(pk=rule.team_id)
    members = list(
        team.members.filter(is_active=True, departments=issue.department_id).order_by("pk")
    )
    if not members:
        return None
    after = team.last_assigned_id or 0
    chosen = next((m for m in members if m.pk > after), members[0])
    Team.objects.filter(pk=team.pk).update(last_assigned=chosen)
    return chosen


def apply(issue: Issue, routing: Routing) -> list[str]:
    """Set what the rules decided on the (unsaved or locked) issue; the fields changed."""
    changed = []
    if routing.assigned_by is not None and issue.assignee_id != routing.assignee.pk:
        issue.assignee = routing.assignee
        changed.append("assignee")
    if routing.priority_by is not None and issue.priority != routing.priority:
        issue.priority = routing.priority
        changed.append("priority")
    return changed


def record(
    issue: Issue, routing: Routing, *, from_assignee_id: int | None, from_priority: str, by=None
) -> None:
    """The staff-only history of what the rules did to the (saved) issue."""
    now = timezone.now()
    rows = []
    if routing.assigned_by is not None and from_assignee_id != issue.assignee_id:
        rows.append(
            StaffChange.of_assignee(
                issue, from_assignee_id=from_assignee_id, by=by, rule=routing.assigned_by, at=now
            )
        )
    if routing.priority_by is not None and from_priority != issue.priority:
        rows.append(
            StaffChange.of_priority(
                issue, from_priority=from_priority, by=by, rule=routing.priority_by, at=now
            )
        )
    if rows:
        StaffChange.objects.bulk_create(rows)


def route_locked(
    locked: Issue, *, by=None, keep_assignee: bool = False, prioritise: bool = True
) -> Routing:
    """Route an issue the caller holds locked: on reopening (`keep_assignee`: a still valid
    assignee keeps it, they know the issue) and after a change of type."""
    keep = (
        keep_assignee
        and locked.assignee_id is not None
        and roles.can_assign_to(locked.assignee, locked)
    )
    routing = decide(locked, assign=not keep, prioritise=prioritise)
    from_assignee_id, from_priority = locked.assignee_id, locked.priority
    changed = apply(locked, routing)
    if changed:
        locked.save(update_fields=changed)
        record(
            locked, routing, from_assignee_id=from_assignee_id, from_priority=from_priority, by=by
        )
    return routing
