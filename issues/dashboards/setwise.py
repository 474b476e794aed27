"""New issues counted into the dashboards' rollup by the database: one GROUP BY per table.

An import's batch is thousands of historical issues spread over as many days, types and
squares; built in Python (`rollups.Delta`) their counts cost more than storing the issues. Here
PostgreSQL groups the just-written rows itself and adds the groups by the same upsert
(`ON CONFLICT ... DO UPDATE SET n = n + EXCLUDED.n`, in key order).

`Delta.add` stays the definition of what an issue contributes: every expression here repeats
one of its lines (the comments name which), and tests/dashboards/test_setwise.py holds the two
equal on every kind of issue, and the import tests hold the result equal to a rebuild. A
counter added to Delta must be added here too (or the importer falls back to Delta: see
`count_new_issues`).

Exactness: days are the city's (AT TIME ZONE, the same tz database rules as zoneinfo), squares
the same IEEE division as Python's, durations the same two roundings (exact seconds, then / 86400),
and the close-time bin is found among the exact float thresholds where Python's `close_bin`
changes (width_bucket), not by a second logarithm that could round differently at an edge.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.functions import Now

from departments.geo import cell_size
from issues.dashboards import rollups
from issues.geo import heat_steps
from issues.models import (
    NOT_FIXED_RESOLUTIONS,
    CloseHistogram,
    CloseWeekHistogram,
    DayTally,
    HeatTally,
    ImportRun,
    MapCell,
    PendingCount,
    StatusTally,
)

# Tables this module counts; a table Delta writes that is not here sends imports back to Delta.
COUNTED = (StatusTally, DayTally, CloseHistogram, CloseWeekHistogram, HeatTally, MapCell)


def count_new_issues(ids: Sequence[int], states) -> None:
    """Count new issues (ids, already written in this transaction). On PostgreSQL by GROUP BYs;
    elsewhere, or should Delta keep a table this module does not, from `states` (tuples in
    `rollups.STATE_FIELDS` order) by Delta."""
    if connection.vendor != "postgresql" or set(rollups.LAYOUT) != set(COUNTED):
        rollups.add_states(states)
        return
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(_statement(), _params(ids))


def deferring() -> bool:
    """Whether an import's new issues are counted after it stores them (`LaterCount`): on
    PostgreSQL, and while this module counts every table Delta keeps."""
    return connection.vendor == "postgresql" and set(rollups.LAYOUT) == set(COUNTED)


class LaterCount:
    """An import's new issues counted after it has stored them (`count`), instead of per batch.

    A historical import spreads every batch over as many days, types and squares as it has
    issues: counted per batch, each batch upserts about nine counter rows per issue into tables
    that are large at 1M, and the same keys again in the next batch. Counted at the end, rows
    that share a key across batches are grouped first and upserted once, and the import's rows
    are stored (and shown on the issue pages) without waiting for it.

    Exact under concurrent writes, because what is counted is each issue's state as the import
    wrote it (a `PendingCount` row, written in its batch's transaction), not its state when
    counted: a later change to the issue, by staff or by a later line of the same file, applies
    its own difference (after - before) as it happens, and differences add up in any order. The
    count deletes the rows it counts in the statement that counts them, so a state is counted
    once whoever counts it. Until then the dashboards do not show the import's issues: a later
    line of the file updates the waiting state (`restate`) instead of uncounting an issue not
    yet counted. (A change staff make meanwhile to one of them applies its difference at once,
    as every write does: that difference shows early, and can take a figure below what it was
    until the count; a later line of a file then uncounts and counts the issue as usual.)

    The run is kept in `ImportRun` under a lease (`alive_at`) that its process renews while it
    lives: in each batch's transaction (`add`, which holds the run's row until the batch commits)
    and, between batches, by a heartbeat every quarter of `IMPORT_LEASE_SECONDS` (`_Heartbeat`:
    reading a big file from a slow disk, or the rejects' second read at the end, writes no
    batch for a while). The worker (`count_orphaned_runs`) counts only runs whose lease is older
    than IMPORT_LEASE_SECONDS: their process was killed. Nothing of this lives longer than a
    transaction, so it holds through a transaction pooler (docs/scaling.md). A process that
    stalls for longer than the lease (stopped, swapped out) has its run counted by the worker;
    its next batch then finds the run counted and starts a new one (`_renew`): counted in two
    parts, nothing twice, nothing lost. A recount (recount.rebuild*) counts the pending states
    first, under `rollups.IMPORT_LOCK`, which every batch holds shared in its transaction.
    Elsewhere than on PostgreSQL (or with a table this module does not count) each batch is
    counted at once by `count_new_issues`."""

    def __init__(self, source: str) -> None:
        self.run_id: int | None = None
        self._source = source[:64]
        self._heartbeat: _Heartbeat | None = None
        if deferring():
            # Committed with a fresh lease: the worker leaves it alone for a lease's length.
            self.run_id = ImportRun.objects.create(source=self._source).pk
            # Inside a caller's transaction (a test, an atomic import) nobody else sees the run
            # until it commits, and the caller counts it before that: no one to tell.
            if not connection.in_atomic_block:
                self._heartbeat = _Heartbeat(self)

    def add(self, ids: Sequence[int], states) -> None:
        """Keep these new issues (written in the current transaction) for `count`. Call it before
        the batch's other rollup writes: its lock comes before theirs, as in a recount."""
        if self.run_id is None:
            count_new_issues(ids, states)
            return
        if not ids:
            return
        with connection.cursor() as cursor:
            # Until this batch commits, a recount waits, and this batch waits for a recount.
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [rollups.IMPORT_LOCK])
            self._renew(cursor)
            # Read back from the rows just written (their pages are in the cache): a COPY of the
            # same states from Python measured 3x slower per batch (bench/README.md, import4).
            cursor.execute(
                f"INSERT INTO {PENDING} ({_KEPT}, run_id) SELECT {_READ}, %s "  # noqa: S608
                "FROM issues_issue WHERE id = ANY(%s::bigint[])",
                [self.run_id, rollups.array_literal(sorted(ids))],
            )

    def _renew(self, cursor) -> None:
        """Renew the run's lease and hold its row until this batch commits (the lock order of
        `count_run`: the import lock, then the run's row): a worker's count waits for the batch
        and takes its states too. A run counted meanwhile (this process stalled past its lease)
        must get no more states, which nobody would count: the batch starts a new run, in its own
        transaction, so the run exists exactly if its states do (a batch rolled back takes its
        run with it, and the next one starts another). Chosen over counting the batch at once:
        the batches after it keep being counted once, at the end, as before."""
        cursor.execute(RENEW, [self.run_id])
        if cursor.fetchone() is None:
            self.run_id = ImportRun.objects.create(source=self._source).pk

    def pending_among(self, ids: Sequence[int]) -> set[int]:
        """Those of these issues (about to be updated in the current transaction) whose state
        still waits to be counted and is still the issue's own, locked until it commits: a
        count waits for the update. An issue changed since (by staff) applied that change's
        difference off the waiting state, so it is uncounted and counted as usual instead:
        rewriting its waiting state would count the change and the update both."""
        if self.run_id is None or not ids:
            return set()
        columns = _READ.removeprefix("id, ").split(", ")
        same = " AND ".join(f"p.{c} IS NOT DISTINCT FROM i.{c}" for c in columns)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [rollups.IMPORT_LOCK])
            cursor.execute(
                f"SELECT p.issue_id, {same} FROM {PENDING} p"  # noqa: S608 (our names)
                " JOIN issues_issue i ON i.id = p.issue_id"
                " WHERE p.issue_id = ANY(%s::bigint[]) ORDER BY p.issue_id FOR UPDATE OF p",
                [rollups.array_literal(sorted(ids))],
            )
            return {pk for pk, unchanged in cursor.fetchall() if unchanged}

    def restate(self, ids: set[int]) -> None:
        """Their waiting states, as the issues are now (after the update): uncounting and
        counting them again instead would take them off the dashboards until the count, a dip
        in a figure that the count then takes back."""
        if not ids:
            return
        columns = _KEPT.removeprefix("issue_id, ")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {PENDING} p SET ({columns}) = "  # noqa: S608 (our names)
                f"(SELECT {columns} FROM issues_issue i WHERE i.id = p.issue_id) "
                "WHERE p.issue_id = ANY(%s::bigint[])",
                [rollups.array_literal(sorted(ids))],
            )

    def count(self) -> None:
        """Count what is pending, and let the worker forget the run."""
        if self.run_id is None:
            return
        try:
            count_run(self.run_id)
        finally:
            # Renewed until the count is done: should it fail (the database gone), the worker
            # takes over a lease later.
            if self._heartbeat is not None:
                self._heartbeat.stop()
                self._heartbeat = None
            self.run_id = None


class _Heartbeat:
    """Renews a live run's lease every quarter of IMPORT_LEASE_SECONDS, on a thread (and so a
    connection) of its own, each renewal its own short transaction. It dies with the process,
    which is the point: a killed import stops renewing and the worker counts its run. It renews
    `later.run_id` as it is at each beat (a batch may have started a new run)."""

    def __init__(self, later: LaterCount) -> None:
        self._later = later
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="import-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopped.wait(settings.IMPORT_LEASE_SECONDS / 4):
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(RENEW, [self._later.run_id])
                except DatabaseError:
                    # The database away for a moment: the next beat tries on a new connection
                    # (and while it is away the worker cannot count the run either).
                    connection.close()
        finally:
            connections.close_all()  # this thread's own

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


def count_run(run_id: int, *, lease_seconds: float | None = None) -> bool:
    """Count a run's pending states into the rollup, in one statement and one transaction, and
    mark it counted. False if someone else already had (or the run is gone), or, given
    `lease_seconds` (the worker), if the run's lease is younger than that."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The whole import's groups in memory (the default 4 MB spilled them to disk).
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s), set_config('work_mem', '64MB', true)",
            [rollups.IMPORT_LOCK],
        )
        # Marked first: the row's lock makes a second counter (or a batch) wait, then find it
        # counted. The lease is read under that lock (the conditions are checked again on the
        # row as it is once the lock is ours): a batch that renewed it has committed by then.
        cursor.execute(
            "UPDATE issues_importrun SET counted_at = now() WHERE id = %(run)s"
            " AND counted_at IS NULL AND (%(lease)s::float8 IS NULL"
            " OR alive_at < clock_timestamp() - make_interval(secs => %(lease)s::float8))"
            " RETURNING id",
            {"run": run_id, "lease": lease_seconds},
        )
        if cursor.fetchone() is None:
            return False
        cursor.execute(_statement(PENDING_SOURCE, TAKE_PENDING), {**_params(), "run": run_id})
    return True


def count_pending() -> None:
    """Count every run's pending states now, in one statement: a recount's first step
    (recount.py), under its exclusive import lock. The runs stay marked uncounted; the worker
    then finds nothing left of them to count."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # By name: an old migration's recount runs before the table exists.
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [PENDING])
        if cursor.fetchone()[0]:
            cursor.execute(_statement(PENDING_SOURCE, TAKE_ALL_PENDING), _params())


def count_orphaned_runs() -> int:
    """Count the runs whose process is gone (killed, or its machine lost) before counting its
    issues: the worker's job. Runs still importing renew their lease (LaterCount) and are left
    to count their own."""
    if connection.vendor != "postgresql":
        return 0
    lease = settings.IMPORT_LEASE_SECONDS
    expired = ImportRun.objects.filter(
        counted_at=None, alive_at__lt=Now() - timedelta(seconds=lease)
    ).values_list("pk", flat=True)
    return sum(count_run(run_id, lease_seconds=lease) for run_id in expired)


def _params(ids: Sequence[int] = ()) -> dict:
    return {
        "ids": rollups.array_literal(sorted(ids)),
        "tz": settings.TIME_ZONE,
        "open": rollups.array_literal(rollups.OPEN),
        "closed": rollups.array_literal(rollups.CLOSED),
        "not_fixed": rollups.array_literal([str(r) for r in NOT_FIXED_RESOLUTIONS]),
        "bin_edges": rollups.array_literal(bin_thresholds()),
        "last_bin": rollups.LAST_BIN,
        "lat_step": heat_steps()[0],
        "lon_step": heat_steps()[1],
        "zooms": rollups.array_literal(MapCell.ZOOMS),
        # our own constants: their exact floats (repr round-trips through float8)
        "sizes": rollups.array_literal([cell_size(zoom) for zoom in MapCell.ZOOMS]),
    }


@cache
def bin_thresholds() -> list[float]:
    """For each bin k from 1 to LAST_BIN, the smallest number of hours Python's `close_bin`
    puts in bin k or later: width_bucket over these gives exactly its bin (it is monotonic)."""

    def as_float(bits: int) -> float:
        return struct.unpack("<d", struct.pack("<q", bits))[0]

    def as_bits(value: float) -> int:
        return struct.unpack("<q", struct.pack("<d", value))[0]

    bin_of = rollups.close_bin_of_hours
    edges = [1.0]
    for k in range(2, rollups.LAST_BIN + 1):
        low, high = as_bits(edges[-1]), as_bits(2.0 ** (k / rollups.BINS_PER_DOUBLING))
        while bin_of(as_float(high)) < k:  # a guess just under the edge: widen
            high = as_bits(as_float(high) * 2)
        while low + 1 < high:  # positive floats order as their bits do
            middle = (low + high) // 2
            if bin_of(as_float(middle)) >= k:
                high = middle
            else:
                low = middle
        edges.append(as_float(high))
    return edges


# Where the issues to count are read from: a batch's rows by id, or a run's pending states,
# taken out (TAKE_PENDING) by the statement that counts them.
BY_IDS = "issues_issue i WHERE i.id = ANY(%(ids)s::bigint[]) AND NOT i.is_hidden"
PENDING = PendingCount._meta.db_table
# The columns _SOURCE reads, which are all the pending table keeps (as issue_id, not id).
_READ = (
    "id, ward_id, service_type_id, status, is_hidden, requested_at, expected_at, closed_at,"
    " latitude, longitude, resolution"
)
_KEPT = "issue_id" + _READ.removeprefix("id")
_TAKEN = _KEPT.replace("issue_id", "issue_id AS id", 1)
# One run's (count_run), or every run's (count_pending). Our own names only.
TAKE_PENDING = f"gone AS (DELETE FROM {PENDING} WHERE run_id = %(run)s RETURNING {_TAKEN}), "  # noqa: S608
TAKE_ALL_PENDING = f"gone AS (DELETE FROM {PENDING} RETURNING {_TAKEN}), "  # noqa: S608
PENDING_SOURCE = "gone i WHERE NOT i.is_hidden"
# A live import's lease on its run (LaterCount): renewed only while uncounted, its row then
# locked until the renewing transaction ends. The time it is renewed, not its transaction's
# start: a batch's transaction has been writing its issues for seconds by then.
RENEW = (
    "UPDATE issues_importrun SET alive_at = clock_timestamp() WHERE id = %s"
    " AND counted_at IS NULL RETURNING id"
)

# The public issues and what Delta.add derives from each: read once per statement.
_SOURCE = """
WITH {before}s AS (
    SELECT i.id, COALESCE(i.ward_id, 0) AS ward_key, i.service_type_id AS type_id, i.status,
           i.expected_at, i.closed_at, i.latitude, i.longitude,
           (i.requested_at AT TIME ZONE %(tz)s)::date AS requested_day,
           i.status = ANY(%(open)s::text[]) AS is_open,
           CASE WHEN i.status = ANY(%(open)s::text[]) AND i.expected_at IS NOT NULL
                THEN (i.expected_at AT TIME ZONE %(tz)s)::date END AS due_day,
           CASE WHEN i.status = ANY(%(closed)s::text[]) AND i.closed_at IS NOT NULL
                THEN (i.closed_at AT TIME ZONE %(tz)s)::date END AS closed_day,
           i.resolution <> ALL(%(not_fixed)s::text[]) AS fixed,
           -- (closed - requested).total_seconds() / 86400.0: exact seconds, then one division
           (extract(epoch FROM i.closed_at) - extract(epoch FROM i.requested_at))::float8
               / 86400.0::float8 AS duration
    FROM {source}
), t AS (  -- `for type_key in (type_id, ALL_TYPES)`
    SELECT s.*, k.type_key FROM s CROSS JOIN LATERAL (VALUES (s.type_id), (0)) AS k(type_key)
)
"""


def _upsert(table: str, keys: Sequence[str], values: Sequence[str], select: str) -> str:
    names = ", ".join((*keys, *values))
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in values)
    order = ", ".join(keys)
    # Table and column names are our models' own; every value is a parameter.
    parts = ["INSERT INTO", table, f"({names})", "SELECT * FROM", f"({select})"]
    parts += ["AS g", f"({names})", "ORDER BY", order, "ON CONFLICT", f"({order})"]
    return " ".join([*parts, "DO UPDATE SET", updates])


@cache
def _statement(source: str = BY_IDS, before: str = "") -> str:
    """One statement: the issues read once (s, t), then one upsert per table, each a
    data-modifying WITH (PostgreSQL runs each exactly once, all on the same snapshot)."""
    upserts = ", ".join(f"u{i} AS ({sql})" for i, sql in enumerate(_upserts()))
    return f"{_SOURCE.format(source=source, before=before)}, {upserts} SELECT 1"


def _upserts() -> list[str]:
    layout = rollups.LAYOUT
    statements = [
        # counts[0] += 1; counts[1] += expected is not None
        _upsert(
            StatusTally._meta.db_table,
            *layout[StatusTally],
            'SELECT ward_key, type_id, status COLLATE "C", count(*), count(expected_at) '
            "FROM s GROUP BY 1, 2, 3",
        ),
        # opened and open_requested on the request day, open_due on the due day, closed (and
        # for fixes with a due time, closed_with_sla and closed_within_sla) on the close day
        _upsert(
            DayTally._meta.db_table,
            *layout[DayTally],
            "SELECT ward_key, type_key, day, sum(opened), sum(closed), sum(with_sla), "
            "sum(within_sla), sum(open_requested), sum(open_due) FROM ("
            " SELECT ward_key, type_key, requested_day AS day, 1 AS opened, 0 AS closed,"
            "  0 AS with_sla, 0 AS within_sla, is_open::int AS open_requested, 0 AS open_due"
            "  FROM t"
            " UNION ALL SELECT ward_key, type_key, due_day, 0, 0, 0, 0, 0, 1 FROM t"
            "  WHERE due_day IS NOT NULL"
            " UNION ALL SELECT ward_key, type_key, closed_day, 0, 1,"
            "  (fixed AND expected_at IS NOT NULL)::int,"
            "  (fixed AND expected_at IS NOT NULL AND closed_at <= expected_at)::int, 0, 0"
            "  FROM t WHERE closed_day IS NOT NULL"
            ") AS d GROUP BY 1, 2, 3",
        ),
        # fixes only: count, sum and sum of squares of the days to close, by close-time bin,
        # per close day and per close week (week_of: its Monday)
        *(
            _upsert(
                model._meta.db_table,
                *layout[model],
                # `period` is one of the two expressions below, never input.
                f"SELECT ward_key, type_key, {period}, bin, count(*), sum(duration),"  # noqa: S608
                " sum(duration * duration) FROM ("
                " SELECT t.*, CASE WHEN duration * 24.0::float8 < 1.0 THEN 0 ELSE"
                "  LEAST(%(last_bin)s, width_bucket(duration * 24.0::float8, %(bin_edges)s::float8[]))"
                "  END AS bin FROM t WHERE closed_day IS NOT NULL AND fixed"
                ") AS c GROUP BY 1, 2, 3, 4",
            )
            for model, period in (
                (CloseHistogram, "closed_day"),
                # the Monday: date minus ISO weekday - 1, whatever the session's time zone
                # (date_trunc('week', a date) goes through timestamptz, in the session's zone)
                (CloseWeekHistogram, "closed_day - (extract(isodow FROM closed_day)::int - 1)"),
            )
        ),
        # the heat grid's square: FLOOR(latitude / step), FLOOR(longitude / step)
        _upsert(
            HeatTally._meta.db_table,
            *layout[HeatTally],
            "SELECT ward_key, requested_day, floor(latitude / %(lat_step)s::float8)::int,"
            " floor(longitude / %(lon_step)s::float8)::int, type_id, count(*) FROM s"
            " WHERE latitude IS NOT NULL AND longitude IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
        ),
    ]
    statuses = ", ".join(
        f"count(*) FILTER (WHERE status = '{name[2:]}')" for name in MapCell.STATUS_COUNTERS
    )
    statements.append(
        # cell_of at every zoom: FLOOR(lon / size), FLOOR(lat / size); sums of points and ids
        _upsert(
            MapCell._meta.db_table,
            *layout[MapCell],
            " ".join(
                [
                    "SELECT z.zoom, floor(latitude / z.size)::int, floor(longitude / z.size)::int,",
                    f"count(*), sum(latitude), sum(longitude), sum(id), {statuses} FROM s",
                    "CROSS JOIN unnest(%(zooms)s::int[], %(sizes)s::float8[]) AS z(zoom, size)",
                    "WHERE latitude IS NOT NULL AND longitude IS NOT NULL GROUP BY 1, 2, 3",
                ]
            ),
        )
    )
    return statements
