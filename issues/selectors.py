"""Every shared read of issues: pages, the API, exports and dashboards compose these."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Avg, Count, F, Min, Prefetch, QuerySet
from django.db.models.functions import Floor
from django.urls import reverse

from departments.models import ServiceType, Ward
from issues.filters import IssueFilters
from issues.models import (
    Comment,
    Issue,
    Photo,
    Status,
    StatusChange,
    Subscription,
    Vote,
    normalize_public_id,
)

# Whatever the data size, one viewport response carries at most this many features.
MAP_FEATURE_CAP = 500
# From this zoom on (a few streets across) the map shows individual issues instead of clusters.
STREET_ZOOM = 16
# Cells per 256 px tile side: 4 gives clusters roughly 64 px apart on screen.
CELLS_PER_TILE = 4
NEARBY_RADIUS_M = 50
CLUSTER_CACHE_SECONDS = 60
EARTH_RADIUS_M = 6_371_000


def public_issues() -> QuerySet[Issue]:
    """Issues anyone may see, with what every list shows joined in one query."""
    # The ward's boundary is a large GeoJSON document: decoding it for every row was most of
    # an API page's time, and no list shows it.
    return (
        Issue.objects.public()
        .select_related("service_type", "department", "ward")
        .defer("ward__boundary")
    )


def _usable(text: str) -> bool:
    # PostgreSQL refuses NUL in a query; no id or code contains one, so it simply matches nothing.
    return bool(text) and "\x00" not in text


def public_issue(public_id: str) -> Issue | None:
    if not _usable(public_id):
        return None
    return public_issues().filter(public_id=normalize_public_id(public_id)).first()


def public_photos() -> Prefetch:
    """An issue's visible photos as `public_photos`: what lists, pages and the API show."""
    return Prefetch(
        "photos", queryset=Photo.objects.filter(is_hidden=False), to_attr="public_photos"
    )


def issue_list(filters: IssueFilters) -> QuerySet[Issue]:
    """The filtered public issues, newest first, each with its visible photos (for thumbnails).
    A page of it costs two queries, however long the page."""
    return (
        filters.apply(public_issues())
        .order_by("-requested_at", "-id")
        .prefetch_related(public_photos())
    )


def issue_page(public_id: str) -> Issue | None:
    """One public issue with everything its page shows: photos, ward and its aldermen."""
    if not _usable(public_id):
        return None
    return (
        public_issues()
        .filter(public_id=normalize_public_id(public_id))
        .select_related("reporter")
        .prefetch_related(public_photos(), "ward__aldermen")
        .first()
    )


def attribute_answers(issue: Issue) -> list[tuple[str, str]]:
    """The answers to the type's questions as (question, answer) text, in question order;
    list answers show their choice names rather than keys."""
    answers = issue.attributes or {}
    if not answers:
        return []  # most issues answer nothing: no query for the type's questions
    rows = []
    for attribute in issue.service_type.attributes.all():
        if attribute.code not in answers:
            continue
        value = answers[attribute.code]
        names = {str(v.get("key")): v.get("name", "") for v in attribute.values or []}
        values = value if isinstance(value, list) else [value]
        rows.append(
            (
                attribute.description or attribute.code,
                ", ".join(names.get(str(v), str(v)) for v in values),
            )
        )
    return rows


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "reported", "status", "transfer" or "comment"
    at: object
    status: str = ""
    status_label: str = ""
    department: str = ""
    message: str = ""
    author: str = ""


def public_timeline(issue: Issue) -> list[TimelineEntry]:
    """Status changes (with their public messages) and public comments, oldest first.
    Internal notes, hidden comments and who on the staff did what never appear."""
    changes = StatusChange.objects.filter(issue=issue).select_related("to_department")
    comments = (
        Comment.objects.public()
        .filter(issue=issue)
        .select_related("author")
        .order_by("created_at", "id")
    )
    entries = []
    for change in changes:
        if not change.from_status:
            kind = "reported"
        elif change.is_transfer and change.from_status == change.to_status:
            kind = "transfer"
        else:
            kind = "status"
        entries.append(
            TimelineEntry(
                kind=kind,
                at=change.created_at,
                status=change.to_status,
                status_label=Status(change.to_status).label,
                department=str(change.to_department) if change.to_department_id else "",
                message=change.message,
            )
        )
    for comment in comments:
        author = comment.author.public_name if comment.author_id else _a_resident()
        entries.append(
            TimelineEntry(
                kind="comment", at=comment.created_at, message=comment.body, author=author
            )
        )
    return sorted(entries, key=lambda e: e.at)


def _a_resident() -> str:
    from django.utils.translation import gettext

    return gettext("a resident")


def viewer_state(issue: Issue, user) -> dict[str, bool]:
    """Whether the signed-in person has voted for and follows the issue."""
    if not (user and user.is_authenticated):
        return {"voted": False, "following": False}
    return {
        "voted": Vote.objects.filter(issue=issue, user=user).exists(),
        "following": Subscription.objects.filter(issue=issue, user=user).exists(),
    }


def service_types_grouped() -> list[tuple[str, list[ServiceType]]]:
    """Active service types grouped for a <select> with <optgroup>s, groups in name order."""
    groups: dict[str, list[ServiceType]] = {}
    for service_type in ServiceType.objects.active().order_by("group", "name"):
        groups.setdefault(service_type.group or "", []).append(service_type)
    return list(groups.items())


def service_type_with_attributes(service_code: str) -> ServiceType | None:
    if not _usable(service_code):
        return None
    return (
        ServiceType.objects.active()
        .filter(service_code=service_code)
        .prefetch_related("attributes")
        .first()
    )


def wards_for_filter() -> QuerySet[Ward]:
    return Ward.objects.only("id", "number", "name").order_by("number")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); exact enough for 'within about 50 m'."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearby_open_issues(
    *, service_type: ServiceType, latitude: float, longitude: float, radius_m: int = NEARBY_RADIUS_M
) -> list[Issue]:
    """Open public issues of the same type within `radius_m`, nearest first (at most 5).
    A bounding box narrows the search through the (latitude, longitude) index; the exact
    distance is then measured on the few rows left."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(0.01, math.cos(math.radians(latitude))))
    candidates = (
        public_issues()
        .open()
        .filter(service_type=service_type)
        .in_bbox(latitude - dlat, longitude - dlon, latitude + dlat, longitude + dlon)
        .order_by("-requested_at")[:50]
    )
    found = []
    for issue in candidates:
        d = distance_m(latitude, longitude, issue.latitude, issue.longitude)
        if d <= radius_m:
            issue.distance_m = round(d)
            found.append(issue)
    return sorted(found, key=lambda i: i.distance_m)[:5]


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def cell_size(zoom: int) -> float:
    """Grid cell edge in degrees for a zoom level: a quarter of a map tile."""
    return 360.0 / (2**zoom) / CELLS_PER_TILE


# A map feature's columns, read as plain tuples: the zoomed-in map shows up to MAP_FEATURE_CAP
# issues, and building two model instances for each was most of its time.
FEATURE_FIELDS = (
    "id",
    "public_id",
    "status",
    "latitude",
    "longitude",
    "address",
    "requested_at",
    "service_type__name",
    "service_type__service_code",
)


class _FeatureWriter:
    """What every issue feature of one response shares, worked out once: the status labels in
    the active language and the issue-page URL (one reverse() instead of one per feature)."""

    PLACEHOLDER = "PUBLICID0"

    def __init__(self):
        self.labels = {status.value: str(status.label) for status in Status}
        self.url_head, self.url_tail = reverse(
            "issues:detail", kwargs={"public_id": self.PLACEHOLDER}
        ).split(self.PLACEHOLDER)

    def feature(self, row: tuple) -> dict:
        _, public_id, status, latitude, longitude, address, requested_at, name, code = row
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
            "properties": {
                "id": public_id,
                "url": f"{self.url_head}{public_id}{self.url_tail}",
                "status": status,
                "status_label": self.labels[status],
                "service_name": name,
                "service_code": code,
                "requested": requested_at.isoformat(),
                "address": address,
            },
        }


def _located(filters: IssueFilters, bbox: BBox) -> QuerySet[Issue]:
    # The bbox is a range on latitude then longitude: the (latitude, longitude) index serves it.
    return filters.apply(Issue.objects.public()).in_bbox(
        bbox.south, bbox.west, bbox.north, bbox.east
    )


def _individual(queryset: QuerySet[Issue], limit: int) -> list[tuple]:
    """Up to `limit` issues as FEATURE_FIELDS tuples, in no particular order."""
    return list(
        # No ORDER BY: with one, PostgreSQL walks the requested_at index and filters by the box,
        # which slows as issues accumulate; without, it reads the box through the
        # (latitude, longitude) index. Any `limit` rows will do: more than the cap means clusters.
        queryset.order_by().values_list(*FEATURE_FIELDS)[:limit]
    )


def _cluster_cells(queryset: QuerySet[Issue], zoom: int) -> list[dict]:
    """One SQL GROUP BY over grid cells: count, mean position (always inside its issues'
    bounding box) and the lowest id, for at most MAP_FEATURE_CAP cells, busiest first."""
    size = cell_size(zoom)
    return list(
        queryset.order_by()  # the model's default ordering would join the GROUP BY
        .annotate(cx=Floor(F("longitude") / size), cy=Floor(F("latitude") / size))
        .values("cx", "cy")
        .annotate(n=Count("id"), lat=Avg("latitude"), lon=Avg("longitude"), first=Min("id"))
        .order_by("-n", "cy", "cx")[:MAP_FEATURE_CAP]
    )


def _cluster_features(cells: list[dict], zoom: int) -> list[dict]:
    """Cells as GeoJSON. A cell holding a single issue comes back as that issue, read now from
    the public issues: the cells may be a minute old, and an issue hidden since then must not
    show its address."""
    size = cell_size(zoom)
    single_ids = [c["first"] for c in cells if c["n"] == 1]
    singles = {
        row[0]: row
        for row in _individual(Issue.objects.public().filter(pk__in=single_ids), len(single_ids))
    }
    writer = _FeatureWriter()
    features = []
    for cell in cells:
        if cell["n"] == 1 and cell["first"] in singles:
            features.append(writer.feature(singles[cell["first"]]))
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [cell["lon"], cell["lat"]]},
                "properties": {
                    "cluster": True,
                    "count": cell["n"],
                    # The cell's extent, so a client can zoom to it on click.
                    "bbox": [
                        cell["cx"] * size,
                        cell["cy"] * size,
                        (cell["cx"] + 1) * size,
                        (cell["cy"] + 1) * size,
                    ],
                },
            }
        )
    return features


def _snap_to_cells(bbox: BBox, zoom: int) -> BBox:
    """Grow the box to whole grid cells, so a cell at the edge counts all its issues (counts do
    not change while panning) and nearby viewports share one cached answer."""
    size = cell_size(zoom)
    return BBox(
        west=max(-180.0, math.floor(bbox.west / size) * size),
        south=max(-90.0, math.floor(bbox.south / size) * size),
        east=min(180.0, math.ceil(bbox.east / size) * size),
        north=min(90.0, math.ceil(bbox.north / size) * size),
    )


def map_features(bbox: BBox, zoom: int, filters: IssueFilters) -> dict:
    """The public issues in a viewport as a GeoJSON FeatureCollection.

    Below STREET_ZOOM issues are aggregated in SQL into grid cells (cluster=true, count);
    from STREET_ZOOM on they come one by one, unless the box still holds more than the cap, in
    which case they are clustered on that zoom's finer grid. Never more than MAP_FEATURE_CAP
    features, so the response size does not grow with the data.

    Cluster counts are cached for CLUSTER_CACHE_SECONDS whatever is written: a zoomed-out view
    aggregates every issue in the city (linear in their number), is the same for everyone, and
    a minute's delay in a count is harmless. What a count of one shows (id, address) is read
    fresh from the public issues every time, so a hidden issue leaves the map at once.
    """
    clustered = zoom < STREET_ZOOM
    features: list[dict] = []
    if not clustered:
        rows = _individual(_located(filters, bbox), MAP_FEATURE_CAP + 1)
        if len(rows) <= MAP_FEATURE_CAP:
            # Newest first, like the list: (requested_at, id), descending.
            rows.sort(key=lambda row: (row[6], row[0]), reverse=True)
            writer = _FeatureWriter()
            features = [writer.feature(row) for row in rows]
        else:
            clustered = True
    if clustered:
        snapped = _snap_to_cells(bbox, zoom)
        key = (
            "map-cells:"
            + hashlib.sha256(
                repr((zoom, snapped, sorted(filters.as_params().items()), MAP_FEATURE_CAP)).encode()
            ).hexdigest()
        )
        cells = cache.get(key)
        if cells is None:
            cells = _cluster_cells(_located(filters, snapped), zoom)
            cache.set(key, cells, CLUSTER_CACHE_SECONDS)
        features = _cluster_features(cells, zoom)
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "zoom": zoom,
            "clustered": clustered,
            "count": sum(f["properties"].get("count", 1) for f in features),
            "cap": MAP_FEATURE_CAP,
        },
    }


def ward_outlines() -> dict:
    """Every ward's boundary as GeoJSON, drawn under the issues so the map means something
    even when no tiles load."""
    features = [
        {
            "type": "Feature",
            "geometry": boundary,
            "properties": {"number": number, "name": name},
        }
        for number, name, boundary in Ward.objects.order_by("number").values_list(
            "number", "name", "boundary"
        )
    ]
    return {"type": "FeatureCollection", "features": features}


def profile_reports(user) -> QuerySet[Issue]:
    return (
        public_issues()
        .filter(reporter=user)
        .order_by("-requested_at")
        .prefetch_related(public_photos())
    )


def profile_follows(user) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(user=user, issue__isnull=False, issue__is_hidden=False)
        .select_related("issue", "issue__service_type")
        .order_by("-created_at")
    )
