"""GET requests: the query string read into a RequestQuery, and the reads the API serves.

Spec filters (service_request_id, service_code, start_date, end_date, status) plus the extensions
clients rely on (updated_after/before, page/page_size, lat/long/radius, ward, extensions). An empty
parameter is the same as an absent one; an unreadable one is a 400 that says what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import F, Lookup, Q, QuerySet
from django.utils.translation import gettext as _

from departments.attributes import parse_w3c_datetime
from departments.geo import within_radius
from departments.models import ServiceType, Ward
from issues import selectors
from issues.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Comment,
    Issue,
    StatusChange,
    normalize_public_id,
)
from issues.open311.errors import Open311Error

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_IDS = 500
MAX_RADIUS_M = 100_000
MAX_WARD_NUMBER = 32_767
STATUS_MAP = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_VERSION = "1"
MAX_ID = 2**63 - 1


def _param(params, name: str) -> str:
    # NUL can never match an id or a code, and PostgreSQL refuses it in a query (a 500).
    return (params.get(name) or "").replace("\x00", "").strip()


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _datetime(params, name: str) -> datetime | None:
    raw = _param(params, name)
    if not raw:
        return None
    value = parse_w3c_datetime(raw)
    if value is not None:
        try:
            # Years 1 and 9999 with an offset fall outside what a datetime can hold once in UTC
            # (SQLite's adapter converts; PostgreSQL's would too on some dates). In UTC, too:
            # PostgreSQL refuses offsets past 15:59 ("+18:23") that Python accepts.
            value = value.astimezone(UTC)
        except OverflowError:
            value = None
    if value is None:
        raise Open311Error(
            400,
            _("%(p)s: “%(v)s” is not a W3C datetime such as 2026-05-01T14:30:00-05:00.")
            % {"p": name, "v": raw[:40]},
        )
    return value


def _int(params, name: str, default: int, low: int, high: int) -> int:
    raw = _param(params, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Open311Error(
            400, _("%(p)s must be a whole number, not “%(v)s”.") % {"p": name, "v": raw[:40]}
        ) from None
    if not low <= value <= high:
        raise Open311Error(
            400,
            _("%(p)s must be between %(low)d and %(high)d.")
            % {"p": name, "low": low, "high": high},
        )
    return value


def _float(params, name: str, low: float, high: float) -> float | None:
    raw = _param(params, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise Open311Error(
            400,
            _("%(p)s must be a number between %(low)s and %(high)s, not “%(v)s”.")
            % {"p": name, "low": low, "high": high, "v": raw[:40]},
        )
    return value


# The words read_bool takes, in any letter case, or nothing; as a pattern for the OpenAPI document.
BOOLEAN_PATTERN = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|1|0)?$"


def read_bool(params, name: str) -> bool:
    # Read as sent (no trimming): the document promises exactly these words.
    raw = (params.get(name) or "").lower()
    if not raw or raw in FALSE_WORDS:
        return False
    if raw in TRUE_WORDS:
        return True
    raise Open311Error(400, _("%(p)s must be true or false.") % {"p": name})


@dataclass
class RequestQuery:
    ids: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    wards: list[int] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    radius: float | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    after: tuple[datetime, int] | None = None  # keyset cursor: (requested_at, id) of the last row
    extensions: bool = False

    @classmethod
    def from_params(cls, params) -> RequestQuery:
        q = cls()
        q.extensions = read_bool(params, "extensions")
        q.ids = _split(_param(params, "service_request_id"))
        if len(q.ids) > MAX_IDS:
            raise Open311Error(
                400, _("Ask for at most %(n)d service_request_id values at once.") % {"n": MAX_IDS}
            )
        q.page = _int(params, "page", 1, 1, 1_000_000)
        q.page_size = _int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        if q.ids:
            # The spec: a list of ids overrides every other filter. The others are still read,
            # so a malformed one is a 400 whether or not ids were given.
            cls._read_filters(cls(page=q.page), params)
            return q
        cls._read_filters(q, params)
        return q

    @staticmethod
    def _read_filters(q: RequestQuery, params) -> None:
        after = _param(params, "after")
        if after:
            if q.page != 1:
                raise Open311Error(400, _("Send either page or after, not both."))
            q.after = decode_cursor(after)
        q.service_codes = _split(_param(params, "service_code"))
        for part in _split(_param(params, "status").lower()):
            if part not in STATUS_MAP:
                raise Open311Error(
                    400, _("status must be open, closed or both, not “%(s)s”.") % {"s": part[:40]}
                )
            q.statuses.extend(s.value for s in STATUS_MAP[part])
        q.start = _datetime(params, "start_date")
        q.end = _datetime(params, "end_date")
        if q.start and q.end and q.start > q.end:
            raise Open311Error(400, _("start_date is after end_date."))
        q.updated_after = _datetime(params, "updated_after")
        q.updated_before = _datetime(params, "updated_before")
        for part in _split(_param(params, "ward")):
            try:
                number = int(part)
            except ValueError:
                number = -1
            # Ward.number is a small integer: a huge one overflows the database's, a 500.
            if not 0 <= number <= MAX_WARD_NUMBER:
                raise Open311Error(
                    400, _("ward must be a ward number, not “%(w)s”.") % {"w": part[:40]}
                )
            q.wards.append(number)
        q.lat, q.lon, q.radius = read_distance(params, MAX_RADIUS_M)


def read_distance(params, max_radius: float) -> tuple[float | None, float | None, float | None]:
    """lat, long and radius (metres) for a distance search: all three, or none."""
    lat = _float(params, "lat", -90, 90)
    lon = _float(params, "long", -180, 180)
    radius = _float(params, "radius", 0, max_radius)
    given = [v is not None for v in (lat, lon, radius)]
    if any(given) and not all(given):
        raise Open311Error(
            400, _("A distance search needs lat, long and radius (in metres) together.")
        )
    return lat, lon, radius


def encode_cursor(requested_at: datetime, pk: int) -> str:
    """The opaque `after` token for "the rows after this one, newest first": the row's
    requested_at to the microsecond and its id, so ties on the timestamp still page exactly."""
    delta = requested_at - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return base64.urlsafe_b64encode(f"{CURSOR_VERSION}:{micros}:{pk}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, int]:
    """(requested_at, id) from an `after` token; anything this server did not hand out is a 400."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        version, micros, pk = text.split(":")
        if version != CURSOR_VERSION or not micros.lstrip("-").isdigit() or not pk.isdigit():
            raise ValueError(text)
        requested_at = EPOCH + timedelta(microseconds=int(micros))
        pk = int(pk)
        # The id column is a bigint: a larger number would be a database error, not "no rows".
        if not 0 < pk <= MAX_ID:
            raise ValueError(pk)
    except (ValueError, UnicodeDecodeError, OverflowError, binascii.Error):
        raise Open311Error(
            400,
            _(
                "after: “%(v)s” is not a cursor from this server; follow the Link rel=next "
                "(or X-Next-Cursor) of the page before."
            )
            % {"v": token[:40]},
        ) from None
    return requested_at, pk


# What a service request shows, read as plain values: building four model instances per row
# (issue, type, department, ward) was most of a page's time.
ROW_FIELDS = (
    "id",
    "public_id",
    "status",
    "status_notes",
    "resolution",
    "referred_to",
    "description",
    "address",
    "zipcode",
    "latitude",
    "longitude",
    "media_url",
    "requested_at",
    "updated_at",
    "expected_at",
    "service_type__name",
    "service_type__service_code",
    "service_type__service_notice",
    "department__name",
)
# The ward and the asset are LEFT JOINs: only joined when extensions ask for them.
EXTENSION_FIELDS = (
    "ward__number",
    "source",
    "asset__source_id",
    "asset__layer__slug",
    "asset__name",
    "duplicate_of__public_id",
)
NEWEST_FIRST = ("-requested_at", "-id")


@dataclass
class RequestPage:
    """One page of service requests as plain values, with what the serialiser adds to them."""

    rows: list[dict]
    has_next: bool = False
    photos: dict[int, list[str]] = field(default_factory=dict)  # issue id -> image names
    changes: dict[int, list[dict]] = field(default_factory=dict)  # public timeline, extensions
    comments: dict[int, list[dict]] = field(default_factory=dict)

    @property
    def next_cursor(self) -> str | None:
        if not self.has_next or not self.rows:
            return None
        last = self.rows[-1]
        return encode_cursor(last["requested_at"], last["id"])


def _filtered(query: RequestQuery) -> QuerySet[Issue]:
    queryset = selectors.public_issues()
    if query.ids:
        return queryset.filter(public_id__in=[normalize_public_id(i) for i in query.ids])
    # Codes and ward numbers become ids first (two tiny tables). Joined in the query, a code or
    # ward that matches nothing made PostgreSQL walk the requested_at index through every issue
    # looking for one (ward=99 at 1M issues: 5 s), and a rare type was estimated as common.
    type_ids = ward_ids = None
    if query.service_codes:
        types = ServiceType.objects.filter(service_code__in=query.service_codes)
        type_ids = list(types.values_list("id", flat=True))
    if query.wards:
        ward_ids = list(Ward.objects.filter(number__in=query.wards).values_list("id", flat=True))
    if type_ids == [] or ward_ids == []:
        return queryset.none()
    lookups = {
        "service_type_id__in": type_ids,
        "status__in": query.statuses,
        "requested_at__gte": query.start,
        "requested_at__lte": query.end,
        "updated_at__gt": query.updated_after,
        "updated_at__lt": query.updated_before,
        "ward_id__in": ward_ids,
    }
    # An empty list or None is an absent filter.
    queryset = queryset.filter(**{k: v for k, v in lookups.items() if v})
    if query.radius is not None:
        queryset = within_radius(queryset, query.lat, query.lon, query.radius)
    return queryset


def _values(queryset: QuerySet[Issue], *, extensions: bool, limit: int | None = None) -> list[dict]:
    fields = ROW_FIELDS + EXTENSION_FIELDS if extensions else ROW_FIELDS
    rows = queryset.order_by(*NEWEST_FIRST).values(*fields)
    return list(rows[:limit] if limit is not None else rows)


class AnyOf(Lookup):
    """`column = ANY(%s)` with the ids as one array parameter on PostgreSQL (an `IN` list of a
    page's 100 ids costs psycopg 2-4 ms of query parsing, more than the query itself); a plain
    `IN` list elsewhere."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        ids = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, ids]
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*params, *ids]


def _attach(page: RequestPage, *, extensions: bool) -> RequestPage:
    """Photos (and with extensions the public timeline) of the page's rows: one query each,
    whatever the page size."""
    ids = [row["id"] for row in page.rows]
    if not ids:
        return page
    photos = selectors.public_photos().queryset.filter(AnyOf(F("issue_id"), ids))
    for issue_id, image in photos.order_by("created_at", "id").values_list("issue_id", "image"):
        page.photos.setdefault(issue_id, []).append(image)
    if extensions:
        changes = StatusChange.objects.filter(AnyOf(F("issue_id"), ids)).order_by(
            "created_at", "id"
        )
        for change in changes.values(
            "issue_id",
            "created_at",
            "from_status",
            "to_status",
            "message",
            "from_department_id",
            "to_department_id",
            "resolution",
        ):
            page.changes.setdefault(change["issue_id"], []).append(change)
        comments = Comment.objects.public().filter(AnyOf(F("issue_id"), ids))
        for comment in comments.order_by("created_at", "id").values(
            "issue_id", "created_at", "body", "official_department__name"
        ):
            page.comments.setdefault(comment["issue_id"], []).append(comment)
    return page


def service_requests(query: RequestQuery) -> RequestPage:
    """One page of public requests, newest first, and whether another page follows.

    `after` (a cursor) reads on from a row through the requested_at index: any depth costs the
    same. A deep `page` still has to count its way past the rows before it, and a radius search
    to sort all its matches, but only as ids and sort keys (a deferred join): the joins and wide
    rows are read for the page's rows alone."""
    queryset = _filtered(query)
    if query.ids:  # asked for by id: all of them (at most MAX_IDS), whatever the page size
        rows = _values(queryset, extensions=query.extensions)
        return _attach(RequestPage(rows), extensions=query.extensions)
    # One row more than asked tells whether a next page exists without a COUNT over everything.
    size = query.page_size + 1
    offset = (query.page - 1) * query.page_size
    if query.after is not None:
        at, pk = query.after
        # The redundant `<= at` is what lets the index scan start at the cursor.
        queryset = queryset.filter(requested_at__lte=at).filter(
            Q(requested_at__lt=at) | Q(id__lt=pk)
        )
        offset = 0
    # The page's ids first, then its rows: the rows passed over (a deep page's offset, a radius
    # search's matches beyond the page) are read as ids and sort keys only, never joined.
    page_ids = queryset.order_by(*NEWEST_FIRST).values("id")[offset : offset + size]
    rows = _values(Issue.objects.filter(id__in=page_ids), extensions=query.extensions)
    page = RequestPage(rows[: query.page_size], has_next=len(rows) > query.page_size)
    return _attach(page, extensions=query.extensions)


def service_request(public_id: str, *, extensions: bool = False) -> RequestPage | None:
    """One public request (a page of one), or None."""
    if "\x00" in public_id:  # PostgreSQL refuses NUL in a query; no id contains one
        return None
    queryset = selectors.public_issues().filter(public_id=normalize_public_id(public_id))
    rows = _values(queryset, extensions=extensions, limit=1)
    return _attach(RequestPage(rows), extensions=extensions) if rows else None
