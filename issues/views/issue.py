"""One issue's public page, what signed-in residents do there (vote, follow, comment), and the
tracker that finds an issue by its request id."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import ratelimit
from issues import selectors, services
from issues.forms import CommentForm
from issues.models import CLOSED_STATUSES
from issues.notify import subscriptions
from issues.services import residents
from issues.update_forms import ResidentUpdateForm
from issues.views.home import map_config


def _not_found(request, public_id: str = ""):
    return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)


def _detail_context(request, issue, comment_form=None, **extra) -> dict:
    # The forms are shown to a signed-in person only (a visitor gets "sign in to comment"):
    # building them for every visitor cost a cold page about as much as a trivial view.
    signed_in = request.user.is_authenticated
    return {
        "issue": issue,
        # The report's own photos, and those staff attached to an update ("after"), side by side.
        "photos": [p for p in issue.public_photos if not (p.status_change_id or p.comment_id)],
        "after_photos": [p for p in issue.public_photos if p.status_change_id],
        "timeline": selectors.public_timeline(issue),
        "duplicates": selectors.public_duplicates(issue),
        "answers": selectors.attribute_answers(issue),
        "aldermen": list(issue.ward.aldermen.all()) if issue.ward_id else [],
        "viewer": selectors.viewer_state(issue, request.user),
        "own": residents.reporter_controls(issue, request.user),
        "edited_at": issue.last_edited_at,  # selectors.issue_page
        "comment_form": comment_form or (CommentForm() if signed_in else None),
        "update_form": ResidentUpdateForm(closed=issue.status in CLOSED_STATUSES)
        if signed_in
        else None,
        "is_new": request.GET.get("new") == "1",
        # After a vote without JavaScript (vote() redirects with ?voted=1): offer to follow too.
        "offer_follow": request.GET.get("voted") == "1",
        "map_config": map_config(request, pin=[issue.latitude, issue.longitude], zoom=17)
        if issue.latitude is not None
        else None,
        **extra,
    }


def detail_page(request, issue, status: int = 200, **extra):
    """The issue page; a form posted from it (a comment, a "still there" update in
    issues/views/updates.py) that needs another try comes back on it, with `extra`."""
    context = _detail_context(request, issue, **extra)
    return render(request, "issues/detail.html", context, status=status)


# The "still there" update (issues/views/updates.py) answers an unknown issue the same way.
not_found = _not_found


def issue_detail(request, public_id: str):
    issue = selectors.issue_page(public_id)
    if issue is None:
        return _not_found(request, public_id)
    return detail_page(request, issue)


def _rate_limited(request, issue, what: str):
    return render(request, "issues/rate_limited.html", {"issue": issue, "what": what}, status=429)


def _wants_json(request) -> bool:
    """The issue page's script asks for JSON (static/js/engage.js); a plain form post does not."""
    return "application/json" in request.headers.get("Accept", "")


def _engaged(
    request,
    issue,
    message: str,
    *,
    level: int = messages.INFO,
    voted_now: bool = False,
    redirect_to: str = "",
):
    """The answer to a vote or a follow: for the page's script, JSON with the new state and the
    buttons' box re-rendered (so the page need not reload); otherwise the message and a
    redirect, as before. After a vote, both offer to follow too."""
    if not _wants_json(request):
        if voted_now and not redirect_to:
            redirect_to = f"{issue.get_absolute_url()}?voted=1#engage"
        messages.add_message(request, level, message)
        return redirect(redirect_to or issue.get_absolute_url())
    issue = selectors.public_issue(issue.public_id)  # the counts after the write
    viewer = selectors.viewer_state(issue, request.user)
    context = {
        "issue": issue,
        "viewer": viewer,
        "offer_follow": voted_now,
        "engage_message": message,
    }
    return JsonResponse(
        {
            "voted": viewer["voted"],
            "following": viewer["following"],
            "vote_count": issue.vote_count,
            "offer_follow": voted_now and not viewer["following"],
            "message": message,
            "html": render_to_string("issues/_engage.html", context, request=request),
        }
    )


def _refused(request, status: int, message: str, page):
    """A vote or follow that cannot be done: JSON for the script, the usual page otherwise."""
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return page()


@require_POST
def vote(request, public_id: str):
    """ "I have this too" (or take it back): one vote per account."""
    issue = selectors.public_issue(public_id)
    if issue is None:
        return _refused(
            request,
            404,
            _("There is no public request %(id)s.") % {"id": public_id[:40]},
            lambda: _not_found(request, public_id),
        )
    if not request.user.is_authenticated:
        return _refused(
            request,
            401,
            _("Sign in to say you have this too."),
            lambda: redirect_to_login(issue.get_absolute_url()),
        )
    if not ratelimit.allow("vote", request):
        return _refused(
            request,
            429,
            _("Please wait a while before voting again."),
            lambda: _rate_limited(request, issue, _("votes")),
        )
    if request.POST.get("action") == "remove":
        services.remove_vote(issue=issue, user=request.user)
        return _engaged(request, issue, _("Your vote is taken back."))
    if services.add_vote(issue=issue, user=request.user):
        message, level = (
            _("Thanks: the city sees that you have this problem too."),
            messages.SUCCESS,
        )
    else:
        message, level = _("You had already said you have this too."), messages.INFO
    return _engaged(request, issue, message, level=level, voted_now=True)


@require_POST
def follow(request, public_id: str):
    issue = selectors.public_issue(public_id)
    if issue is None:
        return _refused(
            request,
            404,
            _("There is no public request %(id)s.") % {"id": public_id[:40]},
            lambda: _not_found(request, public_id),
        )
    if not request.user.is_authenticated:
        return _refused(
            request,
            401,
            _("Sign in to follow this issue."),
            lambda: redirect_to_login(issue.get_absolute_url()),
        )
    if request.POST.get("action") == "unfollow":
        subscriptions.unfollow_issue(issue=issue, user=request.user)
        message, level = _("You no longer follow this issue."), messages.INFO
    else:
        subscriptions.follow_issue(issue=issue, user=request.user)
        message = _("You follow this issue: we will email you about updates.")
        level = messages.SUCCESS
    next_page = "issues:profile" if request.POST.get("next") == "profile" else ""
    return _engaged(
        request, issue, message, level=level, redirect_to=next_page and reverse(next_page)
    )


@login_required
@require_POST
def comment(request, public_id: str):
    issue = selectors.issue_page(public_id)
    if issue is None:
        return _not_found(request, public_id)
    form = CommentForm(request.POST)
    again = functools.partial(detail_page, request, issue, comment_form=form)

    if not ratelimit.allow("comment", request):
        return again(429, comment_rate_limited=True)
    if not form.is_valid():
        return again(400)
    try:
        created = services.add_comment(
            issue=issue, author=request.user, body=form.cleaned_data["body"]
        )
    except (ValidationError, PermissionDenied) as exc:
        form.add_error("body", getattr(exc, "messages", [str(exc)]))
        return again(400)
    messages.success(request, _("Your comment is posted."))
    return redirect(f"{issue.get_absolute_url()}#comment-{created.pk}")


@require_GET
def track(request):
    """The service tracker: a request id (ours, or the city's reference) in, its page out; an
    unknown id gets a kind 404."""
    raw = (request.GET.get("id") or "").strip()
    if not raw:
        return render(request, "issues/track.html", {})
    issue = selectors.public_issue(raw[:40]) or selectors.public_issue_by_reference(raw[:40])
    if issue is None:
        return render(
            request, "issues/track.html", {"query": raw[:40], "not_found": True}, status=404
        )
    return redirect(issue.get_absolute_url())
