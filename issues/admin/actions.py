"""The work done from an issue's page: each work form and the one service call it makes.

The issue page posts each form to IssueAdmin.work_view (issues/admin/issue_page.py), which looks the
form up in WORK_ACTIONS, validates it and calls its action; the action returns the message shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from departments.models import Priority
from issues import services
from issues.admin.forms import (
    AssignForm,
    CommentForm,
    DuplicateForm,
    ModerateForm,
    PlaceForm,
    PriorityForm,
    RecategoriseForm,
    SendAgainForm,
    StatusForm,
    TransferForm,
)
from issues.admin.mending import MENDING_ACTIONS
from issues.models import Issue, Resolution, Status, UpstreamSend
from issues.upstream import delivery as city_outbox


def change_status(request, issue, data) -> str:
    services.change_status(
        issue=issue,
        to=data["to"],
        by=request.user,
        message=services.fill_placeholders(data["message"], issue),
        resolution=data.get("resolution") or "",
        referred_to=data.get("referred_to") or "",
        photos=data.get("photo") or (),
    )
    if data["to"] == Status.CLOSED:
        return _("Closed: %(r)s.") % {"r": Resolution(data["resolution"]).label.lower()}
    return _("Status is now %(s)s.") % {"s": Status(data["to"]).label.lower()}


def duplicate(request, issue, data) -> str:
    original = data["original_id"]
    services.mark_duplicate(
        issue=issue, original=original, by=request.user, message=data["message"]
    )
    return _(
        "Closed as a duplicate of %(id)s; its followers and votes moved there, and they have "
        "been told."
    ) % {"id": original.public_id}


def comment(request, issue, data) -> str:
    internal = data["visibility"] == "internal"
    services.add_comment(issue=issue, author=request.user, body=data["body"], internal=internal)
    return _("Internal note added.") if internal else _("Public comment added.")


def assign(request, issue, data) -> str:
    services.assign_issue(issue=issue, assignee=data["assignee"], by=request.user)
    if data["assignee"] is None:
        return _("The issue is unassigned.")
    return _("Assigned to %(who)s.") % {"who": data["assignee"].get_full_name()}


def prioritise(request, issue, data) -> str:
    services.set_priority(issue=issue, priority=data["priority"], by=request.user)
    return _("Priority is now %(p)s.") % {"p": Priority(data["priority"]).label.lower()}


def transfer(request, issue, data) -> str:
    services.transfer_issue(
        issue=issue, to_department=data["department"], by=request.user, message=data["message"]
    )
    return _("Transferred to %(d)s; they have been told.") % {"d": data["department"]}


def recategorise(request, issue, data) -> str:
    services.recategorise_issue(
        issue=issue, service_type=data["service_type"], by=request.user, message=data["message"]
    )
    return _("The type is now %(t)s.") % {"t": data["service_type"].name}


def moderate(request, issue, data) -> str:
    services.set_hidden(
        target=data["target"], hidden=data["hidden"], by=request.user, reason=data["reason"]
    )
    if data["hidden"]:
        return _("Hidden from the public. Staff still see it.")
    return _("Shown to the public again.")


def place(request, issue, data) -> str:
    placed = services.place_issue(
        issue=issue,
        latitude=data["latitude"],
        longitude=data["longitude"],
        address=data["address"],
        by=request.user,
    )
    return _("Placed in %(w)s.") % {"w": placed.ward}


def send_again(request, issue, data) -> str:
    city_outbox.send_again(
        UpstreamSend.objects.filter(pk=data["send"].pk),
        confirmed_absent=data["confirmed_absent"],
    )
    return _("Queued to be sent to %(city)s again.") % {"city": data["send"].endpoint}


@dataclass(frozen=True)
class WorkAction:
    form: type[forms.Form]
    apply: Callable[[HttpRequest, Issue, dict], str]


WORK_ACTIONS: dict[str, WorkAction] = {
    "status": WorkAction(StatusForm, change_status),
    "duplicate": WorkAction(DuplicateForm, duplicate),
    "comment": WorkAction(CommentForm, comment),
    "assign": WorkAction(AssignForm, assign),
    "priority": WorkAction(PriorityForm, prioritise),
    "transfer": WorkAction(TransferForm, transfer),
    "recategorise": WorkAction(RecategoriseForm, recategorise),
    "moderate": WorkAction(ModerateForm, moderate),
    "place": WorkAction(PlaceForm, place),
    "send_again": WorkAction(SendAgainForm, send_again),
}
# Mend, don't hide (issue 20): edit text, remove a name, redact a photo, release, ban.
WORK_ACTIONS.update(
    {key: WorkAction(form, apply) for key, (form, apply) in MENDING_ACTIONS.items()}
)
