"""Reads behind the ward dashboards and the league table: aggregate SQL only.

Every figure is a COUNT/PERCENTILE over indexed columns, grouped in the database; Python only
arranges the aggregated rows (26 weeks, 4 age buckets, a few hundred grid cells). Public figures
exclude hidden issues. Time windows are whole days in the city's time zone, so that each figure
can be reproduced exactly by the public list's `start`/`end` date filters it links to.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import NotSupportedError, connections
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import Floor, TruncWeek
from django.utils import timezone

from departments.models import ServiceType, Ward
from departments.wards import shape_from_geojson
from issues.models import CLOSED_STATUSES, OPEN_STATUSES, HotspotAlert, Issue, Status

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


# --- SQL building blocks ---------------------------------------------------------------------


class DaysToClose(Func):
    """closed_at - requested_at in fractional days, as a float the database can aggregate."""

    output_field = FloatField()

    def __init__(self, **extra):
        super().__init__(F("closed_at"), F("requested_at"), **extra)

    def as_sql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        sql = f"(EXTRACT(EPOCH FROM ({end} - {start}))::double precision / 86400.0)"
        return sql, (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(julianday({end}) - julianday({start}))", (*end_params, *start_params)


class Median(Aggregate):
    """PostgreSQL's exact median (percentile_cont). SQLite has none: see `median_by`."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        raise NotSupportedError("SQLite has no percentile_cont; use median_by().")


def median_by(queryset: QuerySet, group: str | None, value: Func) -> dict:
    """Median of `value` per `group` (or {None: median} when group is None).

    PostgreSQL computes it in the database. SQLite (local development) gets the values already
    sorted by the database, one float per row, and picks the middle ones: the same answer.
    """
    queryset = queryset.order_by()
    if connections[queryset.db].vendor == "postgresql":
        if group is None:
            return {None: queryset.aggregate(m=Median(value))["m"]}
        rows = queryset.values(group).annotate(m=Median(value)).values_list(group, "m")
        return dict(rows)
    keys = [group] if group else []
    rows = queryset.annotate(_v=value).order_by(*keys, "_v").values_list(*(keys or ["pk"]), "_v")
    if group is None:
        values = [v for _, v in rows]
        return {None: statistics.median(values) if values else None}
    return {
        key: statistics.median([v for _, v in chunk])
        for key, chunk in groupby(rows, key=lambda r: r[0])
    }


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


def _closed_since(clock: Clock, days: int) -> Q:
    return Q(status__in=CLOSED_STATUSES, closed_at__gte=clock.midnight(clock.days_back(days)))


def city_figures(*, now: datetime | None = None) -> WardFigures:
    """The same figures for the whole city, including reports not placed in a ward yet."""
    clock = Clock.at(now)
    city = WardFigures(ward_id=0, number=0, name="", slug="")
    public = Issue.objects.public().order_by()
    agg = public.open().aggregate(
        n=Count("id"), late=Count("id", filter=Q(expected_at__lt=clock.now))
    )
    city.open, city.overdue = agg["n"], agg["late"]
    since = clock.midnight(clock.days_back(OPENED_WINDOW_DAYS))
    city.opened_recent = public.filter(requested_at__gte=since).count()
    closed = public.filter(_closed_since(clock, CLOSED_WINDOW_DAYS))
    agg = closed.aggregate(
        n=Count("id"),
        with_sla=Count("id", filter=Q(expected_at__isnull=False)),
        within=Count("id", filter=Q(expected_at__isnull=False, closed_at__lte=F("expected_at"))),
    )
    city.closed_recent, city.closed_with_sla = agg["n"], agg["with_sla"]
    city.closed_within_sla = agg["within"]
    city.median_days = median_by(closed, None, DaysToClose())[None]
    return city


def league_table(*, now: datetime | None = None) -> list[WardFigures]:
    """Every ward with its public figures, in ward-number order. Four grouped queries."""
    clock = Clock.at(now)
    rows = {
        w.pk: WardFigures(ward_id=w.pk, number=w.number, name=w.name, slug=w.slug)
        for w in Ward.objects.only("pk", "number", "name", "slug").order_by("number")
    }
    public = Issue.objects.public().filter(ward__isnull=False).order_by()
    for ward_id, n_open, n_overdue in (
        public.open()
        .values("ward_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(expected_at__lt=clock.now)))
        .values_list("ward_id", "n", "late")
    ):
        if ward_id in rows:
            rows[ward_id].open, rows[ward_id].overdue = n_open, n_overdue
    since = clock.midnight(clock.days_back(OPENED_WINDOW_DAYS))
    for ward_id, n in (
        public.filter(requested_at__gte=since)
        .values("ward_id")
        .annotate(n=Count("id"))
        .values_list("ward_id", "n")
    ):
        if ward_id in rows:
            rows[ward_id].opened_recent = n
    closed = public.filter(_closed_since(clock, CLOSED_WINDOW_DAYS))
    for ward_id, n, with_sla, within in (
        closed.values("ward_id")
        .annotate(
            n=Count("id"),
            with_sla=Count("id", filter=Q(expected_at__isnull=False)),
            within=Count(
                "id", filter=Q(expected_at__isnull=False, closed_at__lte=F("expected_at"))
            ),
        )
        .values_list("ward_id", "n", "with_sla", "within")
    ):
        if ward_id in rows:
            row = rows[ward_id]
            row.closed_recent, row.closed_with_sla, row.closed_within_sla = n, with_sla, within
    for ward_id, median in median_by(closed, "ward_id", DaysToClose()).items():
        if ward_id in rows:
            rows[ward_id].median_days = median
    return list(rows.values())


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


def _heat_cells(queryset: QuerySet, types: dict[int, ServiceType]) -> list[HeatCell]:
    lat_step, lon_step = heat_steps()
    totals: dict[tuple[int, int], int] = defaultdict(int)
    dominant: dict[tuple[int, int], tuple[int, int]] = {}
    for row, col, type_id, n in grid_counts(queryset, by_type=True):
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
    """All public figures of one ward; a constant number of grouped queries (about a dozen)."""
    clock = Clock.at(now)
    board = WardDashboard(ward=ward, clock=clock)
    public = Issue.objects.public().filter(ward=ward).order_by()
    types = {t.pk: t for t in ServiceType.objects.only("pk", "service_code", "name")}

    # Counts by status: every public issue of the ward, ever.
    status_counts = dict(public.values("status").annotate(n=Count("id")).values_list("status", "n"))
    # Archived is a closed issue filed away: the public list's "closed" means both, so does this.
    board.by_status = [(s.value, s.label, status_counts.get(s.value, 0)) for s in OPEN_STATUSES] + [
        ("closed", Status.CLOSED.label, sum(status_counts.get(s.value, 0) for s in CLOSED_STATUSES))
    ]
    board.open = sum(status_counts.get(s.value, 0) for s in OPEN_STATUSES)
    board.overdue = public.overdue(clock.now).count()

    # By type: total, open, recently closed, and the median time to close of the latter.
    closed_recent = public.filter(_closed_since(clock, CLOSED_WINDOW_DAYS))
    type_rows: dict[int, TypeRow] = {}
    for type_id, total, n_open in (
        public.values("service_type_id")
        .annotate(total=Count("id"), n_open=Count("id", filter=Q(status__in=OPEN_STATUSES)))
        .values_list("service_type_id", "total", "n_open")
    ):
        t = types.get(type_id)
        type_rows[type_id] = TypeRow(
            service_type_id=type_id,
            code=t.service_code if t else "",
            name=t.name if t else "",
            total=total,
            open=n_open,
        )
    for type_id, n in (
        closed_recent.values("service_type_id")
        .annotate(n=Count("id"))
        .values_list("service_type_id", "n")
    ):
        if type_id in type_rows:
            type_rows[type_id].closed_recent = n
    for type_id, median in median_by(closed_recent, "service_type_id", DaysToClose()).items():
        if type_id in type_rows:
            type_rows[type_id].median_days = median
    board.by_type = sorted(type_rows.values(), key=lambda r: (-r.total, r.name))
    board.closed_recent = sum(r.closed_recent for r in board.by_type)
    board.median_days = median_by(closed_recent, None, DaysToClose())[None]

    # This week (Monday to today, city time).
    week_start = clock.midnight(clock.week_start)
    board.opened_this_week = public.filter(requested_at__gte=week_start).count()
    board.closed_this_week = public.filter(
        status__in=CLOSED_STATUSES, closed_at__gte=week_start
    ).count()

    # Opened and closed per week, 26 weeks, weeks starting on Monday in the city's time zone.
    first_week = clock.week_start - timedelta(weeks=WEEKS - 1)
    weeks = {
        first_week + timedelta(weeks=i): WeekRow(start=first_week + timedelta(weeks=i))
        for i in range(WEEKS)
    }
    since = clock.midnight(first_week)
    tz = city_tz()
    for week, n in (
        public.filter(requested_at__gte=since)
        .annotate(week=TruncWeek("requested_at", tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    ):
        key = _as_date(week, tz)
        if key in weeks:
            weeks[key].opened = n
    for week, n in (
        public.filter(status__in=CLOSED_STATUSES, closed_at__gte=since)
        .annotate(week=TruncWeek("closed_at", tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    ):
        key = _as_date(week, tz)
        if key in weeks:
            weeks[key].closed = n
    board.weeks = list(weeks.values())

    # Aging of open issues, by whole days since the report (city calendar).
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
    aggregates = {}
    for i, bucket in enumerate(board.aging):
        condition = Q(requested_at__lt=clock.midnight(bucket.end + timedelta(days=1)))
        if bucket.start is not None:
            condition &= Q(requested_at__gte=clock.midnight(bucket.start))
        aggregates[f"b{i}"] = Count("id", filter=condition)
    counts = public.open().aggregate(**aggregates)
    for i, bucket in enumerate(board.aging):
        bucket.count = counts[f"b{i}"]

    # Hotspots: a grid of the last 90 days.
    heat_since = clock.midnight(clock.days_back(HEAT_WINDOW_DAYS))
    board.heat_cells = _heat_cells(public.filter(requested_at__gte=heat_since), types)

    if with_lists:
        _add_lists(board)
    return board


# --- caching ---------------------------------------------------------------------------------

CACHE_SECONDS = 60


def _cache_key(kind: str, *parts) -> str:
    """Versioned by the newest change to any issue (max updated_at, max id: two index lookups)
    and by the minute, so a report, a status change or a comment shows at once, and what only
    time changes (overdue, day windows) is at most a minute late. Hiding touches updated_at too
    (services.set_hidden), so a hidden issue leaves the counts at once."""
    from django.db.models import Max

    agg = Issue.objects.aggregate(u=Max("updated_at"), i=Max("id"))
    changed = agg["u"].timestamp() if agg["u"] else 0
    minute = int(timezone.now().timestamp() // 60)
    return ":".join(str(p) for p in ("wards", kind, changed, agg["i"] or 0, minute, *parts))


def cached_league() -> tuple[list[WardFigures], WardFigures]:
    """The league rows and the whole-city row, computed at most once a minute per change."""
    from django.core.cache import cache

    key = _cache_key("league", Ward.objects.count())
    value = cache.get(key)
    if value is None:
        value = (league_table(), city_figures())
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


def _as_date(value, tz) -> date:
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(tz)
        return value.date()
    return value


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
