"""The dashboards' rollup: counters of public issues kept in step with every write.

The ward dashboard and the league table read five small tables (issues/models/dashboards.py:
StatusTally, DayTally, CloseHistogram and its weekly sums CloseWeekHistogram, HeatTally) instead of aggregating a ward's or the city's whole
history, so an uncached page costs the same at 10k and at 1M issues: the tables' size depends on
wards x service types x days (x statuses, x close-time bins), never on the number of issues.

What one issue contributes is defined once, in `Delta.add`, from nine columns (`STATE_FIELDS`).
Every write that changes one of them applies the difference in the write's own transaction:

- one issue (issues/services): `before = state_of(issue)` before the change, then
  `issue_changed(before=before, after=state_of(issue))` after it;
- many issues (imports, generation, a type's new SLA): `subtract_issues(ids)` before the rows
  change and `add_issues(ids)` after (only `add_issues` for new rows), or `add_states(rows)`
  when the rows are already in memory; both are set-wise (one upsert per table per batch);
- anything else (a restore, a ward file, doubt): `recount.rebuild()` or
  `recount.rebuild_for_wards(ids)`, also `python manage.py rebuild_rollups`.

Deltas are written as `INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + EXCLUDED.n`
(PostgreSQL and SQLite >= 3.24 share the syntax; the ORM's upsert can only overwrite, not add),
in key order, so two concurrent writes touching the same rows cannot deadlock.

Median days to close. Closures are counted per day in bins of days-to-close: bin 0 below one
hour, then four bins per doubling of hours (each bin spans a factor 2^(1/4), about 19%), the last
bin open-ended. Each bin keeps the count, the sum and the sum of squares of the exact durations.
`median_from_bins` finds the bin holding each middle value and reads it exactly when that bin
holds one value (its sum) or two (sum and sum of squares give both), or when all of a bin's values
are equal: that covers the small counts of a ward's type or a quiet ward, which are exact. In a
fuller bin it spreads the bin's values evenly, by rank, over the interval with their mean and
variance (inside the bin's edges): never off by more than the bin's width (19% of the value), and
within 2% on realistic distributions (tests/dashboards/test_rollups.py); the page shows one
decimal.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections
from django.db.models import QuerySet

from departments.geo import cell_of
from issues.geo import heat_steps
from issues.models import (
    NOT_FIXED_RESOLUTIONS,
    CloseHistogram,
    CloseWeekHistogram,
    DayTally,
    HeatTally,
    Issue,
    MapCell,
    StatusTally,
)

TABLES = (StatusTally, DayTally, CloseHistogram, CloseWeekHistogram, HeatTally)
# Each table's key columns and its counters, in the order `Delta` keeps them.
LAYOUT: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {
    StatusTally: (("ward_key", "type_key", "status"), ("n", "with_due")),
    DayTally: (
        ("ward_key", "type_key", "day"),
        (
            "opened",
            "closed",
            "closed_with_sla",
            "closed_within_sla",
            "open_requested",
            "open_due",
        ),
    ),
    CloseHistogram: (("ward_key", "type_key", "day", "bin"), ("n", "days_sum", "days_sq_sum")),
    CloseWeekHistogram: (("ward_key", "type_key", "week", "bin"), ("n", "days_sum", "days_sq_sum")),
    HeatTally: (("ward_key", "day", "cell_row", "cell_col", "type_key"), ("n",)),
    MapCell: (
        ("zoom", "cell_row", "cell_col"),
        ("n", "lat_sum", "lon_sum", "id_sum", *MapCell.STATUS_COUNTERS),
    ),
}

# Where each status's counter sits in a map cell's list (after n, lat_sum, lon_sum, id_sum).
STATUS_SLOT = {name[2:]: 4 + i for i, name in enumerate(MapCell.STATUS_COUNTERS)}
OPEN = ("open", "acknowledged", "in_progress")
CLOSED = ("closed", "archived")
ALL_TYPES = 0  # type_key of the per-ward rows (the league and the city read these)
NO_WARD = 0  # ward_key of issues in no ward (they count for the city)
BINS_PER_DOUBLING = 4
LAST_BIN = 80  # 2^(79/4) hours is about 100 years: everything beyond shares the last bin
CHUNK = 5000
UPSERT_ROWS = 1000  # rows per INSERT: under SQLite's and PostgreSQL's parameter limits
# PostgreSQL advisory lock: held shared by each batch of an import whose new issues are counted
# after it (setwise.LaterCount) and by that count, taken exclusively by a recount, which counts
# the states still pending first (recount.py) and so can neither miss nor repeat them.
IMPORT_LOCK = 0x1951_0C70

STATE_FIELDS = (
    "ward_id",
    "service_type_id",
    "status",
    "is_hidden",
    "requested_at",
    "expected_at",
    "closed_at",
    "latitude",
    "longitude",
    "id",
    "resolution",
)


class IssueState(NamedTuple):
    """The columns of an issue that the rollup depends on."""

    ward_id: int | None
    service_type_id: int
    status: str
    is_hidden: bool
    requested_at: datetime
    expected_at: datetime | None
    closed_at: datetime | None
    latitude: float | None
    longitude: float | None
    id: int  # for the map's cells: a cell of one issue shows that issue
    resolution: str = ""


def state_of(issue) -> IssueState:
    return IssueState(*(getattr(issue, f) for f in STATE_FIELDS))


# --- the close-time histogram ----------------------------------------------------------------


def close_bin(days: float) -> int:
    return close_bin_of_hours(days * 24.0)


def close_bin_of_hours(hours: float) -> int:
    if hours < 1.0:
        return 0
    return min(LAST_BIN, 1 + math.floor(math.log2(hours) * BINS_PER_DOUBLING))


def bin_edges(index: int) -> tuple[float, float]:
    """(low, high) of a bin in days; the last bin's high is infinite."""
    if index == 0:
        return 0.0, 1 / 24
    low = 2 ** ((index - 1) / BINS_PER_DOUBLING) / 24
    high = math.inf if index >= LAST_BIN else 2 ** (index / BINS_PER_DOUBLING) / 24
    return low, high


def median_from_bins(bins: dict[int, tuple[int, float, float]]) -> float | None:
    """The median (as PostgreSQL's percentile_cont(0.5)) of the durations summarised by
    {bin: (count, sum, sum of squares)}; None when there are none. See the module docstring."""
    ordered = [(b, v) for b, v in sorted(bins.items()) if v[0] > 0]
    total = sum(v[0] for _, v in ordered)
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]

    def value_at(rank: int) -> float:
        seen = 0
        for index, (n, s, q) in ordered:
            if rank < seen + n:
                within = rank - seen
                if n == 1:
                    return s
                if n == 2:
                    mean = s / 2
                    spread = math.sqrt(max(q / 2 - mean * mean, 0.0))
                    return mean - spread if within == 0 else mean + spread
                # Three or more: spread them evenly over the interval that has their mean and
                # variance (a uniform's width is sqrt(12) standard deviations), kept inside the
                # bin. Equal values come back exactly.
                mean = s / n
                half = math.sqrt(3.0 * max(q / n - mean * mean, 0.0))
                low, high = bin_edges(index)
                low, high = max(low, mean - half), min(high, mean + half)
                if index == 0:
                    low = mean - half  # bin 0 may hold a clock-skewed negative duration
                return low + (high - low) * (within + 0.5) / n
            seen += n
        raise AssertionError("rank beyond the counted values")

    return (value_at(middle[0]) + value_at(middle[1])) / 2


def week_of(day: date) -> date:
    """The Monday of `day`'s week: CloseWeekHistogram's key (weeks start on Monday, as the
    dashboards' weeks do)."""
    return day - timedelta(days=day.weekday())


def plain_rows(rows: QuerySet) -> list[tuple]:
    """A grouped read of the rollup as the cursor's plain tuples, on the connection the router
    chose for it: the pages read thousands of small sums a request at 1M issues, and the ORM's
    per-value converters cost more than the query (bench/README.md, "Cold rollup pages")."""
    with connections[rows.db].cursor() as cursor:
        cursor.execute(*rows.query.sql_with_params())
        return cursor.fetchall()


# --- what an issue contributes ---------------------------------------------------------------


def _city_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class Delta:
    """Signed changes to the rollup's tables, accumulated by key."""

    def __init__(self, *, map_cells: bool = True) -> None:
        # map_cells=False: a recount of some wards' rows, which the map's cells (per point,
        # not per ward) are not part of.
        self.map_cells = map_cells
        self.cells: dict[tuple, list[float]] = defaultdict(
            lambda: [0, 0.0, 0.0, 0] + [0] * len(MapCell.STATUS_COUNTERS)
        )
        self.tz = _city_tz()
        self.status: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        self.days: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        self.bins: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        self.week_bins: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        self.heat: dict[tuple, list[int]] = defaultdict(lambda: [0])
        self.lat_step, self.lon_step = heat_steps()

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def add(self, state: IssueState | Sequence | None, sign: int = 1) -> None:
        if state is None:
            return
        ward, type_id, status, hidden, requested, expected, closed, lat, lon, pk, resolution = state
        if hidden:
            return
        if self.map_cells and lat is not None and lon is not None:
            for zoom in MapCell.ZOOMS:
                col, row = cell_of(lat, lon, zoom)
                cell = self.cells[(zoom, row, col)]
                cell[0] += sign
                cell[1] += sign * lat
                cell[2] += sign * lon
                cell[3] += sign * pk
                cell[STATUS_SLOT[status]] += sign
        ward = ward or NO_WARD
        counts = self.status[(ward, type_id, status)]
        counts[0] += sign
        counts[1] += sign if expected is not None else 0
        is_open = status in OPEN
        requested_day = self._day(requested)
        if lat is not None and lon is not None:
            # The same square as SQL's FLOOR(latitude / step): one IEEE division either way.
            cell = (math.floor(lat / self.lat_step), math.floor(lon / self.lon_step))
            self.heat[(ward, requested_day, *cell, type_id)][0] += sign
        due_day = self._day(expected) if is_open and expected is not None else None
        closed_day = self._day(closed) if status in CLOSED and closed is not None else None
        # Time to fix (the close-time histogram, closed within the SLA) counts fixes only: a
        # duplicate, a referral or a withdrawal closed in an hour is not a fast fix.
        fixed = resolution not in NOT_FIXED_RESOLUTIONS
        if closed_day is not None:
            duration = (closed - requested).total_seconds() / 86400.0
            index = close_bin(duration)
            week = week_of(closed_day)
        for type_key in (type_id, ALL_TYPES):
            row = self.days[(ward, type_key, requested_day)]
            row[0] += sign  # opened
            if is_open:
                row[4] += sign  # open_requested
                if due_day is not None:
                    self.days[(ward, type_key, due_day)][5] += sign  # open_due
            if closed_day is not None:
                row = self.days[(ward, type_key, closed_day)]
                row[1] += sign
                if not fixed:
                    continue
                if expected is not None:
                    row[2] += sign
                    if closed <= expected:
                        row[3] += sign
                for cell in (
                    self.bins[(ward, type_key, closed_day, index)],
                    self.week_bins[(ward, type_key, week, index)],
                ):
                    cell[0] += sign
                    cell[1] += sign * duration
                    cell[2] += sign * duration * duration

    def write(self, tables: Sequence[type] = (*TABLES, MapCell)) -> None:
        for model, changes in (
            (StatusTally, self.status),
            (DayTally, self.days),
            (CloseHistogram, self.bins),
            (CloseWeekHistogram, self.week_bins),
            (HeatTally, self.heat),
            (MapCell, self.cells),
        ):
            if model in tables:
                keys, values = LAYOUT[model]
                _upsert(model, keys, values, changes)


def _upsert(model, keys: Sequence[str], values: Sequence[str], changes: dict) -> None:
    # Only the rows that change, in key order (no deadlock between two writers), set-wise: a
    # generator batch spreads over thousands of days, and a statement per row would cost more
    # than the batch itself.
    rows = [(*key, *vals) for key, vals in sorted(changes.items()) if any(vals)]
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = (*keys, *values)
    columns = ", ".join(qn(c) for c in names)
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + EXCLUDED.{qn(c)}" for c in values)
    conflict = f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {updates}"
    # Names are our own models' columns, quoted; every value is a parameter.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, one array per column: planned once whatever the number of rows.
            arrays = ", ".join(
                f"%s::{model._meta.get_field(c).db_type(connection)}[]" for c in names
            )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {conflict}",  # noqa: S608
                [array_literal(column) for column in zip(*rows, strict=True)],
            )
            return
        one = "(" + ", ".join(["%s"] * len(names)) + ")"
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))} {conflict}",  # noqa: S608
                [v for row in chunk for v in row],
            )


def array_literal(values: Sequence) -> str:
    """A PostgreSQL array's text form, e.g. '{3,-1,2.5}', passed as one string parameter.

    Django's cursor binds parameters on the client: a Python list becomes a quoted literal built
    element by element in Python (an import's batch spends seconds there), one string costs one
    escape. Every value here is an int, a float (repr round-trips exactly through float8), a
    date or one of our own status words (quoted anyway)."""
    if values and isinstance(values[0], str):
        return (
            "{"
            + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
            + "}"
        )
    return "{" + ",".join(map(str, values)) + "}"


# --- maintenance -------------------------------------------------------------------------------


def issue_changed(*, before: IssueState | None, after: IssueState | None) -> None:
    """Apply one issue's change (before=None: created; after=None: deleted). Call inside the
    write's transaction."""
    if before == after:
        return
    delta = Delta()
    delta.add(before, -1)
    delta.add(after, +1)
    delta.write()


def add_states(rows: Iterable[Sequence]) -> None:
    """Count rows given as tuples in `STATE_FIELDS` order (new issues already in memory)."""
    delta = Delta()
    for row in rows:
        delta.add(row, +1)
    delta.write()


def add_issues(issue_ids: Iterable[int]) -> None:
    """Count these issues as they are now stored. For new rows, or after `subtract_issues`."""
    _apply_ids(issue_ids, +1)


def subtract_issues(issue_ids: Iterable[int]) -> None:
    """Uncount these issues as they are now stored: call before a bulk write changes them, then
    `add_issues` after it, in the same transaction."""
    _apply_ids(issue_ids, -1)


def _apply_ids(issue_ids: Iterable[int], sign: int) -> None:
    ids = list(issue_ids)
    for start in range(0, len(ids), CHUNK):
        delta = Delta()
        rows = Issue.objects.filter(pk__in=ids[start : start + CHUNK])
        if sign < 0:
            # Uncounting before a bulk write: lock the rows, or a status change committing
            # between this read and the write would be subtracted twice.
            rows = rows.select_for_update()
        for row in rows.order_by("pk").values_list(*STATE_FIELDS):
            delta.add(row, sign)
        delta.write()


def built_zoom_sets() -> set[int]:
    """The indexes in MapCell.ZOOM_SETS of the sets of zooms that are built (their BUILT row)."""
    return set(MapCell.objects.filter(zoom=MapCell.BUILT).values_list("cell_row", flat=True))


def map_cells_built() -> bool:
    """Whether every set of zooms is built."""
    return built_zoom_sets() >= set(range(len(MapCell.ZOOM_SETS)))
