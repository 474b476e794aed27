"""Plain dicts in GeoReport v2's shapes, built once and rendered by issues/open311/render.py.

Only public fields ever go in: never the reporter's identity or contact details, internal notes,
hidden comments or hidden photos (the selectors prefetch only the public ones).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import AssetLayer, ServiceAttribute, ServiceType
from departments.translations import translated, translated_choices
from issues.models import (
    ASSET_ATTRIBUTE,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Issue,
    Photo,
    Resolution,
    Status,
    resolution_text,
)
from issues.open311.query import RequestPage

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
        "service_name": translated(service_type, "name"),
        "description": _or_null(translated(service_type, "description")),
        "metadata": service_type.metadata,
        "type": "realtime",
        "keywords": _or_null(service_type.keywords),
        "group": _or_null(translated(service_type, "group")),
    }


def attribute(attr: ServiceAttribute) -> dict:
    return {
        "variable": attr.variable,
        "code": attr.code,
        "datatype": attr.datatype,
        "required": attr.required,
        "datatype_description": _or_null(translated(attr, "datatype_description")),
        "order": attr.order,
        "description": translated(attr, "description"),
        "values": [
            {"key": str(v["key"]), "name": str(v["name"])} for v in translated_choices(attr)
        ],
    }


def service_definition(service_type: ServiceType) -> dict:
    attributes = [attribute(a) for a in service_type.attributes.all()]
    if service_type.asset_layer is not None:
        last = max((a["order"] for a in attributes), default=0)
        attributes.append(asset_attribute(service_type.asset_layer, last + 1))
    return {"service_code": service_type.service_code, "attributes": attributes}


def asset_attribute(layer: AssetLayer, order: int) -> dict:
    """The question a type with an asset layer adds: which asset (its id, from assets.json)."""
    return {
        "variable": True,
        "code": ASSET_ATTRIBUTE,
        "datatype": "string",
        "required": False,
        "datatype_description": _("The %(label)s's id, from assets.json?layer=%(layer)s.")
        % {"label": layer.asset_label, "layer": layer.slug},
        "order": order,
        "description": _("Which %(label)s is it?") % {"label": layer.asset_label},
        "values": [],
    }


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


class _RowWriter:
    """What every row of a page shares, worked out once per page: the city's time zone (one
    ZoneInfo instead of a `timezone.localtime` per value), the photo storage, the issue-page URL
    (one reverse() for the page, not one per row)."""

    PLACEHOLDER = "PUBLICID0"

    def __init__(self, request):
        self.request = request
        self.tz = timezone.get_current_timezone()
        self.storage = Photo._meta.get_field("image").storage
        self.url_head, self.url_tail = reverse(
            "issues:detail", kwargs={"public_id": self.PLACEHOLDER}
        ).split(self.PLACEHOLDER)

    def w3c(self, value) -> str | None:
        # The same text as w3c() below, without asgiref's Local lookup per value.
        if value is None:
            return None
        return value.astimezone(self.tz).isoformat(timespec="seconds")

    def photo_urls(self, names: list[str]) -> list[str]:
        return [_absolute(self.request, self.storage.url(name)) for name in names]


def service_requests(page: RequestPage, request=None, *, extensions: bool = False) -> list[dict]:
    """A page of service requests (plain values from issues/open311/query.py) as GeoReport
    dicts, in the page's order."""
    writer = _RowWriter(request)
    w3c_ = writer.w3c
    out = []
    for row in page.rows:
        photos = writer.photo_urls(page.photos.get(row["id"], ()))
        data = {
            "service_request_id": row["public_id"],
            "status": open311_status(row["status"]),
            "status_notes": _status_notes(row),
            "service_name": row["service_type__name"],
            "service_code": row["service_type__service_code"],
            "description": row["description"] or None,
            "agency_responsible": row["department__name"],
            "service_notice": row["service_type__service_notice"] or None,
            "requested_datetime": w3c_(row["requested_at"]),
            "updated_datetime": w3c_(row["updated_at"]),
            "expected_datetime": w3c_(row["expected_at"]),
            "address": row["address"] or None,
            "address_id": None,
            "zipcode": row["zipcode"] or None,
            "lat": row["latitude"],
            "long": row["longitude"],
            # A photo uploaded with the report is its media; a client-supplied media_url wins.
            "media_url": row["media_url"] or (photos[0] if photos else None),
        }
        if extensions:
            public_id = row["public_id"]
            data["extended_attributes"] = {
                "ward": row["ward__number"],
                "channel": row["source"],
                "detailed_status": row["status"],
                "url": _absolute(request, f"{writer.url_head}{public_id}{writer.url_tail}"),
                "photos": photos,
                "asset": _asset(row),
                # Open311 has one `closed`; why it closed is ours (issue 16).
                "resolution": row["resolution"] or None,
                "duplicate_of": row["duplicate_of__public_id"],
                "referred_to": row["referred_to"] or None,
            }
            data["notes"] = notes(
                page.changes.get(row["id"], ()), page.comments.get(row["id"], ()), w3c_
            )
        out.append(data)
    return out


def _status_notes(row: dict) -> str | None:
    """The city's latest note; on a closed request with a resolution, the resolution's public
    sentence first (GeoReport's status stays `closed`)."""
    notes = row["status_notes"] or ""
    resolution = row["resolution"] if row["status"] in CLOSED_STATUSES else ""
    if resolution:
        text = resolution_text(
            resolution,
            duplicate_of_id=row.get("duplicate_of__public_id") or "",
            referred_to=row["referred_to"],
        )
        label = Resolution(resolution).label
        notes = f"{label}: {text}" + (f" {notes}" if notes else "")
    return notes or None


def _asset(row: dict) -> dict | None:
    """The asset a request names (the id to send back as attribute[asset_id]), or None."""
    if row["asset__source_id"] is None:
        return None
    return {
        "asset_id": row["asset__source_id"],
        "layer": row["asset__layer__slug"],
        "name": row["asset__name"] or None,
    }


def _status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def notes(changes, comments, w3c_=w3c) -> list[dict]:
    """The public timeline: status changes with their public messages, and public comments.
    Internal notes and hidden comments are filtered out by the query (issues/open311/query.py)."""
    items = []
    for change in changes:
        before, after = change["from_status"], change["to_status"]
        if not before:
            kind, summary = "submitted", _("Request submitted")
        elif before == after and change.get("to_department_id") not in (
            None,
            change.get("from_department_id"),
        ):
            kind, summary = "transferred", _("Request transferred")
        elif before == after:  # a note that left the status as it was (from the city's system)
            kind, summary = "activity", _("Update")
        elif after in OPEN_STATUSES and before not in OPEN_STATUSES:
            kind, summary = "opened", _("Request reopened")
        else:
            kind = "activity" if after in OPEN_STATUSES else "closed"
            summary = _("Status: %(s)s") % {"s": _status_label(after)}
            if change.get("resolution"):
                summary = f"{summary} ({Resolution(change['resolution']).label})"
        items.append((change["created_at"], kind, summary, change["message"]))
    for comment in comments:
        department = comment.get("official_department__name")
        if department:  # an official reply speaks for the department, never the staffer
            summary = _("Official reply from %(d)s") % {"d": department}
        else:
            summary = _("Comment added")
        items.append((comment["created_at"], "comment", summary, comment["body"]))
    items.sort(key=lambda item: item[0])
    return [
        {"datetime": w3c_(at), "type": kind, "summary": summary, "description": _or_null(text)}
        for at, kind, summary, text in items
    ]


def created(issue: Issue) -> dict:
    return {
        "service_request_id": issue.public_id,
        "service_notice": _or_null(translated(issue.service_type, "service_notice")),
        "account_id": None,
    }


def token(public_id: str) -> dict:
    return {"service_request_id": public_id, "token": public_id}


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
