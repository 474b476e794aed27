"""The site's own answer when a request fails on our side (settings.DEBUG off; config/urls.py
names it as handler500).

- A failure that passes (the database refusing connections or at its connection limit, the
  photo store refusing a file) is a 503 with Retry-After, so people, browsers and API clients
  know to try again; anything else is a 500.
- The Open311 API answers in its own error format (JSON or XML by the URL's suffix), never HTML.
- Pages say what happened in the site's layout, and a POST shows back the text the person
  typed (a description, a comment), since a phone's back button does not always keep it.

The page is rendered without the request's context processors: the database may be the thing
that failed, and the usual context (the signed-in user, messages) would ask it again.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from config.context_processors import chrome
from issues.open311.errors import client_error_response, server_error_response

# The database went away, refused the connection or has no connection slot left: PostgreSQL
# restarts and connection storms pass within seconds.
DATABASE_RETRY_AFTER = 30

# The free text a person may have typed into a form that failed, with how to name it.
TYPED_FIELDS = {
    "description": _("Description"),
    "address": _("Address"),
    "body": _("Comment"),
    "message": _("Message"),
    "note": _("Note"),
}


def retry_after(exc: BaseException | None) -> int | None:
    """Seconds after which trying again may work, or None when it would fail the same way."""
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE_RETRY_AFTER
    return getattr(exc, "retry_after", None)  # e.g. issues.photos.PhotoNotStored


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, which sys.exception() still holds.
    wait = retry_after(sys.exception())
    status = 503 if wait else 500
    if _is_api(request):
        response = server_error_response(request.path, status=status, retry_after=wait)
    else:
        context = {
            "SITE_NAME": settings.SITE_NAME,
            "CITY_NAME": settings.CITY_NAME,
            "retry_after": wait,
            "typed": _typed(request),
            **chrome(),
        }
        response = HttpResponse(render_to_string(f"{status}.html", context), status=status)
    if wait:
        response["Retry-After"] = str(wait)
    return response


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # A request Django refused before any view (a malformed multipart body, too many fields).
    if _is_api(request):
        return client_error_response(
            request.path, status=400, description=str(_("The request could not be read."))
        )
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return client_error_response(request.path, status=403, description=str(_("Not allowed.")))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return client_error_response(
            request.path, status=404, description=str(_("There is nothing at this address."))
        )
    return defaults.page_not_found(request, exception)


def _is_api(request: HttpRequest) -> bool:
    try:
        match = request.resolver_match or resolve(request.path_info)
    except Resolver404:
        return False
    return match.namespace == "open311"


def _typed(request: HttpRequest) -> list[tuple[str, str]]:
    if request.method != "POST":
        return []
    try:
        data = request.POST
    except Exception:
        return []  # the body itself could not be read: nothing to show back
    return [
        (label, data[name]) for name, label in TYPED_FIELDS.items() if data.get(name, "").strip()
    ]
