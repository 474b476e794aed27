"""The answers to "Is it fixed?" (notify/digests.py asks a week after closing), from the links in
that email. Nobody signs in: the signed token names the issue and the closing it asks about.

As with unsubscribing, a GET never changes anything (mail scanners open every link): "yes, fixed"
only says thank you, and "not fixed" asks for a confirmation whose POST reopens the issue, through
the one status-change service, on the reporter's behalf.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from issues.models import Status
from issues.notify import links
from issues.notify.views import bad_link
from issues.selectors import reporter_may_reopen
from issues.services import residents

NOTE_MAX = 1000


def read_issue_link(request, read, token: str, *, expired: str = ""):
    """(what the token names, None), or (None, the bad-link page) for a damaged, forged or stale
    link or a report no longer on the site: the same answers for every link of a closing or
    follow-up email. `read` is one of issues.notify.links' readers; its first value is the issue.
    """
    try:
        found = read(token)
    except signing.BadSignature as exc:  # SignatureExpired is one too
        stale = expired and isinstance(exc, signing.SignatureExpired)
        return None, bad_link(
            request,
            expired
            if stale
            else _(
                "This link is damaged or was not made by us. Copy the whole link from the email."
            ),
        )
    if found[0] is None or found[0].is_hidden:
        return None, bad_link(request, _("This report is no longer on the site."))
    return found, None


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def fixed_answer(request, token: str, answer: str):
    if answer not in ("yes", "no"):
        raise Http404
    found, refused = read_issue_link(request, links.read_followup_token, token)
    if refused:
        return refused
    issue, current = found
    context = {"issue": issue, "answer": answer, "token": token, "note_max": NOTE_MAX}
    if not current or issue.status != Status.CLOSED:
        # Reopened by staff, closed again since (a newer email asks again), or archived.
        context["status_label"] = Status(issue.status).label.lower()
        status = 409 if request.method == "POST" else 200
        return render(request, "issues/fixed_changed.html", context, status=status)
    if answer == "yes":
        return render(request, "issues/fixed_thanks.html", context)
    if not reporter_may_reopen(issue):
        # Reopened by its reporter once already, or closed too long ago: the service would
        # refuse, so no button is offered; the page points to "still there" instead.
        context["status_label"] = Status(issue.status).label.lower()
        status = 409 if request.method == "POST" else 200
        return render(request, "issues/not_fixed_closed.html", context, status=status)
    if request.method != "POST":
        return render(request, "issues/fixed_confirm.html", context)

    note = (request.POST.get("note") or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX:
        context.update(
            note=note,
            error=_("Please keep it under %(max)d characters (you wrote %(n)d).")
            % {"max": NOTE_MAX, "n": len(note)},
        )
        return render(request, "issues/fixed_confirm.html", context, status=400)
    try:
        # The same rules as the closing email's "Not fixed?" link: the reporter, once, in time.
        residents.reopen_by_link(issue=issue, email=issue.contact_email, note=note)
    except (ValidationError, PermissionDenied) as exc:
        # Someone changed it between the page and the click.
        issue.refresh_from_db()
        context["status_label"] = Status(issue.status).label.lower()
        context["error"] = " ".join(getattr(exc, "messages", [str(exc)]))
        return render(request, "issues/fixed_changed.html", context, status=409)
    return render(request, "issues/fixed_reopened.html", context)
