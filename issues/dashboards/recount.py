"""Recounting the dashboards' rollup from the issues (issues/dashboards/rollups.py): after a
restore, a ward file, a type's new SLA, or doubt (`python manage.py rebuild_rollups`).

A recount first counts what imports left waiting (setwise.count_pending), under the import
lock, so it neither misses those issues nor counts them twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.db.models import Q

from departments.geo import cell_sums
from departments.models import Ward
from issues.dashboards import rollups, setwise
from issues.models import Issue, MapCell


def rebuild_for_wards(
    ward_ids: Iterable[int | None], tables: Sequence[type] = rollups.TABLES
) -> None:
    """Recount these wards (None or 0: issues in no ward) from the issues; their rows are
    replaced, other wards' rows are untouched. `tables`: all of them, but for an old migration
    that runs this before the later tables exist."""
    keys = sorted({w or rollups.NO_WARD for w in ward_ids})
    with transaction.atomic():
        _lock_tables(*tables)
        for model in tables:
            model.objects.filter(ward_key__in=keys).delete()
        for key in keys:
            issues = Issue.objects.public().order_by()
            issues = (
                issues.filter(ward__isnull=True)
                if key == rollups.NO_WARD
                else issues.filter(ward=key)
            )
            delta = rollups.Delta(map_cells=False)
            for row in issues.values_list(*rollups.STATE_FIELDS).iterator(chunk_size=rollups.CHUNK):
                delta.add(row, +1)
            delta.write(tables)


def rebuild(tables: Sequence[type] = rollups.TABLES) -> None:
    """Recount everything from the issues (idempotent): every ward, and the issues in none."""
    with transaction.atomic():
        _lock_tables(*tables)
        for model in tables:
            model.objects.all().delete()
        # Issue.ward is a foreign key: every ward an issue names is in Ward.
        rebuild_for_wards([*Ward.objects.values_list("pk", flat=True), rollups.NO_WARD], tables)


def rebuild_map_cells(*, unbuilt_only: bool = False) -> None:
    """Recount the map's cells from the issues (idempotent), one GROUP BY per zoom in the
    database, and mark their sets built: from then on the map reads them (issues.selectors.map).
    `unbuilt_only`: only the sets of zooms (MapCell.ZOOM_SETS) not yet built, as the release
    step does after a deploy adds a set; the others are neither read nor written."""
    with transaction.atomic():
        _lock_tables(MapCell)
        # Read under the lock: a concurrent fill has either finished or not begun.
        built = rollups.built_zoom_sets() if unbuilt_only else set()
        sets = [i for i in range(len(MapCell.ZOOM_SETS)) if i not in built]
        zooms = [zoom for i in sets for zoom in MapCell.ZOOM_SETS[i]]
        # Whatever the writes since the deploy added at these zooms goes: the issues are
        # counted afresh, and the lock keeps the next writes waiting until this commits.
        stale = (
            MapCell.objects.filter(Q(zoom__in=zooms) | Q(zoom=MapCell.BUILT, cell_row__in=sets))
            if unbuilt_only
            else MapCell.objects.all()
        )
        stale.delete()
        located = Issue.objects.public().filter(latitude__isnull=False, longitude__isnull=False)
        statuses = {name: Q(status=name[2:]) for name in MapCell.STATUS_COUNTERS}
        table = connection.ops.quote_name(MapCell._meta.db_table)
        # In cell_sums's order: cx (the column), cy (the row), n, the sums, the counts.
        names = ("zoom", "cell_col", "cell_row", "n", "lat_sum", "lon_sum", "id_sum")
        columns = ", ".join(map(connection.ops.quote_name, (*names, *MapCell.STATUS_COUNTERS)))
        for zoom in zooms:
            # In the database, INSERT ... SELECT: a street zoom has about as many cells as
            # issues (a million rows at 1M), too many to pass through Python.
            query, params = cell_sums(located, zoom, **statuses).query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT %s, cells.* FROM ({query}) cells",  # noqa: S608 (our names, the ORM's SQL)
                    [zoom, *params],
                )
        MapCell.objects.bulk_create(
            MapCell(zoom=MapCell.BUILT, cell_row=i, cell_col=0) for i in sets
        )


def _lock_tables(*models) -> None:
    """While recounting, writers wait at their first upsert (before they commit), so the issues
    read here and the deltas applied after are never counted twice or missed. SQLite has one
    writer at a time anyway."""
    if connection.vendor != "postgresql":
        return
    qn = connection.ops.quote_name
    tables = ", ".join(qn(m._meta.db_table) for m in models or rollups.TABLES)
    with connection.cursor() as cursor:
        # Imports first (before the tables: an import ends by writing to them).
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [rollups.IMPORT_LOCK])
        # Every import's pending states counted now, before the tables are locked: a recount
        # replaces only some tables (or some wards), and states counted later into the rest
        # would count those issues twice in the replaced ones. Rare (an import killed before
        # its count and not yet counted by the worker).
        setwise.count_pending()
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
