"""Shared reads of reports: lists, one issue's page and timelines, nearby reports, a person's
own. Pages, the API, exports and the workbench compose these, so they agree and stay at a
constant query count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.utils.translation import gettext

from departments.models import Asset, ServiceType
from departments.translations import translated, translated_choices, translated_value
from issues.filters import IssueFilters
from issues.geo import degrees_around, distance_m
from issues.models import (
    Comment,
    Issue,
    Photo,
    ReporterAction,
    ReporterActionKind,
    Resolution,
    StaffChange,
    Status,
    StatusChange,
    Subscription,
    Vote,
    normalize_public_id,
    public_author,
)

NEARBY_RADIUS_M = 50


def public_issues() -> QuerySet[Issue]:
    """Issues anyone may see, with what every list shows joined in one query."""
    # The ward's boundary is a large GeoJSON document: decoding it for every row was most of
    # an API page's time, and no list shows it.
    return (
        Issue.objects.public()
        .select_related("service_type", "department", "ward")
        .defer("ward__boundary")
    )


# What an issue feed's entry shows (issues/opendata/feeds.py), read as values: building model
# instances through three joins was a sixth of a cold feed's CPU.
FEED_FIELDS = (
    "public_id",
    "address",
    "description",
    "status",
    "status_notes",
    "resolution",
    "referred_to",
    "requested_at",
    "updated_at",
    "ward_id",
    "ward__name",
    "service_type__name",
    "service_type__translations",
    "department__name",
    "department__translations",
)


def feed_rows(
    *,
    ward_id: int | None = None,
    service_type_id: int | None = None,
    by_update: bool = False,
    limit: int,
) -> list[dict]:
    """The newest public issues (by report, or by last change when `by_update`), in one ward
    or of one type if given, as dicts of FEED_FIELDS; one query."""
    issues = Issue.objects.public()
    if ward_id is not None:
        issues = issues.filter(ward_id=ward_id)
    if service_type_id is not None:
        issues = issues.filter(service_type_id=service_type_id)
    order = "-updated_at" if by_update else "-requested_at"
    return list(issues.order_by(order, "-id").values(*FEED_FIELDS)[:limit])


def _usable(text: str) -> bool:
    # PostgreSQL refuses NUL in a query; no id or code contains one, so it simply matches nothing.
    return bool(text) and "\x00" not in text


def public_issue(public_id: str) -> Issue | None:
    if not _usable(public_id):
        return None
    return public_issues().filter(public_id=normalize_public_id(public_id)).first()


def public_issue_by_reference(reference: str) -> Issue | None:
    """An issue by the city's reference for it (the id its own 311 system gave it), newest
    first should two systems have used the same number."""
    if not _usable(reference):
        return None
    return public_issues().filter(external_id=reference.strip()[:64]).order_by("-pk").first()


def public_photos() -> Prefetch:
    """An issue's visible photos as `public_photos`: what lists, pages and the API show."""
    return Prefetch(
        "photos",
        # A photo of a resident's update goes with it when a moderator hides the update.
        queryset=Photo.objects.filter(is_hidden=False).exclude(comment__is_hidden=True),
        to_attr="public_photos",
    )


# What a list row shows (issues/templatetags/issue_rows.py), and no more: the home page's twenty
# issues were read with their department and ward, about a hundred columns each.
LIST_ROW_FIELDS = (
    "public_id",
    "status",
    "address",
    "requested_at",
    "vote_count",
    "service_type__name",
    "service_type__translations",
)


def issue_list(filters: IssueFilters) -> QuerySet[Issue]:
    """The filtered public issues, newest first, each with its visible photos (for thumbnails),
    with the columns a list row shows. A page of it costs two queries, however long the page."""
    return (
        filters.apply(Issue.objects.public())
        .select_related("service_type")
        .only(*LIST_ROW_FIELDS)
        .order_by("-requested_at", "-id")
        .prefetch_related(public_photos())
    )


# Two facts the issue page shows, as subqueries of its statement instead of two more round
# trips: when the reporter last edited the report (the page says "edited", not what), and
# whether any public request was closed as its duplicate (most have none; then
# public_duplicates reads nothing). Built once: annotate() copies them.
ISSUE_PAGE_FACTS = {
    "last_edited_at": Subquery(
        ReporterAction.objects.filter(issue=OuterRef("pk"), kind=ReporterActionKind.EDITED)
        .order_by("-created_at")
        .values("created_at")[:1]
    ),
    "has_public_duplicates": Exists(Issue.objects.public().filter(duplicate_of=OuterRef("pk"))),
}


def issue_page(public_id: str) -> Issue | None:
    """One public issue with everything its page shows: photos, ward and its aldermen."""
    if not _usable(public_id):
        return None
    issue = (
        public_issues()
        .filter(public_id=normalize_public_id(public_id))
        .select_related("reporter")
        .annotate(**ISSUE_PAGE_FACTS)
        # Fetched after, not joined: eight tables in one statement took PostgreSQL 3 ms to
        # plan (the join orders) for 0.1 ms of work, on every cold page.
        .prefetch_related(public_photos(), "ward__aldermen")
        .first()
    )
    if issue is not None:
        # Most issues have neither an asset nor an original they duplicate: asked for only when
        # there is one, as prefetching nothing still cost a twentieth of a cold page's CPU.
        wanted: list[Prefetch | str] = []
        if issue.asset_id:
            wanted.append(Prefetch("asset", queryset=Asset.objects.select_related("layer")))
        if issue.duplicate_of_id:
            wanted.append("duplicate_of")
        prefetch_related_objects([issue], *wanted)
    return issue


def public_duplicates(issue: Issue) -> list[Issue]:
    """The public requests closed as duplicates of this one, for "also reported as"."""
    if getattr(issue, "has_public_duplicates", True) is False:
        return []  # issue_page looked: there are none
    return list(
        Issue.objects.public().filter(duplicate_of=issue).order_by("requested_at").only("public_id")
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
        names = {str(v.get("key")): v.get("name", "") for v in translated_choices(attribute)}
        values = value if isinstance(value, list) else [value]
        rows.append(
            (
                translated(attribute, "description") or attribute.code,
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
    comment_id: int | None = None  # a public update's, for its "report abuse" link
    edited: bool = False  # mended by a moderator (issue 20)
    # An official reply or a status message: the author is the department, marked "official".
    official: bool = False
    resolution: str = ""
    update_kind: str = ""  # a resident's "still_there" or "fixed" (UpdateKind)
    photos: tuple = ()  # the visible photos a resident attached to the update


def _update_photos(issue: Issue) -> dict[int, list[Photo]]:
    """The visible photos of residents' updates by update, from the issue's prefetched
    `public_photos` (selectors.issue_page): no query. Without them (a feed) there are none."""
    grouped: dict[int, list[Photo]] = {}
    for photo in getattr(issue, "public_photos", None) or ():
        if photo.comment_id:
            grouped.setdefault(photo.comment_id, []).append(photo)
    return grouped


# What the public timeline reads of each status change and comment, as values: building model
# instances for them and the departments and types they name was a fifth of a cold issue
# page's CPU, for five columns a row.
TIMELINE_CHANGE_FIELDS = (
    "from_status",
    "to_status",
    "from_department_id",
    "to_department_id",
    "to_service_type_id",
    "message",
    "resolution",
    "created_at",
    "to_department__name",
    "to_department__translations",
    "to_service_type__name",
    "to_service_type__translations",
)
TIMELINE_COMMENT_FIELDS = (
    "id",
    "body",
    "kind",
    "created_at",
    "edited_by_moderator",
    "author_id",
    "author__display_name",
    "official_department_id",
    "official_department__name",
    "official_department__translations",
)
RESOLUTION_LABELS = dict(Resolution.choices)


def public_timeline(issue: Issue) -> list[TimelineEntry]:
    """Status changes (with their public messages) and public comments, oldest first.
    Internal notes, hidden comments and who on the staff did what never appear."""
    changes = StatusChange.objects.filter(issue=issue).values(*TIMELINE_CHANGE_FIELDS)
    comments = (
        Comment.objects.public()
        .filter(issue=issue)
        .order_by("created_at", "id")
        .values(*TIMELINE_COMMENT_FIELDS)
    )
    entries = []
    update_photos = _update_photos(issue)
    for change in changes:
        if not change["from_status"]:
            kind = "reported"
        elif change["to_service_type_id"]:  # re-categorised: shown as the new type
            entries.append(
                TimelineEntry(
                    kind="retyped",
                    at=change["created_at"],
                    department=translated_value(
                        change["to_service_type__name"],
                        change["to_service_type__translations"],
                        "name",
                    ),
                    message=change["message"],
                    author=translated(issue.department, "name"),
                    official=True,
                )
            )
            continue
        elif (
            StatusChange.transfers(change["from_department_id"], change["to_department_id"])
            and change["from_status"] == change["to_status"]
        ):
            kind = "transfer"
        else:
            kind = "status"
        entries.append(
            TimelineEntry(
                kind=kind,
                at=change["created_at"],
                status=change["to_status"],
                status_label=Status(change["to_status"]).label,
                department=translated_value(
                    change["to_department__name"], change["to_department__translations"], "name"
                )
                if change["to_department_id"]
                else "",
                message=change["message"],
                # Status messages speak for the department that holds the issue; who on the
                # staff wrote them is never public.
                author=translated(issue.department, "name") if kind == "status" else "",
                official=kind == "status",
                # StatusChange.get_resolution_display(), from the value
                resolution=str(RESOLUTION_LABELS.get(change["resolution"], change["resolution"]))
                if change["resolution"]
                else "",
            )
        )
    for comment in comments:
        entries.append(
            TimelineEntry(
                kind="comment",
                at=comment["created_at"],
                message=comment["body"],
                author=public_author(
                    official_name=translated_value(
                        comment["official_department__name"],
                        comment["official_department__translations"],
                        "name",
                    )
                    if comment["official_department_id"]
                    else None,
                    display_name=comment["author__display_name"] or "",
                ),
                official=bool(comment["official_department_id"]),
                comment_id=comment["id"],
                edited=comment["edited_by_moderator"],
                update_kind=comment["kind"],
                photos=tuple(update_photos.get(comment["id"], ())),
            )
        )
    return sorted(entries, key=lambda e: e.at)


@dataclass(frozen=True)
class StaffTimelineEntry:
    """One step of an issue's history as the workbench shows it: the row itself, with who."""

    at: datetime
    kind: str  # "change" | "transfer" | "retype" | "comment" | "note" | "assignee" | "priority"
    item: StatusChange | Comment | StaffChange


def staff_timeline(issue: Issue, *, include_internal: bool) -> list[StaffTimelineEntry]:
    """Status changes, transfers, comments and (for the department) internal notes, oldest
    first, hidden ones included: staff must see what the public no longer does."""
    changes = issue.status_changes.select_related(
        "changed_by", "from_department", "to_department", "from_service_type", "to_service_type"
    )
    comments = issue.comments.select_related("author", "official_department")
    if not include_internal:
        comments = comments.filter(is_internal=False)
    entries = [StaffTimelineEntry(c.created_at, _staff_kind(c), c) for c in changes]
    entries += [
        StaffTimelineEntry(c.created_at, "note" if c.is_internal else "comment", c)
        for c in comments
    ]
    if include_internal:
        # Who it was given to (by hand or by which rule) and its priority: the department's own.
        entries += [
            StaffTimelineEntry(c.created_at, c.kind, c)
            for c in issue.staff_changes.select_related("changed_by", "to_assignee")
        ]
    entries.sort(
        key=lambda e: (e.at, 0 if e.kind in ("change", "transfer", "retype") else 1, e.item.pk)
    )
    return entries


def _staff_kind(change: StatusChange) -> str:
    if change.to_service_type_id:
        return "retype"
    return "transfer" if change.is_transfer and change.from_status else "change"


def _a_resident() -> str:
    return gettext("a resident")


def viewer_state(issue: Issue, user) -> dict[str, bool]:
    """Whether the signed-in person has voted for and follows the issue."""
    if not (user and user.is_authenticated):
        return {"voted": False, "following": False}
    return {
        "voted": Vote.objects.filter(issue=issue, user=user).exists(),
        "following": Subscription.objects.filter(issue=issue, user=user).exists(),
    }


def nearby_open_issues(
    *, service_type: ServiceType, latitude: float, longitude: float, radius_m: int = NEARBY_RADIUS_M
) -> list[Issue]:
    """Open public issues of the same type within `radius_m`, nearest first (at most 5).
    A bounding box narrows the search through the (latitude, longitude) index; the exact
    distance is then measured on the few rows left."""
    dlat, dlon = degrees_around(latitude, radius_m)
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


def watched_ward_ids(user) -> set[int]:
    """The wards a signed-in person watches (mail about each new report there)."""
    if not (user and user.is_authenticated):
        return set()
    return set(
        Subscription.objects.filter(user=user, ward__isnull=False).values_list("ward_id", flat=True)
    )


def is_watching_ward(ward, user) -> bool:
    return bool(user and user.is_authenticated) and (
        Subscription.objects.filter(ward=ward, user=user).exists()
    )


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
