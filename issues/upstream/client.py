"""A GeoReport v2 client for the city's own system, in JSON or XML, over plain urllib.

Every failure is sorted by what it means for a POST, because that decides whether sending again
could create a second copy upstream (docs/open311.md, "Sending out"):

- `NotSent`: the request never reached the city (connection refused, unknown host, the request
  could not be written, or 429 "slow down"). Sending again is safe.
- `Uncertain`: it may have reached the city and created something: no answer in time, the
  connection dropped before or while the answer came, a 5xx, or an answer that cannot be read
  (garbage, or cut off). Look before sending again.
- `Refused`: the city answered 3xx or 4xx: by the spec nothing was created, and its error
  descriptions say why. Sending the same again would be refused again.

Answers are turned into the JSON shapes whatever the format: lists for the list roots, dicts for
objects, text (or None) for leaves. XML with a DOCTYPE is refused: no entities, no expansion.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlencode
from xml.etree import ElementTree

from django.conf import settings

from departments.models import UpstreamEndpoint
from departments.secrets import UnreadableSecret

MAX_ANSWER_BYTES = 5 * 1024 * 1024

# Plural elements whose children are a list, with the child's name (GeoReport v2 and mySociety's
# update extension; FixMyStreet's own answers name the updates' root service_requests_updates).
LISTS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "service_requests_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


class UpstreamError(Exception):
    """Talking to the city's system failed; the message says how, for staff to read."""


class NotSent(UpstreamError):
    """The request did not reach the city: sending again is safe."""


class Uncertain(UpstreamError):
    """The request may have reached the city: look before sending again."""


class Refused(UpstreamError):
    """The city refused the request (3xx/4xx); nothing was created."""

    def __init__(self, status: int, descriptions: list[str]):
        self.status = status
        self.descriptions = descriptions
        detail = "; ".join(descriptions) or "no reason given"
        super().__init__(f"HTTP {status}: {detail}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect means the endpoint's URL is wrong; following it would resend a POST as a GET,
    # or carry the API key to another host.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def parse(body: bytes, fmt: str):
    """The answer in JSON shapes; raises ValueError when it cannot be read."""
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if fmt == "xml":
        if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
            raise ValueError("an XML answer with a DOCTYPE is not read")
        try:
            # DOCTYPE refused above: no entities to expand, none to fetch.
            return _from_xml(ElementTree.fromstring(text))  # noqa: S314
        except ElementTree.ParseError as exc:
            raise ValueError(f"not XML: {exc}") from None
    return json.loads(text)


def _from_xml(element: ElementTree.Element):
    if element.tag in LISTS:
        child = LISTS[element.tag]
        return [_from_xml(e) for e in element if e.tag == child]
    children = list(element)
    if not children:
        text = (element.text or "").strip()
        return text or None
    return {e.tag: _from_xml(e) for e in children}


def _descriptions(body: bytes, fmt: str) -> list[str]:
    """The error list of a refusal, as far as it can be read."""
    try:
        errors = parse(body, fmt)
    except ValueError:
        return [body[:300].decode("utf-8", "replace").strip()] if body.strip() else []
    if isinstance(errors, dict):
        errors = errors.get("errors") or [errors]
    if not isinstance(errors, list):
        return [str(errors)[:300]]
    found = []
    for error in errors:
        if isinstance(error, dict):
            found.append(str(error.get("description") or error.get("code") or error)[:300])
        else:
            found.append(str(error)[:300])
    return found


class Client:
    """One endpoint's GeoReport v2 resources."""

    def __init__(self, endpoint: UpstreamEndpoint):
        self.endpoint = endpoint
        self.fmt = endpoint.format
        self.timeout = endpoint.timeout_seconds
        if not endpoint.base_url.lower().startswith(("http://", "https://")):
            raise NotSent(f"{endpoint.base_url} is not an http(s) URL.")

    # -- the calls --------------------------------------------------------------------------

    def services(self) -> list:
        return self._list(self.get("services"))

    def service_definition(self, service_code: str) -> dict:
        answer = self.get(f"services/{service_code}")
        if not isinstance(answer, dict):
            raise Uncertain("The service definition is not an object.")
        return answer

    def requests(self, **params) -> list:
        return self._list(self.get("requests", params))

    def token(self, token: str) -> list:
        return self._list(self.get(f"tokens/{token}"))

    def updates(self, **params) -> list:
        # mySociety's servicerequestupdates; FixMyStreet sends its key on this GET too.
        return self._list(self.get("servicerequestupdates", params, with_key=True))

    def post_request(self, form: list[tuple[str, str]]) -> list:
        return self._list(self.post("requests", form))

    def post_update(self, form: list[tuple[str, str]]) -> list:
        return self._list(self.post("servicerequestupdates", form))

    # -- HTTP -------------------------------------------------------------------------------

    def get(self, resource: str, params: dict | None = None, *, with_key: bool = False):
        query = [(k, str(v)) for k, v in (params or {}).items() if v not in (None, "")]
        query += self._identity(with_key=with_key)
        url = self.endpoint.resource_url(resource)
        if query:
            url = f"{url}?{urlencode(query)}"
        return self._exchange(urllib.request.Request(url, headers=self._headers()))  # noqa: S310

    def post(self, resource: str, form: list[tuple[str, str]]):
        body = urlencode([*form, *self._identity(with_key=True)]).encode()
        headers = {
            **self._headers(),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        request = urllib.request.Request(  # noqa: S310  (http(s) only: checked in __init__)
            self.endpoint.resource_url(resource), data=body, headers=headers, method="POST"
        )
        return self._exchange(request)

    def _identity(self, *, with_key: bool) -> list[tuple[str, str]]:
        found = []
        if self.endpoint.jurisdiction_id:
            found.append(("jurisdiction_id", self.endpoint.jurisdiction_id))
        if with_key and self.endpoint.has_api_key:
            try:
                found.append(("api_key", self.endpoint.api_key))
            except UnreadableSecret as exc:
                raise NotSent(str(exc)) from None
        return found

    def _headers(self) -> dict:
        accept = "text/xml" if self.fmt == "xml" else "application/json"
        return {"Accept": accept, "User-Agent": f"{settings.SITE_NAME} ({settings.SITE_URL})"}

    def _exchange(self, request: urllib.request.Request):
        status, body = self._send(request)
        if 200 <= status < 300:
            try:
                return parse(body, self.fmt)
            except ValueError as exc:
                raise Uncertain(
                    f"HTTP {status} with an answer that cannot be read: {exc}"
                ) from None
        if status == 429:
            raise NotSent("HTTP 429: the city asks us to slow down.")
        if status == 408 or status >= 500:
            raise Uncertain(f"HTTP {status}: {'; '.join(_descriptions(body, self.fmt))}"[:500])
        raise Refused(status, _descriptions(body, self.fmt))

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        """(status, body). urllib raises URLError only while connecting or writing the request,
        before any answer, so that is NotSent; anything after the request went out is
        Uncertain."""
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return response.status, _read(response)
        except urllib.error.HTTPError as answer:
            try:
                return answer.code, _read(answer)
            except (OSError, http.client.HTTPException):
                return answer.code, b""
            finally:
                answer.close()
        except urllib.error.URLError as exc:
            raise NotSent(f"Could not reach {request.host}: {exc.reason}") from None
        except TimeoutError as exc:
            raise Uncertain(f"No answer within {self.timeout} s: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise Uncertain(f"The connection broke: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def _list(answer) -> list:
        if isinstance(answer, dict):
            # Some servers wrap the list in an object named after the root element.
            for name in LISTS:
                if isinstance(answer.get(name), list):
                    return answer[name]
        if not isinstance(answer, list):
            raise Uncertain("The answer is not a list.")
        return answer


def _read(response) -> bytes:
    body = response.read(MAX_ANSWER_BYTES + 1)
    if len(body) > MAX_ANSWER_BYTES:
        raise Uncertain(f"The answer is larger than {MAX_ANSWER_BYTES} bytes.")
    return body
