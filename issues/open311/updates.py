"""mySociety's update extension, both ways: GET servicerequestupdates is the public feed of our
issues' status changes and comments, so FixMyStreet-style clients (and another CivicFix in front
of us) can follow CivicFix; POST servicerequestupdates lets a department's own system push a
status change or note about one of its requests, with an integration key.

Spec: https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Complete-Spec
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from accounts.models import ApiKey
from departments.attributes import parse_w3c_datetime
from departments.models import IntegrationKey
from issues.models import Comment, Issue, StatusChange, normalize_public_id
from issues.open311.errors import Open311Error
from issues.open311.query import _datetime, _int
from issues.open311.serializers import w3c
from issues.services.cityupdates import status_from_word
from issues.upstream.payloads import STATUS_WORDS

DEFAULT_UPDATES = 500
MAX_UPDATES = 1000


@dataclass(frozen=True)
class UpdateQuery:
    start: datetime | None
    end: datetime | None
    limit: int

    @classmethod
    def from_params(cls, params) -> UpdateQuery:
        start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
        if start and end and start > end:
            raise Open311Error(400, _("start_date is after end_date."))
        return cls(start, end, _int(params, "page_size", DEFAULT_UPDATES, 1, MAX_UPDATES))


def _window(queryset, query: UpdateQuery):
    if query.start:
        queryset = queryset.filter(created_at__gte=query.start)
    if query.end:
        queryset = queryset.filter(created_at__lte=query.end)
    return queryset.order_by("created_at", "id")[: query.limit]


def service_request_updates(query: UpdateQuery) -> list[dict]:
    """The public updates in the window, oldest first, at most `limit`: status changes (not the
    submission itself, nor a move between departments) and public comments, of public issues.
    Two queries, whatever the window."""
    changes = _window(
        StatusChange.objects.filter(issue__is_hidden=False)
        .exclude(from_status="")
        .exclude(Q(from_status=F("to_status")) & Q(to_department__isnull=False)),
        query,
    ).values("id", "created_at", "to_status", "message", "issue__public_id")
    status_then = (
        StatusChange.objects.filter(
            issue_id=OuterRef("issue_id"), created_at__lte=OuterRef("created_at")
        )
        .order_by("-created_at", "-id")
        .values("to_status")[:1]
    )
    comments = _window(
        Comment.objects.public()
        .filter(issue__is_hidden=False)
        .annotate(status=Subquery(status_then)),
        query,
    ).values("id", "created_at", "status", "body", "issue__public_id")
    rows = [("s", c["id"], c["created_at"], c["to_status"], c["message"], c) for c in changes]
    rows += [("c", c["id"], c["created_at"], c["status"], c["body"], c) for c in comments]
    rows.sort(key=lambda row: (row[2], row[0], row[1]))
    return [
        {
            "update_id": f"{kind}{pk}",
            "service_request_id": row["issue__public_id"],
            "status": STATUS_WORDS.get(status, "OPEN"),
            "updated_datetime": w3c(at),
            "description": text or None,
            "media_url": None,
        }
        for kind, pk, at, status, text, row in rows[: query.limit]
    ]


# -- the push ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushedUpdate:
    issue: Issue
    update_id: str
    status: str
    description: str
    at: datetime | None
    source: str


def read_push(key: ApiKey | None, arg) -> PushedUpdate:
    """The pushed update, checked: the key is an integration key of the request's department,
    the arguments are there and readable. Raises Open311Error (403, 404, 400) otherwise."""
    if key is None:
        raise Open311Error(403, _("A valid api_key with the integration scope is required."))
    binding = IntegrationKey.objects.filter(api_key=key).select_related("department").first()
    if binding is None:
        raise Open311Error(
            403,
            _(
                "This api_key may create requests but not push updates: a department's system "
                "needs an integration key."
            ),
        )
    missing = [n for n in ("service_request_id", "update_id", "status") if not arg(n)]
    if missing:
        raise Open311Error(400, *[_("%(p)s is required.") % {"p": name} for name in missing])
    status = arg("status")
    if status_from_word(status) is None:
        raise Open311Error(
            400,
            _("status: “%(s)s” is not one we know (open, investigating, in_progress, closed …).")
            % {"s": status[:40]},
        )
    raw_at = arg("updated_datetime")
    at = parse_w3c_datetime(raw_at) if raw_at else None
    if raw_at and at is None:
        raise Open311Error(
            400, _("updated_datetime: “%(v)s” is not a W3C datetime.") % {"v": raw_at[:40]}
        )
    issue = _issue_for(arg("service_request_id"), binding.department_id)
    if issue.department_id != binding.department_id:
        raise Open311Error(
            403,
            _("This key is %(mine)s's; request %(id)s is %(theirs)s's.")
            % {"mine": binding.department, "id": issue.public_id, "theirs": issue.department},
        )
    return PushedUpdate(
        issue=issue,
        update_id=arg("update_id")[:200],
        status=status,
        description=arg("description"),
        at=at,
        source=key.name,
    )


def _issue_for(service_request_id: str, department_id: int) -> Issue:
    """Our id, or the city's own (its external id): the city's system knows its own ids. Among
    several issues with that city id, the key's department's is the one meant."""
    text = service_request_id.replace("\x00", "")[:64]
    issues = list(
        Issue.objects.filter(Q(public_id=normalize_public_id(text)) | Q(external_id=text))
        .select_related("department")
        .order_by("pk")[:10]
    )
    if not issues:
        raise Open311Error(404, _("service_request_id “%(i)s” was not found.") % {"i": text[:40]})
    return next((i for i in issues if i.department_id == department_id), issues[0])


def known_update(issue: Issue, update_id: str) -> str:
    """Our id of a pushed update seen before (so a repeated push answers the same), or ""."""
    record = issue.city_updates.filter(update_key=update_id[:200]).first()
    return f"s{record.status_change_id}" if record and record.status_change_id else ""


# -- how issues/open311/openapi.py describes these ----------------------------------------

_DATETIME = {"type": "string", "format": "date-time"}
_QUERY_DATETIME = {"anyOf": [_DATETIME, {"type": "string", "maxLength": 0}]}
OPENAPI_SCHEMAS = {
    "ServiceRequestUpdate": {
        "type": "object",
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {
            "update_id": {"type": "string"},
            "service_request_id": {"type": "string"},
            "status": {"type": "string", "enum": sorted(set(STATUS_WORDS.values()))},
            "updated_datetime": _DATETIME,
            "description": {"type": ["string", "null"]},
            "media_url": {"type": ["string", "null"]},
        },
    },
    "PushedUpdate": {
        "type": "object",
        "required": ["update_id"],
        "properties": {"update_id": {"type": ["string", "null"]}},
    },
}
OPENAPI_WINDOW = tuple(
    {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
    for name, schema, text in (
        ("start_date", _QUERY_DATETIME, "Earliest updated_datetime (inclusive); empty: not given."),
        ("end_date", _QUERY_DATETIME, "Latest updated_datetime; empty: not given."),
        (
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": MAX_UPDATES},
            f"At most this many updates, oldest first (default {DEFAULT_UPDATES}); ask again "
            "from the last one's updated_datetime for more.",
        ),
    )
)
OPENAPI_PUSH_FORM = {
    "type": "object",
    "required": ["service_request_id", "update_id", "status"],
    "properties": {
        "api_key": {"type": "string"},
        "jurisdiction_id": {"type": "string"},
        "service_request_id": {"type": "string"},
        "update_id": {"type": "string"},
        "status": {"type": "string"},
        "description": {"type": "string", "maxLength": 4000},
        "updated_datetime": _DATETIME,
    },
}
