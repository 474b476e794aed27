"""Plain dicts in GeoReport v2's shapes, built once and rendered by issues/open311/render.py.

Only public fields ever go in: never the reporter's identity or contact details, internal notes,
hidden comments or hidden photos (the selectors prefetch only the public ones).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import ServiceAttribute, ServiceType
from issues.models import OPEN_STATUSES, Issue, Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Discovery's changeset: when this API's shape last changed (bump it with the code). The catalogue
# has no timestamp of its own, and a fixed value stays sortable and stable for clients that cache.
API_CHANGESET = "2026-11-25T00:00:00Z"


def w3c(value) -> str | None:
    """W3C datetime in the city's time zone, with its offset, to the second."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _or_null(text: str | None) -> str | None:
    return text if text else None


def open311_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def service(service_type: ServiceType) -> dict:
    return {
        "service_code": service_type.service_code,
        "service_name": service_type.name,
        "description": _or_null(service_type.description),
        "metadata": service_type.metadata,
        "type": "realtime",
        "keywords": _or_null(service_type.keywords),
        "group": _or_null(service_type.group),
    }


def attribute(attr: ServiceAttribute) -> dict:
    return {
        "variable": attr.variable,
        "code": attr.code,
        "datatype": attr.datatype,
        "required": attr.required,
        "datatype_description": _or_null(attr.datatype_description),
        "order": attr.order,
        "description": attr.description,
        "values": [{"key": str(v["key"]), "name": str(v["name"])} for v in attr.values or []],
    }


def service_definition(service_type: ServiceType) -> dict:
    return {
        "service_code": service_type.service_code,
        "attributes": [attribute(a) for a in service_type.attributes.all()],
    }


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


def public_photo_urls(issue: Issue, request) -> list[str]:
    # `public_photos` is prefetched by the selector with hidden photos left out.
    return [_absolute(request, p.image.url) for p in getattr(issue, "public_photos", [])]


def service_request(issue: Issue, request=None, *, extensions: bool = False) -> dict:
    photos = public_photo_urls(issue, request)
    data = {
        "service_request_id": issue.public_id,
        "status": open311_status(issue.status),
        "status_notes": _or_null(issue.status_notes),
        "service_name": issue.service_type.name,
        "service_code": issue.service_type.service_code,
        "description": _or_null(issue.description),
        "agency_responsible": issue.department.name,
        "service_notice": _or_null(issue.service_type.service_notice),
        "requested_datetime": w3c(issue.requested_at),
        "updated_datetime": w3c(issue.updated_at),
        "expected_datetime": w3c(issue.expected_at),
        "address": _or_null(issue.address),
        "address_id": None,
        "zipcode": _or_null(issue.zipcode),
        "lat": issue.latitude,
        "long": issue.longitude,
        # A photo uploaded with the report is its media; a client-supplied media_url wins.
        "media_url": issue.media_url or (photos[0] if photos else None),
    }
    if extensions:
        data["extended_attributes"] = {
            "ward": issue.ward.number if issue.ward_id else None,
            "channel": issue.source,
            "detailed_status": issue.status,
            "url": _absolute(request, issue.get_absolute_url()),
            "photos": photos,
        }
        data["notes"] = notes(issue)
    return data


def _status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def notes(issue: Issue) -> list[dict]:
    """The public timeline: status changes with their public messages, and public comments.
    Internal notes and hidden comments are filtered out by the selector's prefetch."""
    items = []
    for change in getattr(issue, "public_changes", []):
        if not change.from_status:
            kind, summary = "submitted", _("Request submitted")
        elif change.from_status == change.to_status:
            kind, summary = "transferred", _("Request transferred")
        elif change.to_status in OPEN_STATUSES and change.from_status not in OPEN_STATUSES:
            kind, summary = "opened", _("Request reopened")
        else:
            kind = "activity" if change.to_status in OPEN_STATUSES else "closed"
            summary = _("Status: %(s)s") % {"s": _status_label(change.to_status)}
        items.append((change.created_at, kind, summary, change.message))
    for comment in getattr(issue, "public_comments", []):
        items.append((comment.created_at, "comment", _("Comment added"), comment.body))
    items.sort(key=lambda item: item[0])
    return [
        {"datetime": w3c(at), "type": kind, "summary": summary, "description": _or_null(text)}
        for at, kind, summary, text in items
    ]


def created(issue: Issue) -> dict:
    return {
        "service_request_id": issue.public_id,
        "service_notice": _or_null(issue.service_type.service_notice),
        "account_id": None,
    }


def token(issue: Issue) -> dict:
    return {"service_request_id": issue.public_id, "token": issue.public_id}


def discovery(request) -> dict:
    base = request.build_absolute_uri("/open311/v2/").rstrip("/")
    return {
        "changeset": API_CHANGESET,
        "contact": f"{settings.SITE_NAME}, {settings.CITY_NAME}: {settings.DEFAULT_FROM_EMAIL}",
        "key_service": _(
            "API keys for submitting requests are issued by the city's staff; ask %(email)s."
        )
        % {"email": settings.DEFAULT_FROM_EMAIL},
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": API_CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
