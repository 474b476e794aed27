"""The dashboards' figures kept in PostgreSQL per data version, so a cold request reads a few
rows instead of recounting: the league (nine grouped queries and 15-18 ms of CPU at any size),
each ward's dashboard and each type's trend across the city (20-60 ms at 1M issues, the type's
growing with the data).

A second-level rollup: numbers only (`LeagueSnapshot`, one row per ward, the issues in no ward
and the city), computed from the rollup at one data version on one city day:

- the data version is the sum of `RollupChange.weight`, a row a trigger adds in the transaction
  of every statement that writes a table the league reads (migration 0034), so it moves when
  such a write commits, whoever wrote it, and lives in the database: flushing Redis loses
  neither the figures nor their version;
- a request reads the rows in the same statement as the version, and uses them only when they
  were computed at the current version on today's date; otherwise it computes the league itself,
  as before, and stores it for the next one. Figures are never older than the rollup's committed
  rows (the page cache may be a minute late; this never is);
- the issues due earlier today (the one part that moves with the minute) are read with each
  request (`league.add_overdue_today`);
- the worker refreshes it every minute (`issues.tasks.refresh_league`), so the first visitor
  after a write seldom pays; a worker that is down costs a cold request its old time, nothing
  else. `rebuild_rollups` recounts it after the rollup.

One mechanism, two shapes of row. The league is a table of its own (`LeagueSnapshot`, typed
columns, one row per ward, replaced together). A ward's dashboard, a type's trend and the index
of types are one `FigureSnapshot` row each (`kind`, `key`: numbers as JSON, no names or labels, which the reader's
language puts back), read with the version in one statement (`current_figures`) and stored by
the request that had to compute them (`store_figures`), under the same rule: used only at the
version and on the day they were computed at, never replacing a later computation. What moves
with the minute (the ward's issues due earlier today) and the lists of issues and alerts are read
with each request, as for the league.

The worker, every minute: the league, always (one computation, and it folds the version's rows),
then the wards, the types and the index of types that a request computed within the last day
(`WANTED_FOR`) and that are stale now (`wanted_keys`). At city scale (50 wards, about 100 types) a write every minute would
cost the worker all 150 computations a minute (6-8 s at 1M issues) for pages most of which nobody
opens; refreshing what was read keeps the pages people open warm and lets the rest wait for
their first reader, who pays the computation once per data version. The worker's own store does
not renew `wanted_at`, and a request that finds its row current does not either (no write on
the read path): a page drops out of the refresh a day after a request last had to compute it,
however often it is read since, and its next reader after a write pays once.

Elsewhere than PostgreSQL (SQLite in development) nothing is stored: every request computes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Q

from departments.models import ServiceType, Ward
from issues.dashboards import compare
from issues.dashboards.clock import Clock
from issues.dashboards.compare import LeagueContext, Previous
from issues.dashboards.league import SUMMED_FIGURES, WardFigures, add_overdue_today
from issues.dashboards.rollups import NO_WARD
from issues.models import FigureSnapshot, LeagueSnapshot, RollupChange

CITY = -1
# pg_advisory_xact_lock's key for storing: one writer at a time, the others skip.
STORE_LOCK = 0x1EA6E
CURRENT = (*SUMMED_FIGURES, "median_days")
PREVIOUS = ("open", "opened_recent", "median_days", "closed_with_sla", "closed_within_sla")
COLUMNS = ("ward_key", *CURRENT, *(f"prev_{name}" for name in PREVIOUS))
_VERSION_AS = f"SELECT COALESCE(SUM(weight), 0) AS version FROM {RollupChange._meta.db_table}"  # noqa: S608


# FigureSnapshot's kinds.
WARD = "ward"
TYPE = "type"
# The index of types (every type's last four weeks against the four before): one row, key 0.
TYPES = "types"
TYPES_KEY = 0
# A ward or type a request computed within this long is refreshed by the worker when stale.
WANTED_FOR = timedelta(days=1)


def is_stored() -> bool:
    """Whether figures are stored here (PostgreSQL), or every request computes (SQLite)."""
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


def _reading():
    """Where this request's rollup reads go (a replica for a public read, config/dbrouting.py):
    the version is read there too, so figures computed from a lagging replica are stored under
    the replica's version, never under the primary's newer one."""
    return connections[router.db_for_read(LeagueSnapshot)]


def data_version() -> int:
    """The league's data version (see the module docstring)."""
    with _reading().cursor() as cursor:
        cursor.execute(_VERSION_AS)
        return int(cursor.fetchone()[0])


def league_context() -> LeagueContext:
    """The league as of now: the stored figures when they are current, else computed (and
    stored for the next request)."""
    clock = Clock.at()
    if not is_stored():
        return _compute_league(clock)
    # The version is read before the rollup is: a write committing meanwhile makes it stale.
    version, ctx = _load(clock.today)
    if ctx is None:
        ctx = _compute_league(clock, overdue_today=False)
        store(version, clock.today, ctx)
    ctx.due_today, ctx.clock = add_overdue_today(ctx.rows, ctx.city, clock), clock
    return ctx


def refresh() -> bool:
    """Compute and store the league unless the stored one is current (the worker, every
    minute, and `rebuild_rollups`). True when it computed."""
    if not is_stored():
        return False
    clock = Clock.at()
    version, ctx = _load(clock.today)
    if ctx is not None:
        return False
    store(version, clock.today, _compute_league(clock, overdue_today=False))
    return True


def _compute_league(clock: Clock, *, overdue_today: bool = True) -> LeagueContext:
    # Under the clock whose day is stored with it.
    return compare.league_context(now=clock.now, overdue_today=overdue_today)


def store(version: int, day: date, ctx: LeagueContext) -> None:
    """Replace the stored league by `ctx` (computed at `version` on `day`, overdue without the
    issues due earlier today), unless another request is storing now or stored a later one; and
    fold the version's rows into one of the same weight, so reading it stays a few rows' sum.
    Two statements: a cold request that computes pays little more for storing."""
    rows = [(r.ward_id, r, ctx.previous.get(r.ward_id, Previous(open=0))) for r in ctx.rows]
    known = {r.ward_id for r in ctx.rows}
    rows += [
        (key, WardFigures(key, 0, "", ""), p) for key, p in ctx.previous.items() if key not in known
    ]
    rows.append((CITY, ctx.city, ctx.city_previous))
    values = [
        (key, version, day, *(getattr(now, n) for n in CURRENT), *(getattr(p, n) for n in PREVIOUS))
        for key, now, p in rows
    ]
    names = ("ward_key", "version", "day", *COLUMNS[1:])
    primary = connections[DEFAULT_DB_ALIAS]
    table, log = LeagueSnapshot._meta.db_table, RollupChange._meta.db_table
    arrays = ", ".join(f"%s::{LeagueSnapshot._meta.get_field(n).db_type(primary)}[]" for n in names)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names[1:])
    # Written to the primary by name: through the router a public read would count as a write
    # and pin the reader's browser to the primary.
    with transaction.atomic(using=DEFAULT_DB_ALIAS), primary.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_try_advisory_xact_lock(%s), (SELECT (day, version) >= (%s, %s)"  # noqa: S608
            f" FROM {table} WHERE ward_key = %s)",
            [STORE_LOCK, day, version, CITY],
        )
        locked, newer = cursor.fetchone()
        if not locked or newer:
            return  # another is storing, or stored a later one: it serves the figures
        # Names are our own model's columns; every value is a parameter.
        cursor.execute(
            f"WITH kept AS (INSERT INTO {table} ({', '.join(names)})"  # noqa: S608
            f" SELECT * FROM unnest({arrays}) ON CONFLICT (ward_key) DO UPDATE SET {updates}),"
            f" dropped AS (DELETE FROM {table} WHERE NOT (ward_key = ANY(%s))),"
            f" gone AS (DELETE FROM {log} RETURNING weight)"
            f" INSERT INTO {log} (weight) SELECT SUM(weight) FROM gone HAVING COUNT(*) > 1",
            [list(column) for column in zip(*values, strict=True)] + [[v[0] for v in values]],
        )


def _load(day: date) -> tuple[int, LeagueContext | None]:
    """The data version, and the stored league if it was computed at that version today."""
    table, ward = LeagueSnapshot._meta.db_table, Ward._meta.db_table
    with _reading().cursor() as cursor:
        # One statement, one snapshot: the version, the rows computed at it and the wards that
        # name them (each ward with its row or none, each row with its ward or none: the city
        # and the issues in no ward have none). The wards as values, in the same round trip:
        # fifty deferred Ward models were ~0.5 ms of every cold page that shows the league
        # (the ward page, the league, the report, the comparison), a query of their own ~0.3.
        cursor.execute(
            f"WITH v AS ({_VERSION_AS}),"  # noqa: S608 (our own model's names)
            f" s AS (SELECT {', '.join(COLUMNS)} FROM {table}, v"
            f" WHERE {table}.version = v.version AND {table}.day = %s)"
            f" SELECT v.version, {', '.join(f's.{c}' for c in COLUMNS)},"
            f" w.id, w.number, w.name, w.slug FROM v LEFT JOIN"
            f" (s FULL JOIN {ward} w ON w.id = s.ward_key) ON TRUE ORDER BY w.number",
            [day],
        )
        found = cursor.fetchall()
    version = int(found[0][0])
    stored = {row[1]: row[2 : 1 + len(COLUMNS)] for row in found if row[1] is not None}
    if CITY not in stored:
        return version, None
    wards = [row[-4:] for row in found if row[-4] is not None]
    previous = {
        key: Previous(**dict(zip(PREVIOUS, values[len(CURRENT) :], strict=True)))
        for key, values in stored.items()
        if key not in (CITY, NO_WARD)
    }
    return version, LeagueContext(
        rows=[_figures(stored, pk, number, name, slug) for pk, number, name, slug in wards],
        city=_figures(stored, CITY, 0, "", ""),
        previous=previous,
        city_previous=Previous(**dict(zip(PREVIOUS, stored[CITY][len(CURRENT) :], strict=True))),
    )


def _figures(found: dict, key: int, number: int, name: str, slug: str) -> WardFigures:
    row = WardFigures(ward_id=0 if key == CITY else key, number=number, name=name, slug=slug)
    values = found.get(key)
    if values is not None:
        for attr, value in zip(CURRENT, values, strict=False):
            setattr(row, attr, value)
    return row


def current_figures(kind: str, key: int, day: date) -> tuple[int, dict | None]:
    """The data version, and `kind` `key`'s stored figures if they were computed at that
    version on `day` (else None): one statement, one snapshot, where this request's reads go."""
    with _reading().cursor() as cursor:
        # ::text: the JSON is read as written (Django's psycopg setup would hand jsonb over as
        # text anyway); the names are our own model's.
        cursor.execute(
            f"SELECT v.version, s.figures::text FROM ({_VERSION_AS}) v"  # noqa: S608
            f" LEFT JOIN {FigureSnapshot._meta.db_table} s ON s.kind = %s AND s.key = %s"
            f" AND s.version = v.version AND s.day = %s",
            [kind, key, day],
        )
        version, figures = cursor.fetchone()
    return int(version), (json.loads(figures) if figures is not None else None)


def store_figures(
    kind: str, key: int, version: int, day: date, figures: dict, *, wanted: bool
) -> None:
    """Keep `figures` (computed at `version` on `day`) for `kind` `key`, unless a later
    computation is kept already. `wanted`: a request computed them (the worker's refresh
    follows those, `wanted_keys`); the worker's own stores pass False and leave the mark as it
    was. One statement on the primary, by name (see `store`)."""
    table = FigureSnapshot._meta.db_table
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS s (kind, key, version, day, figures, wanted_at)"  # noqa: S608
            f" VALUES (%s, %s, %s, %s, %s::jsonb, CASE WHEN %s THEN now() END)"
            f" ON CONFLICT (kind, key) DO UPDATE SET version = EXCLUDED.version,"
            f" day = EXCLUDED.day, figures = EXCLUDED.figures,"
            f" wanted_at = COALESCE(EXCLUDED.wanted_at, s.wanted_at)"
            f" WHERE (s.day, s.version) < (EXCLUDED.day, EXCLUDED.version)",
            [kind, key, version, day, json.dumps(figures, separators=(",", ":")), wanted],
        )


def wanted_keys(kind: str, day: date) -> tuple[int, list[int]]:
    """The data version, and the keys of `kind` a request computed within `WANTED_FOR` whose
    stored figures are not at that version on `day` (the worker computes them again)."""
    table = FigureSnapshot._meta.db_table
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT v.version, s.key FROM ({_VERSION_AS}) v LEFT JOIN {table} s"  # noqa: S608
            f" ON s.kind = %s AND s.wanted_at >= now() - %s"
            f" AND (s.version, s.day) IS DISTINCT FROM (v.version, %s::date)"
            f" ORDER BY s.key",
            [kind, WANTED_FOR, day],
        )
        found = cursor.fetchall()
    return int(found[0][0]), [key for _, key in found if key is not None]


def figures_at(kind: str, key: int, clock: Clock, count: Callable[[], dict]) -> dict:
    """`kind` `key`'s figures as stored at the current data version on `clock`'s day, else
    `count()`ed and stored for the next request (marked wanted: the worker keeps it fresh)."""
    # The version is read before the rollup is: a write committing meanwhile makes it stale.
    version, figures = current_figures(kind, key, clock.today)
    if figures is None:
        figures = count()
        store_figures(kind, key, version, clock.today, figures, wanted=True)
    return figures


def refresh_wanted(
    kind: str, count: Callable[[list[int], Clock], Iterator[tuple[int, dict]]]
) -> int:
    """Count again and store the figures of `kind` that requests read lately and are stale now
    (the worker, every minute). `count(keys, clock)` yields each key's figures. How many."""
    if not is_stored():
        return 0
    clock = Clock.at()
    version, keys = wanted_keys(kind, clock.today)
    if not keys:
        return 0
    done = 0
    for key, figures in count(keys, clock):
        store_figures(kind, key, version, clock.today, figures, wanted=False)
        done += 1
    return done


def forget_deleted() -> int:
    """Drop the stored figures of wards and types deleted since (the worker, every minute,
    before it refreshes): nothing reads them again, and nothing else removes them. A few rows at
    most (one per ward and type), so one cheap statement. How many."""
    if not is_stored():
        return 0
    gone = FigureSnapshot.objects.filter(
        Q(kind=WARD) & ~Q(key__in=Ward.objects.values("pk"))
        | Q(kind=TYPE) & ~Q(key__in=ServiceType.objects.values("pk"))
    )
    return gone.delete()[0]
