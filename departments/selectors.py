"""Reads behind the ward dashboards and the league table.

The figures come from the rollup (departments/rollups.py: counters per ward, type, status and
city-time day, kept in step with every write), so a page costs the same at 10k and 1M issues.
Only two things still read issues: the issues due earlier today (for "overdue", which moves by
the minute) and the lists of oldest open issues and alerts (index range scans with LIMIT). Public
figures exclude hidden issues. Time windows are whole days in the city's time zone, so that each
figure can be reproduced exactly by the public list's `start`/`end` date filters it links to.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Floor
from django.utils import timezone

from departments.models import (
    CloseHistogram,
    DayTally,
    HeatTally,
    ServiceType,
    StatusTally,
    Ward,
)
from departments.rollups import ALL_TYPES, CLOSED, NO_WARD, OPEN, median_from_bins
from departments.wards import shape_from_geojson
from issues.models import OPEN_STATUSES, HotspotAlert, Issue, Status

OPENED_WINDOW_DAYS = 30
CLOSED_WINDOW_DAYS = 90
HEAT_WINDOW_DAYS = 90
WEEKS = 26
OLDEST_LIMIT = 10
TOP_CELLS = 10
# Heat-grid cells are squares of this many metres, fixed city-wide so cells line up across wards.
HEAT_CELL_M = 200
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("90+", 91, None),
)


# --- time windows ---------------------------------------------------------------------------


def city_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Clock:
    """'Now' and the day boundaries derived from it, in the city's time zone."""

    now: datetime
    today: date

    @classmethod
    def at(cls, now: datetime | None = None) -> Clock:
        now = now or timezone.now()
        return cls(now=now, today=timezone.localtime(now, city_tz()).date())

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=city_tz())

    def days_back(self, days: int) -> date:
        """First day of a window of `days` calendar days ending today."""
        return self.today - timedelta(days=days - 1)

    @property
    def week_start(self) -> date:
        return self.today - timedelta(days=self.today.weekday())


# --- the league table -----------------------------------------------------------------------


@dataclass
class WardFigures:
    ward_id: int
    number: int
    name: str
    slug: str
    open: int = 0
    overdue: int = 0
    opened_recent: int = 0
    closed_recent: int = 0
    closed_with_sla: int = 0
    closed_within_sla: int = 0
    median_days: float | None = None

    @property
    def sla_share(self) -> float | None:
        """Share of recently closed issues (of types with an SLA) closed by their due time."""
        if not self.closed_with_sla:
            return None
        return self.closed_within_sla / self.closed_with_sla


LEAGUE_MEASURES = ("open", "opened_recent", "median_days", "sla_share", "overdue")
LEAGUE_SORTS = ("number", "name", *LEAGUE_MEASURES)


def _due_earlier_today(clock: Clock) -> QuerySet:
    """Open public issues due between local midnight and now: overdue, but counted by the
    rollup under today's due day (which is otherwise still to come). A day's worth of rows at
    most, through the open issues' due-time index."""
    return (
        Issue.objects.public()
        .open()
        .filter(expected_at__gte=clock.midnight(clock.today), expected_at__lt=clock.now)
        .order_by()
    )


Bins = dict[int, tuple[int, float, float]]


def _merge_bins(into: Bins, extra: Bins) -> None:
    for index, (n, s, q) in extra.items():
        m, t, r = into.get(index, (0, 0.0, 0.0))
        into[index] = (m + n, t + s, r + q)


def _figures_by_ward(clock: Clock) -> tuple[dict[int, WardFigures], dict[int, Bins]]:
    """Every ward's figures (key 0: issues in no ward) and its close-time bins, from the rollup's
    all-types rows: four small grouped queries whatever the number of issues."""
    figures: dict[int, WardFigures] = defaultdict(
        lambda: WardFigures(ward_id=0, number=0, name="", slug="")
    )
    for key, n, with_due in (
        StatusTally.objects.filter(status__in=OPEN)
        .values("ward_key")
        .annotate(n=Sum("n"), due=Sum("with_due"))
        .values_list("ward_key", "n", "due")
    ):
        figures[key].open = n
        figures[key].overdue = with_due
    opened_since = clock.days_back(OPENED_WINDOW_DAYS)
    closed_since = clock.days_back(CLOSED_WINDOW_DAYS)
    recent = Q(day__gte=opened_since)
    for key, opened, closed, with_sla, within, due_later in (
        DayTally.objects.filter(type_key=ALL_TYPES, day__gte=min(opened_since, closed_since))
        .values("ward_key")
        .annotate(
            opened=Sum("opened", filter=recent),
            closed=Sum("closed", filter=Q(day__gte=closed_since)),
            with_sla=Sum("closed_with_sla", filter=Q(day__gte=closed_since)),
            within=Sum("closed_within_sla", filter=Q(day__gte=closed_since)),
            due_later=Sum("open_due", filter=Q(day__gte=clock.today)),
        )
        .values_list("ward_key", "opened", "closed", "with_sla", "within", "due_later")
    ):
        row = figures[key]
        row.opened_recent = opened or 0
        row.closed_recent, row.closed_with_sla = closed or 0, with_sla or 0
        row.closed_within_sla = within or 0
        # Open with a due time, less those due from today on: due before today.
        row.overdue -= due_later or 0
    for ward_id, n in (
        _due_earlier_today(clock)
        .values("ward_id")
        .annotate(n=Count("id"))
        .values_list("ward_id", "n")
    ):
        figures[ward_id or NO_WARD].overdue += n
    bins: dict[int, Bins] = defaultdict(dict)
    for key, index, n, s, q in (
        CloseHistogram.objects.filter(type_key=ALL_TYPES, day__gte=closed_since)
        .values("ward_key", "bin")
        .annotate(n=Sum("n"), s=Sum("days_sum"), q=Sum("days_sq_sum"))
        .values_list("ward_key", "bin", "n", "s", "q")
    ):
        bins[key][index] = (n, s, q)
    for key, ward_bins in bins.items():
        figures[key].median_days = median_from_bins(ward_bins)
    return dict(figures), dict(bins)


_FIGURES = (
    "open",
    "overdue",
    "opened_recent",
    "closed_recent",
    "closed_with_sla",
    "closed_within_sla",
)


def city_figures(*, now: datetime | None = None) -> WardFigures:
    """The same figures for the whole city, including reports not placed in a ward yet."""
    return league_and_city(now=now)[1]


def league_table(*, now: datetime | None = None) -> list[WardFigures]:
    """Every ward with its public figures, in ward-number order, from the rollup."""
    return league_and_city(now=now)[0]


def league_and_city(*, now: datetime | None = None) -> tuple[list[WardFigures], WardFigures]:
    """The league rows and the whole-city row from one read of the rollup."""
    figures, bins = _figures_by_ward(Clock.at(now))
    rows = []
    for w in Ward.objects.only("pk", "number", "name", "slug").order_by("number"):
        row = WardFigures(ward_id=w.pk, number=w.number, name=w.name, slug=w.slug)
        found = figures.get(w.pk)
        if found is not None:
            for name in (*_FIGURES, "median_days"):
                setattr(row, name, getattr(found, name))
        rows.append(row)
    city = WardFigures(ward_id=0, number=0, name="", slug="")
    merged: Bins = {}
    for key, row in figures.items():
        for name in _FIGURES:
            setattr(city, name, getattr(city, name) + getattr(row, name))
        _merge_bins(merged, bins.get(key, {}))
    city.median_days = median_from_bins(merged)
    return rows, city


def sort_league(rows: list[WardFigures], *, by: str, descending: bool) -> list[WardFigures]:
    """Sort by a measure; wards without a value (no closures yet) always go last."""
    if by not in LEAGUE_SORTS:
        by = "number"
    present = [r for r in rows if getattr(r, by) is not None]
    missing = [r for r in rows if getattr(r, by) is None]
    present.sort(key=lambda r: (getattr(r, by), r.number), reverse=descending)
    return present + sorted(missing, key=lambda r: r.number)


# --- the ward dashboard ---------------------------------------------------------------------


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
    oldest_open: list[Issue] = field(default_factory=list)
    alerts: list[HotspotAlert] = field(default_factory=list)

    @property
    def top_cells(self) -> list[HeatCell]:
        return sorted(self.heat_cells, key=lambda c: (-c.count, c.row, c.col))[:TOP_CELLS]

    @property
    def heat_max(self) -> int:
        return max((c.count for c in self.heat_cells), default=0)

    @property
    def types_with_median(self) -> list[TypeRow]:
        return [t for t in self.by_type if t.median_days is not None]


def heat_steps(cell_m: float = HEAT_CELL_M) -> tuple[float, float]:
    """Grid steps in degrees (latitude, longitude) for square cells of `cell_m` metres at the
    city's latitude: a fixed grid, so a cell is the same square on every page and every night."""
    lat_step = cell_m / 111_320.0
    lon_step = cell_m / (111_320.0 * math.cos(math.radians(settings.MAP_CENTER_LAT)))
    return lat_step, lon_step


def grid_counts(
    queryset: QuerySet, *, cell_m: float = HEAT_CELL_M, by_type: bool = False
) -> Iterable[tuple]:
    """(row, col[, service_type_id], count) per grid cell, aggregated in the database."""
    lat_step, lon_step = heat_steps(cell_m)
    keys = ["cell_row", "cell_col", *(["service_type_id"] if by_type else [])]
    return (
        queryset.filter(latitude__isnull=False)
        .order_by()
        .annotate(
            cell_row=Floor(F("latitude") / lat_step), cell_col=Floor(F("longitude") / lon_step)
        )
        .values(*keys)
        .annotate(n=Count("id"))
        .values_list(*keys, "n")
    )


def _heat_cells(counts: Iterable[tuple], types: dict[int, ServiceType]) -> list[HeatCell]:
    """Cells from (row, col, service type id, count) rows."""
    lat_step, lon_step = heat_steps()
    totals: dict[tuple[int, int], int] = defaultdict(int)
    dominant: dict[tuple[int, int], tuple[int, int]] = {}
    for row, col, type_id, n in counts:
        key = (int(row), int(col))
        totals[key] += n
        best = dominant.get(key)
        # Ties go to the lower type id so the answer does not depend on row order.
        if best is None or n > best[1] or (n == best[1] and type_id < best[0]):
            dominant[key] = (type_id, n)
    cells = []
    for (row, col), n in totals.items():
        type_id, type_n = dominant[(row, col)]
        service_type = types.get(type_id)
        cells.append(
            HeatCell(
                row=row,
                col=col,
                count=n,
                south=row * lat_step,
                north=(row + 1) * lat_step,
                west=col * lon_step,
                east=(col + 1) * lon_step,
                dominant_code=service_type.service_code if service_type else "",
                dominant_name=service_type.name if service_type else "",
                dominant_count=type_n,
            )
        )
    return cells


def ward_dashboard(
    *, ward: Ward, now: datetime | None = None, with_lists: bool = True
) -> WardDashboard:
    """All public figures of one ward, from the rollup: a constant number of small queries."""
    clock = Clock.at(now)
    board = WardDashboard(ward=ward, clock=clock)
    types = {t.pk: t for t in ServiceType.objects.only("pk", "service_code", "name")}

    # Counts by status and type: every public issue of the ward, ever.
    status_counts: dict[str, int] = defaultdict(int)
    type_rows: dict[int, TypeRow] = {}
    open_with_due = 0
    for type_id, status, n, with_due in StatusTally.objects.filter(ward_key=ward.pk).values_list(
        "type_key", "status", "n", "with_due"
    ):
        if not n:
            continue
        status_counts[status] += n
        if type_id not in type_rows:
            t = types.get(type_id)
            type_rows[type_id] = TypeRow(
                service_type_id=type_id,
                code=t.service_code if t else "",
                name=t.name if t else "",
            )
        type_rows[type_id].total += n
        if status in OPEN:
            type_rows[type_id].open += n
            open_with_due += with_due
    # Archived is a closed issue filed away: the public list's "closed" means both, so does this.
    board.by_status = [(s.value, s.label, status_counts.get(s.value, 0)) for s in OPEN_STATUSES] + [
        ("closed", Status.CLOSED.label, sum(status_counts.get(s, 0) for s in CLOSED))
    ]
    board.open = sum(status_counts.get(s, 0) for s in OPEN)

    # Day rows: all types for the 26 weeks, the week, aging and overdue; per type for the
    # closures of the last 90 days.
    first_week = clock.week_start - timedelta(weeks=WEEKS - 1)
    closed_since = clock.days_back(CLOSED_WINDOW_DAYS)
    aging_since = clock.today - timedelta(days=AGING_BUCKETS[-1][1] - 1)
    weeks = {
        first_week + timedelta(weeks=i): WeekRow(start=first_week + timedelta(weeks=i))
        for i in range(WEEKS)
    }
    board.aging = [
        AgingBucket(
            label=label,
            min_days=lo,
            max_days=hi,
            start=clock.today - timedelta(days=hi) if hi is not None else None,
            end=clock.today - timedelta(days=lo),
        )
        for label, lo, hi in AGING_BUCKETS
    ]
    recent_open = due_later = 0
    days = DayTally.objects.filter(ward_key=ward.pk).filter(
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
        week = day - timedelta(days=day.weekday())
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
    # Open with a due time, less those due from today on, plus those due earlier today.
    board.overdue = open_with_due - due_later + _due_earlier_today(clock).filter(ward=ward).count()

    # Median days to close of the last 90 days, per type and for the ward.
    bins: dict[int, Bins] = defaultdict(dict)
    for type_id, index, n, s, q in (
        CloseHistogram.objects.filter(ward_key=ward.pk, day__gte=closed_since)
        .values("type_key", "bin")
        .annotate(n=Sum("n"), s=Sum("days_sum"), q=Sum("days_sq_sum"))
        .values_list("type_key", "bin", "n", "s", "q")
    ):
        bins[type_id][index] = (n, s, q)
    for type_id, row in type_rows.items():
        row.median_days = median_from_bins(bins.get(type_id, {}))
    board.median_days = median_from_bins(bins.get(ALL_TYPES, {}))
    board.by_type = sorted(type_rows.values(), key=lambda r: (-r.total, r.name))

    # Hotspots: a grid of the last 90 days.
    heat = (
        HeatTally.objects.filter(ward_key=ward.pk, day__gte=clock.days_back(HEAT_WINDOW_DAYS))
        .values("cell_row", "cell_col", "type_key")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .values_list("cell_row", "cell_col", "type_key", "total")
    )
    board.heat_cells = _heat_cells(heat, types)

    if with_lists:
        _add_lists(board)
    return board


# --- caching ---------------------------------------------------------------------------------

CACHE_SECONDS = 60


def _cache_key(kind: str, *parts) -> str:
    """Versioned by the public page cache's global counter (issues/pagecache.py), which every
    write that can change a public figure moves on, bulk ones included (an SLA change that
    reschedules open issues, imports), and by the minute, because what only time changes
    (overdue, day windows) may be a minute late. Signed-in readers (aldermen) never get the
    page cache, so this is what spares them recounting."""
    from issues import pagecache

    (version,) = pagecache.current([pagecache.GLOBAL])
    minute = int(timezone.now().timestamp() // 60)
    return ":".join(str(p) for p in ("wards", kind, version, minute, *parts))


def cached_league() -> tuple[list[WardFigures], WardFigures]:
    """The league rows and the whole-city row, computed at most once a minute per change."""
    from django.core.cache import cache

    key = _cache_key("league", Ward.objects.count())
    value = cache.get(key)
    if value is None:
        value = league_and_city()
        cache.set(key, value, CACHE_SECONDS * 2)
    return value


def cached_ward_dashboard(*, ward: Ward) -> WardDashboard:
    """The ward's figures from the cache; its lists of issues and alerts are always read fresh,
    so a hidden issue leaves the page at once."""
    from django.core.cache import cache

    key = _cache_key("ward", ward.pk, ward.updated_at.timestamp())
    board = cache.get(key)
    if board is None:
        board = ward_dashboard(ward=ward, with_lists=False)
        cache.set(key, board, CACHE_SECONDS * 2)
    board.ward = ward
    _add_lists(board)
    return board


def _add_lists(board: WardDashboard) -> None:
    public = Issue.objects.public().filter(ward=board.ward).order_by()
    heat_since = board.clock.midnight(board.clock.days_back(HEAT_WINDOW_DAYS))
    board.oldest_open = list(
        public.open().select_related("service_type").order_by("requested_at", "pk")[:OLDEST_LIMIT]
    )
    board.alerts = list(
        HotspotAlert.objects.filter(ward=board.ward, window_end__gte=heat_since)
        .select_related("service_type")
        .order_by("-created_at")[:20]
    )


# --- geometry for maps ----------------------------------------------------------------------

_outline_cache: dict[tuple, dict] = {}


def _compact_geometry(boundary: dict, tolerance: float) -> dict:
    """Simplified (topology kept) and rounded to ~1 m: a fraction of the stored size."""
    from shapely.geometry import mapping

    geom = shape_from_geojson(boundary).simplify(tolerance, preserve_topology=True)
    return _round(mapping(geom))


def _round(geojson: dict) -> dict:
    def walk(coords):
        if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
            return [round(coords[0], 5), round(coords[1], 5)]
        return [walk(c) for c in coords]

    return {"type": geojson["type"], "coordinates": walk(geojson["coordinates"])}


def ward_outlines(tolerance: float = 0.0002) -> tuple[str, dict]:
    """(version, GeoJSON FeatureCollection) of every ward's compact outline.

    Cached per process and keyed by the wards' version, so an edited boundary shows at once."""
    from django.db.models import Max

    agg = Ward.objects.aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    key = (agg["n"], agg["changed"], agg["top"], tolerance)
    cached = _outline_cache.get(key)
    if cached is None:
        features = [
            {
                "type": "Feature",
                "id": number,
                "properties": {"number": number, "name": name, "slug": slug},
                "geometry": _compact_geometry(boundary, tolerance),
            }
            for number, name, slug, boundary in Ward.objects.order_by("number").values_list(
                "number", "name", "slug", "boundary"
            )
        ]
        _outline_cache.clear()
        cached = _outline_cache[key] = {"type": "FeatureCollection", "features": features}
    version = f"{agg['n']}-{agg['top']}-{agg['changed'].timestamp() if agg['changed'] else 0}"
    return version, cached


def ward_outline(ward: Ward, tolerance: float = 0.0001) -> dict:
    return _compact_geometry(ward.boundary, tolerance)


def ward_open_issue_points(*, ward: Ward, limit: int = 1000) -> list[dict]:
    """Open public issues of the ward as GeoJSON features (the dashboard's own small map feed)."""
    rows = (
        Issue.objects.public()
        .open()
        .filter(ward=ward, latitude__isnull=False)
        .order_by("requested_at")
        .values_list(
            "public_id", "latitude", "longitude", "status", "requested_at", "service_type__name"
        )[:limit]
    )
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {
                "id": public_id,
                "type": type_name,
                "status": status,
                "requested": timezone.localtime(requested_at, city_tz()).date().isoformat(),
            },
        }
        for public_id, lat, lon, status, requested_at, type_name in rows
    ]
