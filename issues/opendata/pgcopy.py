"""The downloads on PostgreSQL: every cell formatted by the database and the rows sent by COPY.

On main each of a million rows went through Python (a tuple from the cursor, a converter per
cell, timestamps formatted by datetime.isoformat, csv.writer), about 110 µs a row. Here the
export's own queryset (the same filters, the same public rows, the same order) selects each
column already formatted as the Python path prints it, and `COPY (<that query>) TO STDOUT`
streams the result: Python only passes blocks of bytes on.

What makes the bytes the same as the Python path's (tests/opendata/test_pgcopy.py builds both):
- timestamps: to_char(..., 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') under the city's time zone, set
  with set_config(..., true) (SET LOCAL: PgBouncer's transaction pooling keeps no session state),
  is datetime.astimezone(tz).isoformat(timespec="seconds"): both truncate the fraction;
- floats: PostgreSQL's shortest round-trip text (extra_float_digits 1, set the same way) is
  Python's repr, except that an integral value prints "42" where Python prints "42.0";
- empty strings are NULLs (empty cells, JSON null), as the Python path's converters make them;
- CSV: COPY's csv format quotes exactly what csv.writer's QUOTE_MINIMAL quotes (a delimiter, a
  quote, CR or LF; never an empty cell once empty strings are NULL), but ends rows with LF,
  which `_crlf` makes CRLF outside quoted cells;
- GeoJSON: each feature is built as text with json.dumps's separators (", " and ": ") and
  to_json() for strings (the same escapes as json.dumps(ensure_ascii=False)); COPY's text
  format doubles backslashes (JSON text has no other character it escapes), undone here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    Case,
    Expression,
    F,
    FloatField,
    Func,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Left, NullIf
from django.db.models.lookups import Exact, In
from django.utils import timezone

# A live download (up to EXPORT_LIVE_ROWS rows) is spooled in memory; a full build on disk.
SPOOL_BYTES = 8 * 1024 * 1024
ISO_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'
TEXT = TextField()


def usable(queryset: QuerySet) -> bool:
    """True where the rows live in PostgreSQL (the embedded SQLite keeps the Python path)."""
    return connections[queryset.db].vendor == "postgresql"


class _Joined(Func):
    """Text parts joined with ||; every part must be non-NULL (|| with NULL is NULL)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


def _field(model, path: str):
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _float_text(source: str) -> Expression:
    # |latitude| <= 90 and |longitude| <= 180 (check constraints): never an exponent on the
    # integral side, so appending ".0" is all Python's repr does differently.
    text = Cast(F(source), TextField())
    integral = Exact(F(source), Func(F(source), function="trunc"))
    return Case(When(integral, then=Concat(text, Value(".0"))), default=text, output_field=TEXT)


def _value(model, column, open_statuses: Sequence[str]) -> Expression:
    """The column as the Python path's converters make it (exports._converters), as SQL."""
    if column.kind == "datetime":
        return Func(F(column.source), Value(ISO_SECONDS), function="to_char", output_field=TEXT)
    if column.kind == "status":
        open_ = When(In(F(column.source), list(open_statuses)), then=Value("open"))
        return Case(open_, default=Value("closed"), output_field=TEXT)
    field = _field(model, column.source)
    if isinstance(field, FloatField):
        return _float_text(column.source)
    if field.get_internal_type() in ("CharField", "TextField"):
        return NullIf(F(column.source), Value(""), output_field=TEXT)
    return F(column.source)


def _defused(value: Expression, formula_starts: Sequence[str]) -> Expression:
    """csv's `_cell`: a free-text cell starting like a formula gets a leading apostrophe."""
    formula = In(Left(value, 1), list(formula_starts))
    return Case(When(formula, then=Concat(Value("'"), value)), default=value, output_field=TEXT)


def csv_rows(
    queryset: QuerySet,
    columns: Sequence,
    open_statuses: Sequence[str],
    formula_starts: Sequence[str],
) -> Iterator[bytes]:
    """The CSV's rows (no BOM, no header), CRLF-terminated as csv.writer writes them."""
    cells = []
    for column in columns:
        value = _value(queryset.model, column, open_statuses)
        cells.append(_defused(value, formula_starts) if column.kind == "free_text" else value)
    return _crlf(_copy(queryset.values_list(*cells), "csv"))


def _json(value: Expression, kind: str) -> Expression:
    if kind == "text":
        value = Cast(Func(value, function="to_json"), TextField())
    elif kind == "datetime":  # digits, dashes, colons, T, a sign: nothing JSON escapes
        value = _Joined(Value('"'), value, Value('"'))  # NULL stays NULL: null
    else:
        value = Cast(value, TextField())
    return Coalesce(value, Value("null"), output_field=TEXT)


def geojson_features(
    queryset: QuerySet,
    columns: Sequence,
    open_statuses: Sequence[str],
    url_parts: tuple[str, str],
) -> Iterator[bytes]:
    """The features, comma-separated, as exports' json.dumps(feature, ensure_ascii=False)."""
    model = queryset.model
    values = {}
    for column in columns:
        kind = column.kind if column.kind in ("datetime", "number") else "text"
        values[column.name] = _json(_value(model, column, open_statuses), kind)
    ident = values[columns[0].name]
    lat, lon = (_float_text(s) for s in ("latitude", "longitude"))
    point = _Joined(Value('{"type": "Point", "coordinates": ['), lon, Value(", "), lat, Value("]}"))
    geometry = Case(
        When(latitude__isnull=True, then=Value("null")), default=point, output_field=TEXT
    )
    url = Concat(Value(url_parts[0]), F(columns[0].source), Value(url_parts[1]), output_field=TEXT)
    parts: list[Expression] = [Value('{"type": "Feature", "id": '), ident]
    parts += [Value(', "geometry": '), geometry, Value(', "properties": {')]
    for i, (name, value) in enumerate(values.items()):
        parts += [Value(f'{", " if i else ""}"{name}": '), value]
    parts += [Value(', "url": '), Cast(Func(url, function="to_json"), TextField()), Value("}}")]
    return _separated(_copy(queryset.values_list(_Joined(*parts)), "text"))


def _copy(queryset: QuerySet, form: str) -> Iterator[bytes]:
    """COPY (the queryset's SQL) TO STDOUT, in one transaction on the queryset's database (the
    replica for a public read), then its rows (each ending with LF) as bytes.

    The rows are read to the end into a spool before the first is sent: a download goes at the
    client's pace, and a transaction (a pooled server connection behind PgBouncer, a snapshot on
    the replica) must not wait on a phone. The spool stays in memory up to SPOOL_BYTES (a live
    download's few megabytes), on disk beyond (a worker's full build)."""
    alias = queryset.db
    try:
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            try:
                # Local to this transaction (PgBouncer's transaction pooling keeps no session
                # state).
                cursor.execute(
                    "SELECT set_config('TimeZone', %s, true), "
                    "set_config('extra_float_digits', '1', true)",
                    [timezone.get_current_timezone_name()],
                )
                statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT {form})"
                # Logged like any query where queries are (DEBUG, assertNumQueries): Django's
                # cursor has no copy(), so psycopg's own is used, which binds a COPY's
                # parameters on the client (COPY takes no server parameters).
                logged = getattr(cursor, "debug_sql", None)
                with (
                    logged(statement, params) if logged else nullcontext(),
                    cursor.cursor.copy(statement, params) as copy,
                ):
                    for block in copy:
                        spool.write(block)
            finally:
                # Rolled back, not committed (it wrote nothing): inside a caller's transaction
                # this is a savepoint, and only rolling one back undoes the settings. Left in
                # place, the time zone would make Django read every later timestamp of that
                # transaction wrong (it takes the session's times as UTC).
                transaction.set_rollback(True, using=alias)
        spool.seek(0)
        # Line by line: _crlf and _separated take each block to end where a row does.
        yield from spool


def _crlf(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """COPY ends rows with LF, csv.writer with CRLF. An LF outside quotes ends a row; inside a
    quoted cell it is the cell's own and stays. Quotes toggle "inside" ("" toggles twice)."""
    inside = False
    for block in blocks:
        block = bytes(block)
        if b'"' not in block:
            yield block if inside else block.replace(b"\n", b"\r\n")
            continue
        parts = block.split(b'"')
        for i, part in enumerate(parts):
            if not inside:
                parts[i] = part.replace(b"\n", b"\r\n")
            inside = not inside
        inside = not inside  # n parts are separated by n - 1 quotes
        yield b'"'.join(parts)


def _separated(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """COPY's text rows (LF-terminated, backslashes doubled) as features joined by commas. The
    JSON has every control character escaped, so an LF only ever ends a row."""
    first = True
    for block in blocks:
        text = bytes(block).replace(b"\\\\", b"\\").removesuffix(b"\n").replace(b"\n", b",")
        yield text if first else b"," + text
        first = False
