"""One serialiser per format. Views build plain dicts and lists once; these turn them into the
GeoReport v2 JSON (the "Spark convention": a list root is a bare array) or XML (named roots,
repeated singular children, empty elements for nulls, booleans as true/false)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from django.http import HttpResponse

from accounts.text import xml_safe

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

# Repeated children are named in the singular of their list's element, as in the spec's examples.
SINGULAR = {
    "service_requests": "request",
    "service_request_updates": "request_update",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
    "assets": "asset",
    "service_codes": "service_code",
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # XML 1.0 cannot carry control characters at all, even escaped: a row stored before text
    # was cleaned where it enters must not make the whole document unreadable.
    return escape(xml_safe(str(value)))


def _element(name: str, value, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{name}>")
        for key, child in value.items():
            _element(key, child, out)
        out.append(f"</{name}>")
    elif isinstance(value, list | tuple):
        child_name = SINGULAR.get(name, "item")
        out.append(f"<{name}>")
        for child in value:
            _element(child_name, child, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_text(value)}</{name}>")


def to_xml(root: str, data) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _element(root, data, out)
    out.append("\n")
    return "".join(out)


def to_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def render(fmt: str, root: str, data, *, status: int = 200) -> HttpResponse:
    """The response in the format the URL's suffix asked for."""
    if fmt == "xml":
        return HttpResponse(to_xml(root, data), content_type=XML_CONTENT_TYPE, status=status)
    return HttpResponse(to_json(data), content_type=JSON_CONTENT_TYPE, status=status)
