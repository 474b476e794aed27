"""One ward's dashboard: counts by status and type, the weeks, the age of open issues, the
heat grid, and its lists (oldest open issues, hotspot alerts), from the rollup except the lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import get_language

from departments.models import ServiceType, Ward
from departments.translations import translated
from issues.dashboards import stored
from issues.dashboards.clock import (
    AGING_BUCKETS,
    CACHE_SECONDS,
    CLOSED_WINDOW_DAYS,
    HEAT_WINDOW_DAYS,
    OLDEST_LIMIT,
    TOP_CELLS,
    WEEKS,
    Clock,
    cache_key,
    city_tz,
    due_earlier_today,
)
from issues.dashboards.compare import LeagueContext
from issues.dashboards.league import close_bins
from issues.dashboards.rollups import ALL_TYPES, CLOSED, OPEN, median_from_bins, plain_rows, week_of
from issues.geo import heat_steps
from issues.models import (
    OPEN_STATUSES,
    DayTally,
    HeatTally,
    HotspotAlert,
    Issue,
    Status,
    StatusTally,
)


class ListedType(NamedTuple):
    """What a dashboard's lists show of a service type (translated() reads name and
    translations)."""

    service_code: str
    name: str
    translations: dict | None


class OldestIssue(NamedTuple):
    """An oldest open issue as the ward page and the monthly report list it (oldest_rows)."""

    pk: int
    public_id: str
    requested_at: datetime
    address: str
    service_type: ListedType


class ListedAlert(NamedTuple):
    """A hotspot alert as the ward page and the monthly report show it (pages._alerts,
    _map_data, the templates)."""

    pk: int
    latitude: float
    longitude: float
    radius_m: int
    report_count: int
    expected_count: float | None
    window_start: datetime
    created_at: datetime
    service_type: ListedType


# The lists are read as values, only the columns shown and their type's three joined: model
# instances (deferred issues and alerts, each with its type) cost a cold page ~0.4 ms more to
# build than the rows, and whole ones (60 columns, a JSON one among them) more than that.
TYPE_FIELDS = ("service_type__service_code", "service_type__name", "service_type__translations")
OLDEST_FIELDS = ("pk", "public_id", "requested_at", "address", *TYPE_FIELDS)
ALERT_FIELDS = (
    "pk",
    "latitude",
    "longitude",
    "radius_m",
    "report_count",
    "expected_count",
    "window_start",
    "created_at",
    *TYPE_FIELDS,
)
# Where a row's type begins: its last three columns.
_TYPED = -len(TYPE_FIELDS)


@dataclass
class WeekRow:
    start: date
    opened: int = 0
    closed: int = 0

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


@dataclass
class AgingBucket:
    label: str
    min_days: int
    max_days: int | None
    count: int = 0
    start: date | None = None  # requested on or after (None: no lower bound)
    end: date | None = None  # requested on or before


@dataclass
class TypeRow:
    service_type_id: int
    code: str
    name: str
    total: int = 0
    open: int = 0
    closed_recent: int = 0
    median_days: float | None = None


@dataclass
class HeatCell:
    row: int
    col: int
    count: int
    south: float
    west: float
    north: float
    east: float
    dominant_code: str = ""
    dominant_name: str = ""
    dominant_count: int = 0
    dominant_type_id: int = 0

    @property
    def bbox(self) -> str:
        return f"{self.west:.6f},{self.south:.6f},{self.east:.6f},{self.north:.6f}"


@dataclass
class WardDashboard:
    ward: Ward
    clock: Clock
    open: int = 0
    overdue: int = 0
    opened_this_week: int = 0
    closed_this_week: int = 0
    closed_recent: int = 0
    median_days: float | None = None
    by_status: list[tuple[str, str, int]] = field(default_factory=list)
    by_type: list[TypeRow] = field(default_factory=list)
    weeks: list[WeekRow] = field(default_factory=list)
    aging: list[AgingBucket] = field(default_factory=list)
    heat_cells: list[HeatCell] = field(default_factory=list)
    oldest_open: list[OldestIssue] = field(default_factory=list)
    alerts: list[ListedAlert] = field(default_factory=list)

    @property
    def top_cells(self) -> list[HeatCell]:
        return sorted(self.heat_cells, key=lambda c: (-c.count, c.row, c.col))[:TOP_CELLS]

    @property
    def heat_max(self) -> int:
        return max((c.count for c in self.heat_cells), default=0)

    @property
    def types_with_median(self) -> list[TypeRow]:
        return [t for t in self.by_type if t.median_days is not None]


def _heat_cells(counts: Iterable[tuple], types: dict[int, ServiceType]) -> list[HeatCell]:
    """Cells from (row, col, service type id, count) rows."""
    totals: dict[tuple[int, int], int] = defaultdict(int)
    dominant: dict[tuple[int, int], tuple[int, int]] = {}
    for row, col, type_id, n in counts:
        key = (int(row), int(col))
        totals[key] += n
        best = dominant.get(key)
        # Ties go to the lower type id so the answer does not depend on row order.
        if best is None or n > best[1] or (n == best[1] and type_id < best[0]):
            dominant[key] = (type_id, n)
    return _named_cells(
        [(row, col, n, *dominant[(row, col)]) for (row, col), n in totals.items()], types
    )


def _named_cells(cells: Iterable[Iterable], types: dict[int, ServiceType]) -> list[HeatCell]:
    """Cells from (row, col, count, dominant type id, its count): computed or stored."""
    lat_step, lon_step = heat_steps()
    # Translated once per type, its edges once per row and column, not once per cell: a busy
    # ward has ~460 cells at 1M.
    dominant: dict[int, tuple[str, str]] = {}
    across: dict[int, tuple[float, float]] = {}
    down: dict[int, tuple[float, float]] = {}
    found = []
    for row, col, n, type_id, type_n in cells:
        named = dominant.get(type_id)
        if named is None:
            service_type = types.get(type_id)
            named = dominant[type_id] = (
                (service_type.service_code, translated(service_type, "name"))
                if service_type
                else ("", "")
            )
        south_north = down.get(row)
        if south_north is None:
            south_north = down[row] = (row * lat_step, (row + 1) * lat_step)
        west_east = across.get(col)
        if west_east is None:
            west_east = across[col] = (col * lon_step, (col + 1) * lon_step)
        found.append(
            HeatCell(
                row,
                col,
                n,
                south_north[0],
                west_east[0],
                south_north[1],
                west_east[1],
                named[0],
                named[1],
                type_n,
                type_id,
            )
        )
    return found


def service_types() -> dict[int, ServiceType]:
    """The service types by id, with what a dashboard shows of them (code, name, translations):
    read once per page (the monthly report's month names them too)."""
    return {t.pk: t for t in ServiceType.objects.only("pk", "service_code", "name", "translations")}


def ward_dashboard(
    *,
    ward: Ward,
    now: datetime | None = None,
    with_lists: bool = True,
    with_heat: bool = True,
    overdue_today: bool = True,
    types: dict[int, ServiceType] | None = None,
) -> WardDashboard:
    """All public figures of one ward, from the rollup: a constant number of small queries.
    Without the heat grid (`with_heat=False`: the monthly report does not print it) one fewer,
    the one that reads the most rows. Without `overdue_today`, overdue leaves out the issues
    due earlier today (what is stored: they move with the minute). `types`: the service types
    by id, when the caller has read them already."""
    board = WardDashboard(ward=ward, clock=Clock.at(now))
    types = service_types() if types is None else types
    type_rows, open_with_due = _count_statuses(board, types)
    due_later = _count_days(board, type_rows)
    # Open with a due time, less those due from today on (plus those due earlier today).
    board.overdue = open_with_due - due_later
    if overdue_today:
        _add_overdue_today(board)
    _add_medians(board, type_rows)
    board.by_type = _sorted_types(type_rows.values())
    if with_heat:
        board.heat_cells = _heat_cells(_heat_rows(board), types)
    if with_lists:
        _add_lists(board)
    return board


def _add_overdue_today(board: WardDashboard) -> None:
    board.overdue += due_earlier_today(board.clock).filter(ward=board.ward).count()


def _sorted_types(rows: Iterable[TypeRow]) -> list[TypeRow]:
    return sorted(rows, key=lambda r: (-r.total, r.name))


def _type_row(type_id: int, types: dict[int, ServiceType]) -> TypeRow:
    t = types.get(type_id)
    return TypeRow(
        service_type_id=type_id,
        code=t.service_code if t else "",
        name=translated(t, "name") if t else "",
    )


def _status_rows(counts: dict[str, int], closed: int) -> list[tuple[str, str, int]]:
    """(status, label, count) rows: each open status's of `counts`, then `closed`. Archived is
    a closed issue filed away: the public list's "closed" means both, so does this."""
    return [(s.value, str(s.label), counts.get(s.value, 0)) for s in OPEN_STATUSES] + [
        ("closed", str(Status.CLOSED.label), closed)
    ]


def _first_week(clock: Clock) -> date:
    """The Monday the board's WEEKS weeks start on."""
    return clock.week_start - timedelta(weeks=WEEKS - 1)


def _heat_rows(board: WardDashboard) -> list[tuple]:
    """(row, col, type, count) of the ward's grid cells, the last HEAT_WINDOW_DAYS."""
    since = board.clock.days_back(HEAT_WINDOW_DAYS)
    heat = (
        HeatTally.objects.filter(ward_key=board.ward.pk, day__gte=since)
        .values("cell_row", "cell_col", "type_key")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .values_list("cell_row", "cell_col", "type_key", "total")
    )
    return plain_rows(heat)


def _count_statuses(
    board: WardDashboard, types: dict[int, ServiceType]
) -> tuple[dict[int, TypeRow], int]:
    """Counts by status and type of every public issue of the ward, ever; returns the per-type
    rows and how many open issues have a due time."""
    status_counts: dict[str, int] = defaultdict(int)
    type_rows: dict[int, TypeRow] = {}
    open_with_due = 0
    for type_id, status, n, with_due in StatusTally.objects.filter(
        ward_key=board.ward.pk
    ).values_list("type_key", "status", "n", "with_due"):
        if not n:
            continue
        status_counts[status] += n
        if type_id not in type_rows:
            type_rows[type_id] = _type_row(type_id, types)
        type_rows[type_id].total += n
        if status in OPEN:
            type_rows[type_id].open += n
            open_with_due += with_due
    board.by_status = _status_rows(status_counts, sum(status_counts.get(s, 0) for s in CLOSED))
    board.open = sum(status_counts.get(s, 0) for s in OPEN)
    return type_rows, open_with_due


def _count_days(board: WardDashboard, type_rows: dict[int, TypeRow]) -> int:
    """The day rows: all types for the 26 weeks, the week, aging and overdue; per type for the
    closures of the last 90 days. Returns how many open issues are due from today on."""
    clock = board.clock
    first_week = _first_week(clock)
    closed_since = clock.days_back(CLOSED_WINDOW_DAYS)
    aging_since = clock.today - timedelta(days=AGING_BUCKETS[-1][1] - 1)
    weeks = {w.start: w for w in week_rows(first_week, WEEKS)}
    board.aging = _aging_buckets(clock)
    recent_open = due_later = 0
    days = DayTally.objects.filter(ward_key=board.ward.pk).filter(
        Q(type_key=ALL_TYPES, day__gte=min(first_week, closed_since, aging_since))
        | Q(day__gte=closed_since, closed__gt=0)
    )
    for type_id, day, opened, closed, open_requested, open_due in days.values_list(
        "type_key", "day", "opened", "closed", "open_requested", "open_due"
    ):
        if type_id != ALL_TYPES:
            if day >= closed_since and type_id in type_rows:
                type_rows[type_id].closed_recent += closed
            continue
        week = week_of(day)
        if week in weeks:
            weeks[week].opened += opened
            weeks[week].closed += closed
        if day >= clock.week_start:
            board.opened_this_week += opened
            board.closed_this_week += closed
        if day >= closed_since:
            board.closed_recent += closed
        if day >= clock.today:
            due_later += open_due
        if day >= aging_since:
            recent_open += open_requested
            for bucket in board.aging[:-1]:
                if bucket.start <= day <= bucket.end:
                    bucket.count += open_requested
    # Reported more than 90 days ago: every open issue not reported since (nor in the future).
    board.aging[-1].count = board.open - recent_open
    board.weeks = list(weeks.values())
    return due_later


def week_rows(first_week: date, count: int, counts: Iterable[Iterable[int]] = ()) -> list[WeekRow]:
    """`count` weeks from the one starting on `first_week`: empty, or with the (opened, closed)
    pairs `counts` (stored.py's figures)."""
    weeks = [WeekRow(start=first_week + timedelta(weeks=i)) for i in range(count)]
    for week, (opened, closed) in zip(weeks, counts, strict=False):
        week.opened, week.closed = opened, closed
    return weeks


def _aging_buckets(clock: Clock) -> list[AgingBucket]:
    return [
        AgingBucket(
            label=label,
            min_days=lo,
            max_days=hi,
            start=clock.today - timedelta(days=hi) if hi is not None else None,
            end=clock.today - timedelta(days=lo),
        )
        for label, lo, hi in AGING_BUCKETS
    ]


def _add_medians(board: WardDashboard, type_rows: dict[int, TypeRow]) -> None:
    """Median days to close of the last 90 days, per type and for the ward."""
    clock = board.clock
    since = clock.days_back(CLOSED_WINDOW_DAYS)
    bins = close_bins("type_key", since, clock.today, open_end=True, ward_key=board.ward.pk)
    for type_id, row in type_rows.items():
        row.median_days = median_from_bins(bins.get(type_id, {}))
    board.median_days = median_from_bins(bins.get(ALL_TYPES, {}))


def cached_ward_dashboard(
    *,
    ward: Ward,
    with_heat: bool = True,
    league: LeagueContext | None = None,
    types: dict[int, ServiceType] | None = None,
) -> WardDashboard:
    """The ward's figures, its lists of issues and alerts always read fresh, so a hidden issue
    leaves the page at once. On PostgreSQL the figures stored for the current data version
    (stored.py), else computed and stored: not kept in the cache too, since reading the stored
    row is about as quick as reading a cache entry, and a cold request pickled and wrote the
    whole board (~1 ms) for a key that changes every minute. Elsewhere (SQLite) computed and
    cached, per language (the figures carry the type and status names in the reader's
    language); without the heat grid (the monthly report) a miss computes one query fewer and
    keeps nothing: the ward page needs the whole board. `league`: the league the caller read
    (the ward page, the report): its grouped count of the open issues due earlier today has
    this ward's (LeagueContext.due_today, the same definition), so the board is read on its
    clock and spared a second count. `types`: service_types(), when the caller has read them."""
    if stored.is_stored():
        board = stored_ward_dashboard(ward=ward, league=league, types=types)
    else:
        key = cache_key("ward", ward.pk, ward.updated_at.timestamp(), get_language())
        board = cache.get(key)
        if board is None:
            counted = league is not None and league.clock is not None
            board = ward_dashboard(
                ward=ward,
                now=league.clock.now if counted else None,
                with_lists=False,
                with_heat=with_heat,
                overdue_today=not counted,
                types=types,
            )
            if counted:
                board.overdue += league.due_today.get(ward.pk, 0)
            if with_heat:
                cache.set(key, board, CACHE_SECONDS * 2)
    board.ward = ward
    _add_lists(board)
    return board


def stored_ward_dashboard(
    *,
    ward: Ward,
    league: LeagueContext | None = None,
    types: dict[int, ServiceType] | None = None,
) -> WardDashboard:
    """The ward's figures without its lists: those stored at the current data version today
    (stored.py), else computed and stored for the next request; the issues due earlier today
    read now, unless the caller's league counted them (then on its clock). PostgreSQL only."""
    counted = league is not None and league.clock is not None
    clock = league.clock if counted else Clock.at()
    types = service_types() if types is None else types
    figures = stored.figures_at(
        stored.WARD, ward.pk, clock, lambda: _ward_figures(_count_board(ward, clock, types))
    )
    board = _board_from(figures, ward=ward, clock=clock, types=types)
    if counted:
        board.overdue += league.due_today.get(ward.pk, 0)
    else:
        _add_overdue_today(board)
    return board


def refresh_stored_wards() -> int:
    """Compute and store the wards a request read lately whose stored figures are stale (the
    worker, every minute: stored.py). How many it computed."""

    def count(keys: list[int], clock: Clock) -> Iterator[tuple[int, dict]]:
        types = service_types()
        for ward in Ward.objects.filter(pk__in=keys):
            yield ward.pk, _ward_figures(_count_board(ward, clock, types))

    return stored.refresh_wanted(stored.WARD, count)


def _count_board(ward: Ward, clock: Clock, types: dict[int, ServiceType]) -> WardDashboard:
    """The figures stored.py keeps: no lists, overdue without the issues due earlier today."""
    return ward_dashboard(
        ward=ward, now=clock.now, with_lists=False, overdue_today=False, types=types
    )


def _ward_figures(board: WardDashboard) -> dict:
    """The board's figures as numbers (no names, no dates: the day they were computed on gives
    the weeks' and the age buckets' dates back), for stored.py."""
    return {
        "open": board.open,
        "overdue": board.overdue,
        "opened_this_week": board.opened_this_week,
        "closed_this_week": board.closed_this_week,
        "closed_recent": board.closed_recent,
        "median_days": board.median_days,
        "by_status": {status: n for status, _, n in board.by_status[:-1]},
        "closed": board.by_status[-1][2],
        "by_type": [
            [t.service_type_id, t.total, t.open, t.closed_recent, t.median_days]
            for t in board.by_type
        ],
        "weeks": [[w.opened, w.closed] for w in board.weeks],
        "aging": [b.count for b in board.aging],
        "heat": [
            [c.row, c.col, c.count, c.dominant_type_id, c.dominant_count] for c in board.heat_cells
        ],
    }


def _board_from(
    figures: dict, *, ward: Ward, clock: Clock, types: dict[int, ServiceType]
) -> WardDashboard:
    """The board of `_ward_figures`, named in the reader's language."""
    board = WardDashboard(
        ward=ward,
        clock=clock,
        open=figures["open"],
        overdue=figures["overdue"],
        opened_this_week=figures["opened_this_week"],
        closed_this_week=figures["closed_this_week"],
        closed_recent=figures["closed_recent"],
        median_days=figures["median_days"],
    )
    board.by_status = _status_rows(figures["by_status"], figures["closed"])
    rows = []
    for type_id, total, open_, closed_recent, median in figures["by_type"]:
        row = _type_row(type_id, types)
        row.total, row.open, row.closed_recent, row.median_days = (
            total,
            open_,
            closed_recent,
            median,
        )
        rows.append(row)
    board.by_type = _sorted_types(rows)
    board.weeks = week_rows(_first_week(clock), WEEKS, figures["weeks"])
    board.aging = _aging_buckets(clock)
    for bucket, count in zip(board.aging, figures["aging"], strict=True):
        bucket.count = count
    board.heat_cells = _named_cells(figures["heat"], types)
    return board


def _add_lists(board: WardDashboard) -> None:
    public = Issue.objects.public().filter(ward=board.ward).order_by()
    heat_since = board.clock.midnight(board.clock.days_back(HEAT_WINDOW_DAYS))
    board.oldest_open = [
        OldestIssue(*row[:_TYPED], ListedType(*row[_TYPED:]))
        for row in public.open()
        .order_by("requested_at", "pk")
        .values_list(*OLDEST_FIELDS)[:OLDEST_LIMIT]
    ]
    board.alerts = [
        ListedAlert(*row[:_TYPED], ListedType(*row[_TYPED:]))
        for row in HotspotAlert.objects.filter(ward=board.ward, window_end__gte=heat_since)
        .order_by("-created_at")
        .values_list(*ALERT_FIELDS)[:20]
    ]


def ward_open_issue_points(*, ward: Ward, limit: int = 1000) -> list[dict]:
    """Open public issues of the ward as GeoJSON features (the dashboard's own small map feed)."""
    rows = (
        Issue.objects.public()
        .open()
        .filter(ward=ward, latitude__isnull=False)
        .order_by("requested_at")
        .values_list(
            "public_id",
            "latitude",
            "longitude",
            "status",
            "requested_at",
            "service_type__name",
            "service_type__translations",
        )[:limit]
    )
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {
                "id": public_id,
                "type": translated(
                    SimpleNamespace(name=type_name, translations=type_translations), "name"
                ),
                "status": status,
                "requested": timezone.localtime(requested_at, city_tz()).date().isoformat(),
            },
        }
        for public_id, lat, lon, status, requested_at, type_name, type_translations in rows
    ]
