"""The components of the OpenAPI description of the GeoReport v2 API: the shapes of the answers
(`SCHEMAS`) and the small field types they share. The paths that use them are in
issues/open311/openapi.py.
"""

from __future__ import annotations

from issues.open311.assets import ASSET_SCHEMA

NULLABLE_STRING = {"type": ["string", "null"]}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
# A query date may also be sent empty, which means "not given" (many clients send every
# parameter, empty or not); the document says so, so a checker knows it is accepted.
QUERY_DATETIME = {"anyOf": [DATETIME, {"type": "string", "maxLength": 0}]}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
    "Errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string"},
            "service_name": {"type": "string"},
            "description": NULLABLE_STRING,
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": NULLABLE_STRING,
            "group": NULLABLE_STRING,
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": {"type": "string"},
            "attributes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["variable", "code", "datatype", "required", "order"],
                    "properties": {
                        "variable": {"type": "boolean"},
                        "code": {"type": "string"},
                        "datatype": {
                            "type": "string",
                            "enum": [
                                "string",
                                "number",
                                "datetime",
                                "text",
                                "singlevaluelist",
                                "multivaluelist",
                            ],
                        },
                        "required": {"type": "boolean"},
                        "datatype_description": NULLABLE_STRING,
                        "order": {"type": ["integer", "null"]},
                        "description": NULLABLE_STRING,
                        "values": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["key", "name"],
                                "properties": {
                                    "key": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "ServiceRequest": {
        "type": "object",
        "required": ["service_request_id", "status", "service_code", "requested_datetime"],
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": NULLABLE_STRING,
            "service_name": NULLABLE_STRING,
            "service_code": {"type": "string"},
            "description": {"type": ["string", "null"], "maxLength": 4000},
            "agency_responsible": NULLABLE_STRING,
            "service_notice": NULLABLE_STRING,
            "requested_datetime": DATETIME,
            "updated_datetime": NULLABLE_DATETIME,
            "expected_datetime": NULLABLE_DATETIME,
            "address": NULLABLE_STRING,
            "address_id": NULLABLE_STRING,
            "zipcode": NULLABLE_STRING,
            "lat": {"type": ["number", "null"]},
            "long": {"type": ["number", "null"]},
            "media_url": {"type": ["string", "null"]},
            "extended_attributes": {
                "type": "object",
                "description": "Only with extensions=true.",
                "properties": {
                    "ward": {"type": ["integer", "null"]},
                    "channel": {"type": "string"},
                    "detailed_status": {"type": "string"},
                    "url": {"type": "string"},
                    "photos": {"type": "array", "items": {"type": "string"}},
                    "asset": {
                        "type": ["object", "null"],
                        "description": "The asset the request names (see assets.json).",
                        "properties": {
                            "asset_id": {"type": "string"},
                            "layer": {"type": "string"},
                            "name": {"type": ["string", "null"]},
                        },
                    },
                },
            },
            "notes": {
                "type": "array",
                "description": "Only with extensions=true: the public timeline.",
                "items": {
                    "type": "object",
                    "required": ["datetime", "type"],
                    "properties": {
                        "datetime": DATETIME,
                        "type": {"type": "string"},
                        "summary": {"type": "string"},
                        "description": NULLABLE_STRING,
                    },
                },
            },
        },
    },
    "CreatedRequest": {
        "type": "object",
        "required": ["service_request_id"],
        "properties": {
            "service_request_id": {"type": "string"},
            "service_notice": NULLABLE_STRING,
            "account_id": NULLABLE_STRING,
        },
    },
    "Asset": ASSET_SCHEMA,
    "Token": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
    },
    "Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": {"type": "string"},
            "contact": {"type": "string"},
            "key_service": {"type": "string"},
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url", "changeset", "type", "formats"],
                    "properties": {
                        "specification": {"type": "string"},
                        "url": {"type": "string"},
                        "changeset": {"type": "string"},
                        "type": {"type": "string", "enum": ["production", "test"]},
                        "formats": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}
