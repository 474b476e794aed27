"""GeoReport v2 endpoints. Each view reads like the spec's method: check the jurisdiction, read
the arguments, call a selector or a service, render the plain dicts in the suffix's format.
Errors of every kind leave as an Open311 error list in that format, never as an HTML page."""

from __future__ import annotations

import functools
import math

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    ValidationError,
)
from django.core.validators import URLValidator, validate_email
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts import ratelimit
from accounts.services import use_api_key
from departments.selectors import (
    active_service_types,
    asset_in_layer,
    service_type_by_code,
    service_type_with_attributes,
)
from issues import services
from issues.models import ASSET_ATTRIBUTE, DESCRIPTION_MAX, CityUpdate, Source
from issues.open311 import assets, openapi, query, serializers, updates
from issues.open311.errors import Open311Error, error_response, from_validation_error
from issues.open311.language import requested_language
from issues.open311.render import FORMATS, render
from issues.photos import prepare_photos


def open311_endpoint(methods=("GET", "HEAD")):
    """Method check, jurisdiction check and error rendering shared by every endpoint."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, fmt: str = "json", **kwargs):
            if fmt not in FORMATS:
                return error_response(
                    "json",
                    Open311Error(404, _("Formats are .json and .xml, not .%(f)s.") % {"f": fmt}),
                )
            try:
                if request.method not in methods:
                    raise Open311Error(
                        405, _("This resource answers %(m)s.") % {"m": ", ".join(methods)}
                    )
                check_jurisdiction(request)
                language = requested_language(request)
                with translation.override(language):
                    response = view(request, *args, fmt=fmt, **kwargs)
                response["Content-Language"] = language
            except Open311Error as error:
                response = error_response(fmt, error)
                if error.status == 405:
                    response["Allow"] = ", ".join(methods)
            except (RequestDataTooBig, TooManyFieldsSent):
                return error_response(fmt, Open311Error(400, _("The request body is too large.")))
            except (MultiPartParserError, SuspiciousOperation, BadRequest):
                response = error_response(
                    fmt, Open311Error(400, _("The request body could not be read."))
                )
            # Public data, and keys are not cookies: apps on any site may call the API.
            response["Access-Control-Allow-Origin"] = "*"
            return response

        # The API is never cookie-authenticated, so CSRF does not apply to any of it; without
        # this an unknown method (QUERY, PATCH) met the CSRF check's HTML 403, not our 405.
        return csrf_exempt(wrapper)

    return decorator


def _arg(request, name: str) -> str:
    """A POST may carry an argument in its body or its query string (the `open311` client sends
    api_key in the query string); the body wins."""
    if request.method == "POST":
        value = request.POST.get(name)
        if value not in (None, ""):
            return value.strip()
    return (request.GET.get(name) or "").strip()


def check_jurisdiction(request) -> None:
    # One jurisdiction: absent or empty is fine; the configured one is fine; any other is unknown.
    jurisdiction = _arg(request, "jurisdiction_id")
    if jurisdiction and jurisdiction.lower() != settings.OPEN311_JURISDICTION.lower():
        raise Open311Error(
            404, _("jurisdiction_id “%(j)s” was not found.") % {"j": jurisdiction[:80]}
        )


@open311_endpoint()
def discovery(request, fmt: str):
    return _cacheable(render(fmt, "discovery", serializers.discovery(request)))


def _cacheable(response: HttpResponse) -> HttpResponse:
    # The catalogue changes rarely and apps fetch it on every start; requests are never cached.
    response["Cache-Control"] = "public, max-age=300"
    return response


@open311_endpoint()
def service_list(request, fmt: str):
    types = active_service_types()
    return _cacheable(render(fmt, "services", [serializers.service(t) for t in types]))


@open311_endpoint()
def service_definition(request, service_code: str, fmt: str):
    service_type = service_type_with_attributes(service_code)
    if service_type is None:
        raise Open311Error(404, _("service_code “%(c)s” was not found.") % {"c": service_code[:80]})
    return _cacheable(
        render(fmt, "service_definition", serializers.service_definition(service_type))
    )


@csrf_exempt  # key-authenticated, never cookie-authenticated, so CSRF does not apply
@open311_endpoint(methods=("GET", "HEAD", "POST"))
def requests_collection(request, fmt: str):
    if request.method == "POST":
        return create_request(request, fmt)
    params = query.RequestQuery.from_params(request.GET)
    page = query.service_requests(params)
    data = serializers.service_requests(page, request, extensions=params.extensions)
    response = render(fmt, "service_requests", data)
    _pagination_headers(request, response, params, page.next_cursor)
    return response


PAGING_HEADERS = "Link, X-Next-Cursor, X-Next-Page-URL, X-Previous-Page-URL, X-Page, X-Page-Size"


def _pagination_headers(request, response: HttpResponse, params, next_cursor: str | None) -> None:
    """X-Page(-Size), X-Next/Previous-Page-URL and Link. A page read by `after` links on by
    `after`; a numbered page links by number, and offers the cursor too (X-Next-Cursor), so a
    harvester can switch to reading by cursor at any page."""
    response["X-Page"] = str(params.page)
    response["X-Page-Size"] = str(params.page_size)
    # Without this a harvester running in a browser on another site cannot read its next page.
    response["Access-Control-Expose-Headers"] = PAGING_HEADERS
    if next_cursor:
        response["X-Next-Cursor"] = next_cursor
    base = request.build_absolute_uri(request.path)
    if params.after is not None:
        links = [("next", {"after": next_cursor, "page": None})] if next_cursor else []
    else:
        links = [
            ("next", {"page": str(params.page + 1)} if next_cursor else None),
            ("prev", {"page": str(params.page - 1)} if params.page > 1 else None),
        ]
    header = []
    for rel, changes in links:
        if changes is None:
            continue
        args = request.GET.copy()
        for name, value in changes.items():
            if value is None:
                args.pop(name, None)
            else:
                args[name] = value
        url = f"{base}?{urlencode(sorted(args.items()))}"
        response["X-Next-Page-URL" if rel == "next" else "X-Previous-Page-URL"] = url
        header.append(f'<{url}>; rel="{rel}"')
    if header:
        response["Link"] = ", ".join(header)


@open311_endpoint()
def request_detail(request, service_request_id: str, fmt: str):
    extensions = query.read_bool(request.GET, "extensions")
    page = query.service_request(service_request_id, extensions=extensions)
    if page is None:
        raise Open311Error(
            404, _("service_request_id “%(i)s” was not found.") % {"i": service_request_id[:40]}
        )
    data = serializers.service_requests(page, request, extensions=extensions)
    return render(fmt, "service_requests", data)


@open311_endpoint()
def token_detail(request, token: str, fmt: str):
    # We are realtime: a request's id is known at once, so every token is its request's id.
    page = query.service_request(token)
    if page is None:
        raise Open311Error(404, _("token “%(t)s” was not found.") % {"t": token[:40]})
    return render(fmt, "service_requests", [serializers.token(page.rows[0]["public_id"])])


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _posted_key(request):
    """A POST's api_key, counted (None for none or an unknown one), once the body is a form."""
    if request.content_type not in FORM_TYPES:
        raise Open311Error(
            400,
            _("Send the request as application/x-www-form-urlencoded or multipart/form-data."),
        )
    return use_api_key(raw=_arg(request, "api_key"))


def _rate_limited(fmt: str, key) -> HttpResponse | None:
    """The 429 (with Retry-After) when the key has spent its POSTs for the window."""
    if ratelimit.allow("open311_post", identities=[f"key:{key.pk}"]):
        return None
    limit, window = settings.RATE_LIMITS["open311_post"]
    response = error_response(
        fmt,
        Open311Error(
            429,
            _("This api_key has made %(n)d requests in the last %(m)d minutes; slow down.")
            % {"n": limit, "m": window // 60},
        ),
    )
    response["Retry-After"] = str(window)
    return response


def create_request(request, fmt: str):
    """POST requests: authenticate the key, read the form, create through the service layer."""
    key = _posted_key(request)
    if key is None:
        raise Open311Error(403, _("A valid api_key is required to create a service request."))
    if refusal := _rate_limited(fmt, key):
        return refusal

    code = _arg(request, "service_code")
    if not code:
        raise Open311Error(400, _("service_code is required."))
    service_type = service_type_by_code(code)
    if service_type is None:
        raise Open311Error(404, _("service_code “%(c)s” was not found.") % {"c": code[:80]})

    answers = attribute_answers(request.POST)
    asset = _named_asset(service_type, answers)
    latitude, longitude = _location(request, required=asset is None)
    description = request.POST.get("description", "")
    if len(description) > DESCRIPTION_MAX + 1000:
        # create_issue says the same; refuse the absurd before building anything on it.
        raise Open311Error(
            400, _("description: at most %(n)d characters.") % {"n": DESCRIPTION_MAX}
        )
    email = _arg(request, "email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(
                400, _("email: “%(e)s” is not an email address.") % {"e": email[:80]}
            ) from None
    media_url = _arg(request, "media_url")
    if media_url:
        try:
            if len(media_url) > 500:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(
                400, _("media_url must be an http(s) URL of at most 500 characters.")
            ) from None
    try:
        photos = prepare_photos(request.FILES.getlist("media"))
        name = " ".join(p for p in (_arg(request, "first_name"), _arg(request, "last_name")) if p)
        issue = services.create_issue(
            service_type=service_type,
            latitude=latitude,
            longitude=longitude,
            address=_arg(request, "address_string"),
            description=description,
            attributes=answers,
            asset=asset,
            reporter_name=name,
            reporter_email=email,
            reporter_phone=_arg(request, "phone"),
            source=Source.OPEN311,
            photos=photos,
            media_url=media_url,
            require_ward=False,  # a point in no ward is kept and flagged for triage
        )
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return render(fmt, "service_requests", [serializers.created(issue)])


def _named_asset(service_type, answers: dict[str, list[str]]):
    """The asset named by attribute[asset_id] for a type with an asset layer (taken out of the
    answers); for other types the attribute stays, and is refused as an unknown question."""
    layer = service_type.asset_layer
    if layer is None or ASSET_ATTRIBUTE not in answers:
        return None
    values = [v.strip() for v in answers.pop(ASSET_ATTRIBUTE) if v.strip()]
    if not values:
        return None
    asset = asset_in_layer(layer, values[0])
    if asset is None or len(values) > 1:
        raise Open311Error(
            400,
            _("attribute[%(a)s]: “%(v)s” is not the id of one of the %(plural)s (see assets.json).")
            % {
                "a": ASSET_ATTRIBUTE,
                "v": ",".join(values)[:60],
                "plural": layer.asset_label_plural,
            },
        )
    return asset


def _location(request, *, required: bool = True) -> tuple[float | None, float | None]:
    raw_lat, raw_long = _arg(request, "lat"), _arg(request, "long")
    if not raw_lat and not raw_long:
        if not required:
            return None, None
        if not _arg(request, "address_string"):
            if _arg(request, "address_id"):
                raise Open311Error(
                    400, _("address_id is not supported here; send lat and long or address_string.")
                )
            raise Open311Error(400, _("A location is required: lat and long, or address_string."))
        return None, None
    if not raw_lat or not raw_long:
        raise Open311Error(400, _("lat and long must be sent together."))
    values = []
    for name, raw, bound in (("lat", raw_lat, 90), ("long", raw_long, 180)):
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not -bound <= value <= bound:
            raise Open311Error(
                400,
                _("%(p)s must be a number between -%(b)d and %(b)d.") % {"p": name, "b": bound},
            )
        values.append(value)
    return values[0], values[1]


def attribute_answers(post) -> dict[str, list[str]]:
    """attribute[CODE]=v and attribute[CODE][]=v1&attribute[CODE][]=v2 as {CODE: [values]}."""
    answers: dict[str, list[str]] = {}
    for key in post:
        if not key.startswith("attribute[") or not key.endswith("]"):
            continue
        code = key[len("attribute[") :]
        code = code[: -len("[]")] if code.endswith("[]") else code
        code = code[:-1]
        if code:
            answers.setdefault(code, []).extend(post.getlist(key))
    return answers


@csrf_exempt  # key-authenticated, never cookie-authenticated, so CSRF does not apply
@open311_endpoint(methods=("GET", "HEAD", "POST"))
def service_request_updates(request, fmt: str):
    """mySociety's update extension: GET is the public feed of updates, oldest first; POST is a
    department's own system pushing a status change or note (issues/open311/updates.py)."""
    if request.method == "POST":
        return push_update(request, fmt)
    feed = updates.service_request_updates(updates.UpdateQuery.from_params(request.GET))
    return render(fmt, "service_request_updates", feed)


def push_update(request, fmt: str):
    key = _posted_key(request)
    if key is not None and (refusal := _rate_limited(fmt, key)):
        return refusal
    pushed = updates.read_push(key, lambda name: _arg(request, name))
    try:
        change = services.apply_city_update(
            issue=pushed.issue,
            update_key=pushed.update_id,
            status_word=pushed.status,
            text=pushed.description,
            at=pushed.at,
            source=pushed.source,
            channel=CityUpdate.Channel.PUSH,
        )
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    update_id = f"s{change.pk}" if change else updates.known_update(pushed.issue, pushed.update_id)
    return render(fmt, "service_request_updates", [{"update_id": update_id or None}])


@open311_endpoint()
def asset_list(request, fmt: str):
    """Extension: the assets of the city's layers, by layer and distance (issues/open311/assets.py)."""
    params = assets.AssetQuery.from_params(request.GET)
    rows, has_next = assets.asset_page(params)
    response = render(fmt, "assets", assets.serialize(rows, request))
    response["X-Page"], response["X-Page-Size"] = str(params.page), str(params.page_size)
    if has_next:
        args = request.GET.copy()
        args["page"] = str(params.page + 1)
        url = f"{request.build_absolute_uri(request.path)}?{urlencode(sorted(args.items()))}"
        response["Link"] = f'<{url}>; rel="next"'
    response["Access-Control-Expose-Headers"] = "Link, X-Page, X-Page-Size"
    return response


def openapi_document(request):
    return JsonResponse(openapi.document(request), json_dumps_params={"ensure_ascii": False})


def not_found(request, rest: str = ""):
    fmt = "xml" if rest.endswith(".xml") else "json"
    return error_response(fmt, Open311Error(404, _("There is no such GeoReport v2 resource.")))
