"""Bulk writes that work from the model's own field list: COPY on PostgreSQL (psycopg 3), batched
bulk_create / bulk_update elsewhere.

Rows are plain dicts of field attnames; any concrete field a row leaves out gets the model's
default, so a field another engineer adds later (with a default) does not break imports.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection, connections, models

ORM_BATCH = 2000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model, with_id: bool) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if with_id or not f.primary_key]


def _defaults(fields: Sequence[models.Field]) -> dict[str, object]:
    """Constant defaults, computed once; callables (new_public_id, timezone.now) run per row."""
    constant = {}
    for f in fields:
        if f.has_default() and callable(f.default):
            continue
        constant[f.attname] = f.get_default()
    return constant


# Binary COPY is several times faster than text for timestamps and floats; psycopg needs each
# column's type by name for it.
_PG_TYPES = {
    "timestamp with time zone": "timestamptz",
    "double precision": "float8",
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
    "jsonb": "jsonb",
    "date": "date",
    "uuid": "uuid",
}


def _pg_type(field: models.Field) -> str:
    db_type = (field.db_type(connection) or "text").split("(")[0].strip().lower()
    return _PG_TYPES.get(db_type, "text")


def _json_text(value) -> str:
    # Nearly every imported row carries the field's empty default: a constant, where a
    # json.dumps per row cost an import of 100,000 rows about a second.
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    return json.dumps(value)


def _converter(field: models.Field):
    if isinstance(field, models.JSONField):
        from psycopg.types.json import Jsonb

        # One wrapper, already encoded, for the empty object nearly every imported row carries:
        # a wrapper and an encode per row cost the writer ~0.2 s per 100,000 rows.
        empty = Jsonb({}, dumps=lambda _obj: b"{}")

        def convert(value):
            if value is None:
                return None
            return empty if value == {} else Jsonb(value, dumps=_json_text)

        return convert
    return None


def allocate_ids(model, count: int) -> list[int]:
    """Take `count` ids from the table's sequence (PostgreSQL), so related rows can be written in
    the same COPY pass without reading ids back."""
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        # The sequence's name looked up once: inside the generate_series it was looked up per
        # id, which made 5,000 ids cost ~30 ms instead of ~2 (0.6 s per 100,000 imported rows).
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model, rows: Iterable[dict]) -> int:
    """COPY rows into the model's table (PostgreSQL); every row carries its id."""
    return copy_into(model._meta.db_table, _columns(model, with_id=True), rows)


def _complete(fields: Sequence[models.Field], rows: Iterable[dict]) -> Iterator[dict]:
    """Each row with every column: the model's defaults under the row's own values."""
    constant = _defaults(fields)
    per_row = [f for f in fields if f.attname not in constant]  # callable defaults
    for row in rows:
        full = {**constant, **row}
        for f in per_row:
            if f.attname not in row:
                full[f.attname] = f.get_default()
        yield full


def copy_into(table: str, fields: Sequence[models.Field], rows: Iterable[dict]) -> int:
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(table)
    converters = [(i, convert) for i, f in enumerate(fields) if (convert := _converter(f))]
    values_of = operator.itemgetter(*(f.attname for f in fields))
    written = 0
    # The raw psycopg cursor bypasses Django's error translation; restore it so callers can
    # catch IntegrityError as everywhere else.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([_pg_type(f) for f in fields])
            for full in _complete(fields, rows):
                # Every column in one C-level pass.
                values = values_of(full) if len(fields) > 1 else (values_of(full),)
                if converters:
                    values = list(values)
                    for i, convert in converters:
                        values[i] = convert(values[i])
                copy.write_row(values)
                written += 1
    return written


def _insert_many(model, rows: list[dict]) -> int:
    """One prepared INSERT run for every row (executemany): bulk_create builds a model instance
    per row and compiles a statement per 90 rows (SQLite's parameter limit), most of its time."""
    fields = _columns(model, with_id=False)
    q = connection.ops.quote_name
    names = ", ".join(q(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {q(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    # The connection itself, not Django's proxy: the proxy looks it up per attribute, once per
    # value here.
    db = connections[connection.alias]
    params = [
        [f.get_db_prep_save(full[f.attname], db) for f in fields]
        for full in _complete(fields, rows)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)


def insert_rows(model, rows: list[dict]) -> list[int]:
    """Insert rows and return their ids in order."""
    if not rows:
        return []
    if is_postgres():
        ids = allocate_ids(model, len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk
        copy_rows(model, rows)
        return ids
    objects = [model(**row) for row in rows]
    model.objects.bulk_create(objects, batch_size=ORM_BATCH)
    return [obj.pk for obj in objects]


def add_rows(model, rows: list[dict]) -> int:
    """Insert rows whose ids nobody needs back (history rows): on PostgreSQL the table's identity
    numbers them during the COPY, saving a round of nextval() per row."""
    if not rows:
        return 0
    if is_postgres():
        return copy_into(model._meta.db_table, _columns(model, with_id=False), rows)
    return _insert_many(model, rows)


def update_rows(model, rows: list[dict], fields: Sequence[str]) -> int:
    """Update rows (each with its "id") in place: COPY into a temporary table and one UPDATE on
    PostgreSQL; bulk_update elsewhere."""
    if not rows:
        return 0
    if not is_postgres():
        return _update_many(model, rows, fields)
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    cols = [meta.pk, *(by_name[name] for name in fields)]
    q = connection.ops.quote_name
    stage = "_civicfix_update_stage"
    names = ", ".join(q(f.column) for f in cols)
    # Every identifier below comes from model metadata and is quoted; no value is interpolated.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT {names} FROM {q(meta.db_table)} WITH NO DATA"  # noqa: S608
        )
    copy_into(stage, cols, rows)
    assignments = ", ".join(f"{q(f.column)} = s.{q(f.column)}" for f in cols[1:])
    with connection.cursor() as cursor:
        pk = q(meta.pk.column)
        sql = f"UPDATE {q(meta.db_table)} AS t SET {assignments} FROM {stage} AS s "  # noqa: S608
        cursor.execute(sql + f"WHERE t.{pk} = s.{pk}")
        count = cursor.rowcount
        cursor.execute(f"DROP TABLE {stage}")
    return count


def _update_many(model, rows: list[dict], fields: Sequence[str]) -> int:
    """One prepared UPDATE run for every row (executemany): bulk_update's CASE expressions grow
    with the batch and crawl on SQLite."""
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    targets = [by_name[name] for name in fields]
    q = connection.ops.quote_name
    assignments = ", ".join(f"{q(f.column)} = %s" for f in targets)
    sql = f"UPDATE {q(meta.db_table)} SET {assignments} WHERE {q(meta.pk.column)} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(row[f.attname], connection) for f in targets] + [row["id"]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)


def defer_reference_checks(references: dict[type, Iterable[int]]) -> bool:
    """Inside a transaction on PostgreSQL: lock the rows a bulk load points at (FOR KEY SHARE,
    as the foreign-key triggers would) once per row instead of once per inserted row, and switch
    the per-row trigger checks off for this transaction where the role may (superusers only).

    The ids come from rows this process just read, and the lock stops anyone deleting them until
    commit, so the checks would only repeat what is already known. Returns whether they were
    switched off; without the privilege the load is simply slower.
    """
    if not is_postgres():
        return False
    with connection.cursor() as cursor:
        for model, ids in references.items():
            wanted = sorted({pk for pk in ids if pk is not None})
            if wanted:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(
                    f"SELECT 1 FROM {table} WHERE id = ANY(%s) FOR KEY SHARE",  # noqa: S608
                    [wanted],
                )
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not (row and row[0]):
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True
