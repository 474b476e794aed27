"""The "Not fixed?" link of a closing email (issues/notify/events.py puts it in the reporter's
copy). Nobody signs in: the signed token names the issue, the closing and the address it was sent
to, and it expires after REPORTER_REOPEN_DAYS.

A GET never changes anything (mail scanners open every link): it shows a page whose POST button
reopens, through issues/services/residents.py, with the same rules as the reopen button on the
issue page (the reporter only, once, within the set days).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import ratelimit
from issues.models import DESCRIPTION_MAX, Status
from issues.notify import links
from issues.selectors import reporter_may_reopen
from issues.services import residents
from issues.views.followup import read_issue_link


def _cannot(request, issue, token: str, *, status: int, error: str = ""):
    """The link is genuine but reopening is no longer possible: say why, and where to go."""
    context = {
        "issue": issue,
        "token": token,
        "status_label": Status(issue.status).label.lower(),
        "error": error,
    }
    return render(request, "issues/not_fixed_closed.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def not_fixed(request, token: str):
    found, refused = read_issue_link(
        request,
        links.read_not_fixed_token,
        token,
        expired=_(
            "This link is too old: a report can be reopened from its closing email for a "
            "limited time. If the problem is still there, say so on the report's page."
        ),
    )
    if refused:
        return refused
    issue, current, email = found
    context = {"issue": issue, "token": token, "note_max": DESCRIPTION_MAX}
    if not current or not reporter_may_reopen(issue):
        return _cannot(request, issue, token, status=409 if request.method == "POST" else 200)
    if request.method != "POST":
        return render(request, "issues/not_fixed_confirm.html", context)
    if not ratelimit.allow("comment", request):
        context["what"] = _("updates")
        return render(request, "issues/rate_limited.html", context, status=429)
    note = request.POST.get("note", "")
    try:
        residents.reopen_by_link(issue=issue, email=email, note=note)
    except PermissionDenied as exc:
        return _cannot(request, issue, token, status=403, error=" ".join(exc.args))
    except ValidationError as exc:
        if "note" in getattr(exc, "message_dict", {}):
            context.update(note=note[: DESCRIPTION_MAX + 1], error=" ".join(exc.messages))
            return render(request, "issues/not_fixed_confirm.html", context, status=400)
        issue.refresh_from_db()
        return _cannot(request, issue, token, status=409, error=" ".join(exc.messages))
    return render(request, "issues/fixed_reopened.html", context)
