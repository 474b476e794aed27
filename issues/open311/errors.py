"""GeoReport errors: a list of {code, description} in the requested format, never an HTML page.

404 unknown resource (service code, request id, token, jurisdiction), 403 missing or bad api_key,
400 everything else a client can fix; 405 and 429 for the wrong method and a spent rate limit;
500 for a failure of ours and 503 (with Retry-After) when one passes (config/errors.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _

from issues.open311.render import render


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = [str(d) for d in descriptions]

    def as_list(self) -> list[dict]:
        return [{"code": self.status, "description": d} for d in self.descriptions]


def error_response(fmt: str, error: Open311Error) -> HttpResponse:
    return render(fmt, "errors", error.as_list(), status=error.status)


def from_validation_error(exc: ValidationError) -> Open311Error:
    """Field errors from a service as 400 descriptions naming the Open311 parameter."""
    descriptions: list[str] = []
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            name = _PARAMETER_NAMES.get(field, field)
            descriptions.extend(f"{name}: {m}" for m in messages)
    else:
        descriptions.extend(exc.messages)
    return Open311Error(400, *_dedupe(descriptions))


# Our field names at the service layer, Open311's words at the edge.
_PARAMETER_NAMES = {
    "latitude": "lat",
    "longitude": "long",
    "location": "lat/long or address_string",
    "__all__": "request",
}


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def client_error_response(path: str, *, status: int, description: str) -> HttpResponse:
    """A 400, 403 or 404 raised before any Open311 view could answer (a body Django could not
    parse, a path with a NUL), in the API's format rather than Django's HTML page."""
    fmt = "xml" if path.lower().endswith(".xml") else "json"
    response = error_response(fmt, Open311Error(status, description))
    response["Access-Control-Allow-Origin"] = "*"
    return response


def server_error_response(path: str, *, status: int, retry_after: int | None) -> HttpResponse:
    """A failure on our side, in the API's format (the URL's suffix) instead of an HTML page:
    503 when trying again later can help (config/errors.py decides), else 500."""
    fmt = "xml" if path.lower().endswith(".xml") else "json"
    if retry_after:
        description = _(
            "The service is unavailable for a moment; nothing was stored. Try again in "
            "%(n)d seconds."
        ) % {"n": retry_after}
    else:
        description = _("Something went wrong on our side; it is logged. Try again later.")
    response = error_response(fmt, Open311Error(status, description))
    response["Access-Control-Allow-Origin"] = "*"
    return response
