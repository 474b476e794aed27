"""What the city's system receives: a report as GeoReport v2's POST requests form, a comment or a
status change as mySociety's POST servicerequestupdates form, and the words for our statuses.

Every report's description ends with our reference and its page ("CivicFix K7M2-9QXR: https://..."):
staff there can find it here, and our sender finds it there (delivery.find_sent) when an answer
was lost, instead of posting it a second time.
"""

from __future__ import annotations

from django.conf import settings

from departments.models import ServiceTypeUpstream, UpstreamEndpoint
from issues.models import CLOSED_STATUSES, DESCRIPTION_MAX, Issue, Status
from issues.notify.links import absolute

# Our statuses as the update extension's words (FixMyStreet's extended statuses, which it and
# CivicFix read; a server that knows only OPEN and CLOSED reads the first word's meaning).
STATUS_WORDS = {
    Status.OPEN: "OPEN",
    Status.ACKNOWLEDGED: "INVESTIGATING",
    Status.IN_PROGRESS: "IN_PROGRESS",
    Status.CLOSED: "CLOSED",
    Status.ARCHIVED: "CLOSED",
}


def marker(issue: Issue) -> str:
    return f"{settings.SITE_NAME} {issue.public_id}: {absolute(issue.get_absolute_url())}"


def description(issue: Issue) -> str:
    """The resident's words, then where to find the report here; cut to GeoReport's 4,000."""
    tail = f"\n\n{marker(issue)}"
    text = issue.description or issue.service_type.name
    room = DESCRIPTION_MAX - len(tail)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return text + tail


def their_service_code(issue: Issue, mapping: ServiceTypeUpstream | None) -> str:
    return (mapping and mapping.service_code) or issue.service_type.service_code


def _attribute_fields(answers: dict, attribute_map: dict) -> list[tuple[str, str]]:
    fields = []
    for code, value in answers.items():
        target = attribute_map.get(code, code)
        if target is None:
            continue
        renames = {}
        if isinstance(target, dict):
            renames = target.get("values") or {}
            target = target["code"]
        if isinstance(value, list):
            fields += [(f"attribute[{target}][]", str(renames.get(v, v))) for v in value]
        else:
            fields.append((f"attribute[{target}]", str(renames.get(str(value), value))))
    return fields


def _contact_fields(issue: Issue) -> list[tuple[str, str]]:
    name = issue.reporter.display_name if issue.reporter_id else issue.reporter_name
    first, _, last = (name or "").strip().partition(" ")
    fields = [("email", issue.contact_email), ("first_name", first), ("last_name", last.strip())]
    fields.append(("phone", issue.reporter_phone))
    return [(k, v) for k, v in fields if v]


def report_form(
    issue: Issue, *, endpoint: UpstreamEndpoint, mapping: ServiceTypeUpstream | None
) -> list[tuple[str, str]]:
    """POST requests: type, place, the words, the answers under their codes, the first public
    photo, and the reporter's contact details only where the endpoint may have them."""
    form = [("service_code", their_service_code(issue, mapping))]
    if issue.latitude is not None:
        form += [("lat", f"{issue.latitude:.6f}"), ("long", f"{issue.longitude:.6f}")]
    if issue.address:
        form.append(("address_string", issue.address))
    if issue.zipcode:
        form.append(("zipcode", issue.zipcode))
    form.append(("description", description(issue)))
    form += _attribute_fields(issue.attributes or {}, (mapping and mapping.attribute_map) or {})
    if endpoint.share_contact_details:
        form += _contact_fields(issue)
    # The resident's own photo: never a staff "after" photo, nor a neighbour's "still there"
    # one (which a moderator may hide after this is sent).
    photo = (
        issue.photos.filter(is_hidden=False, status_change__isnull=True, comment__isnull=True)
        .order_by("created_at", "id")
        .first()
    )
    if photo is not None:
        url = photo.image.url
        form.append(
            ("media_url", url if url.startswith(("http://", "https://")) else absolute(url))
        )
    elif issue.media_url:
        form.append(("media_url", issue.media_url))
    return form


def update_form(
    *,
    issue: Issue,
    their_id: str,
    update_id: str,
    at,
    status: str,
    text: str,
    author=None,
    endpoint: UpstreamEndpoint,
) -> list[tuple[str, str]]:
    """POST servicerequestupdates: their request id, our update id (so a server that keeps it
    can tell a repeat), when, the status after it and the words."""
    form = [
        ("service_request_id", their_id),
        ("update_id", update_id),
        ("updated_datetime", at.isoformat(timespec="seconds")),
        ("status", STATUS_WORDS.get(status, "CLOSED" if status in CLOSED_STATUSES else "OPEN")),
        ("description", text[:DESCRIPTION_MAX]),
    ]
    if endpoint.share_contact_details and author is not None:
        first, _, last = (author.display_name or "").partition(" ")
        form += [
            (k, v)
            for k, v in (("email", author.email), ("first_name", first), ("last_name", last))
            if v
        ]
    return form
