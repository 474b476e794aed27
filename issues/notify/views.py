"""Unsubscribe pages, behind the links in our emails. Nobody signs in: a signed token in the URL
is the proof. (The "Is it fixed?" answers change an issue, so issues/views/followup.py serves them.)

Unsubscribe follows RFC 8058. Mail clients POST `List-Unsubscribe=One-Click` to the link in the
List-Unsubscribe header, without cookies, so that POST is CSRF-exempt (the signed token already
proves the request comes from the mailbox). A GET only shows a confirmation page with a button:
mail scanners and link previews fetch every URL in a message, and must not unsubscribe anyone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from departments.models import Department
from departments.translations import translated
from issues.notify import links, subscriptions

log = logging.getLogger(__name__)


def bad_link(request, reason: str):
    """A damaged, forged or stale link: what went wrong, and where to go instead."""
    return render(request, "notify/bad_link.html", {"reason": reason}, status=400)


def _read_unsubscribe(request, token: str):
    try:
        return links.read_unsubscribe_token(token)
    except signing.BadSignature:
        return None


def _target_label(scope: str, target_id: int | None) -> str:
    """The name of what the link is about; a department's in the reader's language."""
    if scope == "department" and target_id:
        department = Department.objects.filter(pk=target_id).first()
        return translated(department, "name") if department else ""
    return links.scope_target_label(scope, target_id)


def _scope_context(data: dict) -> dict:
    """What the link stops, in words a person understands (public facts only)."""
    scope, target_id = data["s"], data.get("t")
    context = {
        "scope": scope,
        "email": data["e"],
        "target_label": _target_label(scope, target_id),
    }
    # What is stopped, as words that go inside each page's sentence (so every language can
    # order the sentence its own way). A rendered template is safe HTML: it escaped the labels.
    context["scope_text"] = render_to_string(
        "notify/_scope.html", {**context, "SITE_NAME": settings.SITE_NAME}
    )
    if scope != "all":
        context["all_url"] = links.unsubscribe_url(email=data["e"], scope="all")
    return context


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    data = _read_unsubscribe(request, token)
    if data is None:
        return bad_link(
            request,
            _(
                "This unsubscribe link is damaged or was not made by us. Copy the whole link "
                "from the email, or use the link in a newer email."
            ),
        )
    context = {**_scope_context(data), "token": token}
    if request.method != "POST":
        return render(request, "notify/unsubscribe_confirm.html", context)
    subscriptions.unsubscribe(email=data["e"], scope=data["s"], target_id=data.get("t"))
    log.info("Unsubscribed %s from %s %s", data["e"], data["s"], data.get("t"))
    return render(request, "notify/unsubscribe_done.html", context)


@csrf_exempt
@never_cache
@require_POST
def resubscribe(request, token: str):
    data = _read_unsubscribe(request, token)
    if data is None:
        return bad_link(request, _("This link is damaged or was not made by us."))
    subscriptions.resubscribe(email=data["e"], scope=data["s"], target_id=data.get("t"))
    context = {**_scope_context(data), "token": token}
    return render(request, "notify/resubscribe_done.html", context)
