"""Pages behind the links in our emails. Nobody signs in: a signed token in the URL is the proof.

Unsubscribe follows RFC 8058. Mail clients POST `List-Unsubscribe=One-Click` to the link in the
List-Unsubscribe header, without cookies, so that POST is CSRF-exempt (the signed token already
proves the request comes from the mailbox). A GET only shows a confirmation page with a button:
mail scanners and link previews fetch every URL in a message, and must not unsubscribe anyone.
The same rule holds for "not fixed": the GET asks, the POST reopens. "Yes, fixed" changes nothing,
so its GET simply says thank you.
"""

from __future__ import annotations

import logging

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from departments.models import Department, Ward
from issues import digests, notifications, services
from issues.models import Issue, Status

log = logging.getLogger(__name__)

NOTE_MAX = 1000


def _bad_link(request, reason: str):
    return render(request, "notifications/bad_link.html", {"reason": reason}, status=400)


def _read_unsubscribe(request, token: str):
    try:
        return notifications.read_unsubscribe_token(token)
    except signing.BadSignature:
        return None


def _scope_context(data: dict) -> dict:
    """What the link stops, in words a person understands (public facts only)."""
    scope, target_id = data["s"], data.get("t")
    context = {"scope": scope, "email": data["e"], "target_label": ""}
    if scope == "issue":
        issue = Issue.objects.filter(pk=target_id).only("public_id").first()
        context["target_label"] = issue.public_id if issue else ""
    elif scope == "ward":
        ward = Ward.objects.filter(pk=target_id).only("name").first()
        context["target_label"] = ward.name if ward else ""
    elif scope == "department":
        department = Department.objects.filter(pk=target_id).only("name").first()
        context["target_label"] = department.name if department else ""
    if scope != "all":
        context["all_url"] = notifications.unsubscribe_url(email=data["e"], scope="all")
    return context


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    data = _read_unsubscribe(request, token)
    if data is None:
        return _bad_link(
            request,
            _(
                "This unsubscribe link is damaged or was not made by us. Copy the whole link "
                "from the email, or use the link in a newer email."
            ),
        )
    context = {**_scope_context(data), "token": token}
    if request.method != "POST":
        return render(request, "notifications/unsubscribe_confirm.html", context)
    notifications.unsubscribe(email=data["e"], scope=data["s"], target_id=data.get("t"))
    log.info("Unsubscribed %s from %s %s", data["e"], data["s"], data.get("t"))
    return render(request, "notifications/unsubscribe_done.html", context)


@csrf_exempt
@never_cache
@require_POST
def resubscribe(request, token: str):
    data = _read_unsubscribe(request, token)
    if data is None:
        return _bad_link(request, _("This link is damaged or was not made by us."))
    notifications.resubscribe(email=data["e"], scope=data["s"], target_id=data.get("t"))
    context = {**_scope_context(data), "token": token}
    return render(request, "notifications/resubscribe_done.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def fixed_answer(request, token: str, answer: str):
    if answer not in ("yes", "no"):
        raise Http404
    try:
        issue, current = digests.read_followup_token(token)
    except signing.BadSignature:
        return _bad_link(
            request,
            _("This link is damaged or was not made by us. Copy the whole link from the email."),
        )
    if issue is None or issue.is_hidden:
        return _bad_link(request, _("This report is no longer on the site."))
    context = {"issue": issue, "answer": answer, "token": token, "note_max": NOTE_MAX}
    if not current or issue.status != Status.CLOSED:
        # Reopened by staff, closed again since (a newer email asks again), or archived.
        context["status_label"] = Status(issue.status).label.lower()
        status = 409 if request.method == "POST" else 200
        return render(request, "notifications/fixed_changed.html", context, status=status)
    if answer == "yes":
        return render(request, "notifications/fixed_thanks.html", context)
    if request.method != "POST":
        return render(request, "notifications/fixed_confirm.html", context)

    note = (request.POST.get("note") or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX:
        context.update(
            note=note,
            error=_("Please keep it under %(max)d characters (you wrote %(n)d).")
            % {"max": NOTE_MAX, "n": len(note)},
        )
        return render(request, "notifications/fixed_confirm.html", context, status=400)
    message = _("Reopened: the reporter says this is not fixed.")
    if note:
        message = f"{message}\n\n{note}"
    try:
        with notifications.on_behalf_of(issue.contact_email):
            services.change_status(issue=issue, to=Status.OPEN, by=None, message=message)
    except (ValidationError, PermissionDenied) as exc:
        # Someone changed it between the page and the click.
        issue.refresh_from_db()
        context["status_label"] = Status(issue.status).label.lower()
        context["error"] = " ".join(getattr(exc, "messages", [str(exc)]))
        return render(request, "notifications/fixed_changed.html", context, status=409)
    return render(request, "notifications/fixed_reopened.html", context)
