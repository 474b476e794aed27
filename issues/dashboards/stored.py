"""The league's figures kept in PostgreSQL per data version, so a cold request reads one small
table instead of recounting the league (nine grouped queries and 15-18 ms of CPU at any size).

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

Elsewhere than PostgreSQL (SQLite in development) nothing is stored: every request computes.
"""

from __future__ import annotations

from datetime import date

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from departments.models import Ward
from issues.dashboards import compare
from issues.dashboards.clock import Clock
from issues.dashboards.compare import LeagueContext, Previous
from issues.dashboards.league import SUMMED_FIGURES, WardFigures, add_overdue_today
from issues.dashboards.rollups import NO_WARD
from issues.models import LeagueSnapshot, RollupChange

CITY = -1
# pg_advisory_xact_lock's key for storing: one writer at a time, the others skip.
STORE_LOCK = 0x1EA6E
CURRENT = (*SUMMED_FIGURES, "median_days")
PREVIOUS = ("open", "opened_recent", "median_days", "closed_with_sla", "closed_within_sla")
COLUMNS = ("ward_key", *CURRENT, *(f"prev_{name}" for name in PREVIOUS))
_VERSION_AS = f"SELECT COALESCE(SUM(weight), 0) AS version FROM {RollupChange._meta.db_table}"  # noqa: S608


def _stored() -> bool:
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
    if not _stored():
        return _compute_league(clock)
    # The version is read before the rollup is: a write committing meanwhile makes it stale.
    version, ctx = _load(clock.today)
    if ctx is None:
        ctx = _compute_league(clock, overdue_today=False)
        store(version, clock.today, ctx)
    add_overdue_today(ctx.rows, ctx.city, clock)
    return ctx


def refresh() -> bool:
    """Compute and store the league unless the stored one is current (the worker, every
    minute, and `rebuild_rollups`). True when it computed."""
    if not _stored():
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
    table = LeagueSnapshot._meta.db_table
    with _reading().cursor() as cursor:
        # One statement, one snapshot: the version and the rows computed at it.
        cursor.execute(
            f"SELECT v.version, {', '.join(f's.{c}' for c in COLUMNS)} FROM ({_VERSION_AS}) v"  # noqa: S608
            f" LEFT JOIN {table} s ON s.version = v.version AND s.day = %s",
            [day],
        )
        found = cursor.fetchall()
    version = int(found[0][0])
    stored = {row[1]: row[2:] for row in found if row[1] is not None}
    if CITY not in stored:
        return version, None
    wards = Ward.objects.only("pk", "number", "name", "slug").order_by("number")
    previous = {
        key: Previous(**dict(zip(PREVIOUS, values[len(CURRENT) :], strict=True)))
        for key, values in stored.items()
        if key not in (CITY, NO_WARD)
    }
    return version, LeagueContext(
        rows=[_figures(stored, w.pk, w.number, w.name, w.slug) for w in wards],
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
