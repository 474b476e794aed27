"""The OpenAPI 3 description of the GeoReport v2 API, served at /open311/v2/openapi.json.

The shapes of the answers are in issues/open311/openapi_schemas.py; this module holds the paths.
Written by hand from the same field lists as the serialisers, and checked against the running
server by schemathesis in tests/open311/test_clients.py, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from departments.models import ServiceType
from issues.open311.assets import ASSET_ARGUMENTS
from issues.open311.openapi_schemas import QUERY_DATETIME, SCHEMAS
from issues.open311.query import BOOLEAN_PATTERN, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_RADIUS_M
from issues.open311.updates import OPENAPI_PUSH_FORM, OPENAPI_SCHEMAS, OPENAPI_WINDOW


def _param(name: str, schema: dict, description: str, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


JURISDICTION = _param(
    "jurisdiction_id",
    {"type": "string"},
    "Optional: this endpoint serves one jurisdiction. Any other value is a 404.",
)


def _json(schema_name: str, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def _json_list(schema_name: str, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"$ref": f"#/components/schemas/{schema_name}"},
                }
            }
        },
    }


def _errors(*codes: int) -> dict:
    meaning = {
        400: "A missing or unreadable argument.",
        403: "Missing or invalid api_key.",
        404: "Unknown resource, service_code, id, token or jurisdiction_id.",
        405: "Method not allowed.",
        429: "Rate limit of the api_key spent.",
    }
    return {str(c): _json("Errors", meaning[c]) for c in codes}


REQUEST_FILTERS = [
    _param(
        "service_request_id",
        {"type": "string"},
        "Comma-separated ids; overrides every other filter.",
    ),
    _param("service_code", {"type": "string"}, "Comma-separated service codes."),
    _param("start_date", QUERY_DATETIME, "Earliest requested_datetime."),
    _param("end_date", QUERY_DATETIME, "Latest requested_datetime."),
    _param(
        "status",
        {"type": "string", "enum": ["open", "closed", "open,closed"]},
        "open (open, acknowledged, in progress) or closed (closed, archived).",
    ),
    _param("updated_after", QUERY_DATETIME, "Extension."),
    _param("updated_before", QUERY_DATETIME, "Extension."),
    _param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "1-based page."),
    _param(
        "after",
        {"type": "string"},
        "Extension: a cursor, the X-Next-Cursor header of the page before. Reads on from that "
        "request, newest first, at the same cost at any depth, and never repeats or skips a "
        "request while new ones arrive; the next page is in Link rel=next. Not with page.",
    ),
    _param(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        f"Default {DEFAULT_PAGE_SIZE}.",
    ),
    _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "With long and radius."),
    _param("long", {"type": "number", "minimum": -180, "maximum": 180}, "With lat and radius."),
    _param(
        "radius",
        {"type": "number", "minimum": 0, "maximum": MAX_RADIUS_M},
        "Metres around lat/long.",
    ),
    _param("ward", {"type": "string"}, "Comma-separated ward numbers."),
    _param(
        "extensions",
        # Exactly what the server reads (issues/open311/query.py:read_bool), in any letter case.
        {"type": "string", "pattern": BOOLEAN_PATTERN},
        "true (or 1, yes) adds extended_attributes and notes (the public timeline); false, 0, "
        "no or empty leave them out. Any other value is a 400.",
    ),
]

POST_FORM = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        "api_key": {"type": "string"},
        "jurisdiction_id": {"type": "string"},
        "service_code": {"type": "string"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "device_id": {"type": "string"},
        "account_id": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone": {"type": "string"},
        "description": {"type": "string", "maxLength": 4000},
        "media_url": {"type": "string", "format": "uri"},
    },
    "additionalProperties": {"type": "string"},
}


@dataclass(frozen=True)
class Operation:
    """One call of the API, as the paths table declares it."""

    path: str
    method: str
    operation_id: str
    summary: str
    ok: dict  # the 200 response
    errors: tuple[int, ...] = ()
    parameters: tuple[dict, ...] = ()
    description: str = ""
    takes_request_form: bool = False  # the POST_FORM body, as form fields or multipart
    form: dict | None = None  # another form body (urlencoded)


# Its schema is filled in per document with the live catalogue's codes (see _operations).
SERVICE_CODE_IN_PATH = _param("service_code", {"type": "string"}, "The service type.", "path")

OPERATIONS = (
    Operation(
        "/open311/v2/discovery.json",
        "get",
        "discovery",
        "Service discovery",
        ok=_json("Discovery", "Endpoints and formats."),
    ),
    Operation(
        "/open311/v2/services.json",
        "get",
        "services",
        "Service list",
        parameters=(JURISDICTION,),
        ok=_json_list("Service", "Active service types."),
        errors=(400, 404),
    ),
    Operation(
        "/open311/v2/services/{service_code}.json",
        "get",
        "serviceDefinition",
        "Service definition",
        parameters=(SERVICE_CODE_IN_PATH, JURISDICTION),
        ok=_json("ServiceDefinition", "Attributes and their values."),
        errors=(400, 404),
    ),
    Operation(
        "/open311/v2/requests.json",
        "get",
        "listRequests",
        "Service requests, newest first",
        parameters=(JURISDICTION, *REQUEST_FILTERS),
        ok=_json_list("ServiceRequest", "A page of public requests."),
        errors=(400, 404),
    ),
    Operation(
        "/open311/v2/requests.json",
        "post",
        "createRequest",
        "Create a service request (api_key required)",
        description=(
            "Form-encoded or multipart (a `media` file is a photo). Attributes as "
            "attribute[CODE]=value or attribute[CODE][]=value (repeated). For a service with "
            "an asset layer, attribute[asset_id] names the asset (from assets.json) and "
            "stands in for lat/long."
        ),
        parameters=(
            _param(
                "api_key",
                {"type": "string"},
                "The key may come in the query string instead of the body.",
            ),
        ),
        takes_request_form=True,
        ok=_json_list("CreatedRequest", "The new request's id."),
        errors=(400, 403, 404, 429),
    ),
    Operation(
        "/open311/v2/requests/{service_request_id}.json",
        "get",
        "getRequest",
        "One service request (a one-element array)",
        parameters=(
            _param("service_request_id", {"type": "string"}, "The request's id.", "path"),
            JURISDICTION,
            REQUEST_FILTERS[-1],
        ),
        ok=_json_list("ServiceRequest", "The request."),
        errors=(400, 404),
    ),
    Operation(
        "/open311/v2/servicerequestupdates.json",
        "get",
        "listUpdates",
        "Status changes and public comments, oldest first (mySociety's extension)",
        parameters=(JURISDICTION, *OPENAPI_WINDOW),
        ok=_json_list("ServiceRequestUpdate", "The updates in the window."),
        errors=(400, 404),
    ),
    Operation(
        "/open311/v2/servicerequestupdates.json",
        "post",
        "pushUpdate",
        "A department's own system pushes a status change or note (integration key required)",
        description=(
            "Form-encoded. The api_key must be an integration key of the request's department; "
            "service_request_id is ours or the city's own id. The same update_id twice changes "
            "nothing."
        ),
        parameters=(
            _param(
                "api_key",
                {"type": "string"},
                "The key may come in the query string instead of the body.",
            ),
        ),
        form=OPENAPI_PUSH_FORM,
        ok=_json_list("PushedUpdate", "Our id of the update it made (null: nothing new)."),
        errors=(400, 403, 404, 429),
    ),
    Operation(
        "/open311/v2/tokens/{token}.json",
        "get",
        "getToken",
        "Request id from a token (every token is its request's id here)",
        parameters=(_param("token", {"type": "string"}, "The token.", "path"), JURISDICTION),
        ok=_json_list("Token", "The request id."),
        errors=(400, 404),
    ),
    Operation(
        "/open311/v2/assets.json",
        "get",
        "listAssets",
        "Extension: the city's assets (bus stops, street lights), read-only",
        description=(
            "Each asset lists the service_codes that report against it: send its asset_id as "
            "attribute[asset_id] when creating a request. Paged by page/page_size (Link "
            "rel=next)."
        ),
        parameters=(
            JURISDICTION,
            *(_param(name, schema, text) for name, schema, text in ASSET_ARGUMENTS),
        ),
        ok=_json_list("Asset", "A page of assets."),
        errors=(400, 404),
    ),
)


def _operations(service_codes: list[str]) -> dict:
    # The live catalogue's codes: documentation that is always current, and test generators
    # that reach past the 404 of an unknown code.
    code_schema = {"type": "string", "enum": service_codes} if service_codes else {"type": "string"}
    paths: dict[str, dict] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, code_schema)
    return paths


def _operation(operation: Operation, code_schema: dict) -> dict:
    described = {"operationId": operation.operation_id, "summary": operation.summary}
    if operation.description:
        described["description"] = operation.description
    if operation.parameters:
        described["parameters"] = [
            {**parameter, "schema": code_schema} if parameter is SERVICE_CODE_IN_PATH else parameter
            for parameter in operation.parameters
        ]
    if operation.takes_request_form:
        described["requestBody"] = _request_form(code_schema)
    elif operation.form is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": operation.form}},
        }
    described["responses"] = {"200": operation.ok, **_errors(*operation.errors)}
    return described


def _request_form(code_schema: dict) -> dict:
    post_form = {
        **POST_FORM,
        "properties": {**POST_FORM["properties"], "service_code": code_schema},
    }
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": post_form},
            "multipart/form-data": {
                "schema": {
                    **post_form,
                    "properties": {
                        **post_form["properties"],
                        "media": {"type": "string", "format": "binary"},
                    },
                }
            },
        },
    }


def document(request) -> dict:
    codes = list(
        ServiceType.objects.active().order_by("service_code").values_list("service_code", flat=True)
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.SITE_NAME} Open311 GeoReport v2",
            "version": "2",
            "description": (
                "GeoReport v2 (http://wiki.open311.org/GeoReport_v2) with the common extensions. "
                "Every path also answers in XML with the .xml suffix (text/xml; charset=utf-8), "
                "with the spec's element names. See docs/open311.md."
            ),
        },
        "servers": [{"url": request.build_absolute_uri("/").rstrip("/")}],
        "paths": _operations(codes),
        "components": {"schemas": {**SCHEMAS, **OPENAPI_SCHEMAS}},
    }
