"""INSERT statements built without Django's SQL compiler, for the hot write paths (CDA intake).

``bulk_create`` compiles its SQL per row and per field (``as_sql``, ``prepare_value``...): for
the few rows of one document that was a large share of the intake's CPU. The statements here
carry exactly the values ``bulk_create`` sends (``pre_save`` then ``get_db_prep_save``: same
defaults, auto_now/auto_now_add stamps, JSON encoding), the SQL text built once per model.

    insert(model, objects, returning=True)   # now; primary keys set from RETURNING
    batch = Batch(); batch.add(model, objects); batch.flush()   # later, in one round trip

On PostgreSQL a model's rows go as one statement bound on the server: ``VALUES`` for one row,
``INSERT ... SELECT * FROM UNNEST($1::type[], ...)`` (one array per column) for several. Its
text does not depend on the row count, so it is prepared once per connection
(``BAMARA_PREPARE_INSERTS``) and the server no longer parses, analyses and plans every
document's INSERTs (about a third of its CPU per document). A batch goes in one pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models.fields import AutoFieldMixin

# Below SQLite's 32,766 host parameters (since 3.32) and PostgreSQL's 65,535.
MAX_PARAMS = 32_000
_PLANS: dict[type[models.Model], tuple[list[models.Field], str, str]] = {}
_UNNEST: dict[type[models.Model], str] = {}
_READERS: dict[type[models.Model], list[tuple[models.Field, str, tuple[type, ...] | None, bool]]] = {}
# Fields whose get_db_prep_save returns a value of these exact types unchanged (their
# get_prep_value is a no-op for them): the value is sent as it is, without the call chain.
_PLAIN: dict[type[models.Field], tuple[type, ...]] = {
    models.CharField: (str,), models.TextField: (str,), models.EmailField: (str,),
    models.BooleanField: (bool,), models.IntegerField: (int,), models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,), models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,), models.PositiveBigIntegerField: (int,),
    models.ForeignKey: (int,),
}


def _plan(model: type[models.Model]) -> tuple[list[models.Field], str, str]:
    """(fields, "INSERT INTO t (columns) VALUES ", "(%s, ...)") of a model, built once."""
    plan = _PLANS.get(model)
    if plan is None:
        fields = [f for f in model._meta.concrete_fields if not f.generated and not isinstance(f, AutoFieldMixin)]
        quote = connection.ops.quote_name
        head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
        plan = _PLANS[model] = (fields, head, f"({', '.join(['%s'] * len(fields))})")
    return plan


def _unnest(model: type[models.Model]) -> str:
    """"INSERT INTO t (columns) SELECT * FROM UNNEST(%s::type[], ...)" (PostgreSQL), built once.
    Types without their modifiers, as Django's own UNNEST bulk insert (varchar[], not
    varchar(50)[]): the columns' own types check the lengths."""
    sql = _UNNEST.get(model)
    if sql is None:
        fields, head, _ = _plan(model)
        casts = ", ".join(f"%s::{f.db_type(connection).split('(')[0]}[]" for f in fields)
        sql = _UNNEST[model] = head.removesuffix(" VALUES ") + f" SELECT * FROM UNNEST({casts})"
    return sql


def _pg_statement(model: type[models.Model], head: str, row: str, rows: list[list[Any]]) -> tuple[str, list[Any]]:
    """One row: VALUES (scalars dump faster than one-element arrays); more: UNNEST."""
    if len(rows) == 1:
        return head + row, rows[0]
    return _unnest(model), [list(column) for column in zip(*rows, strict=True)]


def _server_cursor() -> Any:
    """A psycopg cursor binding parameters on the server (Django's cursors bind on the client),
    its errors turned into Django's (IntegrityError...) as Django's own cursors do."""
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    return psycopg.Cursor(connection.connection)


def _logged(sql: str, started: float) -> None:
    """Kept in connection.queries when Django logs queries (DEBUG, CaptureQueriesContext)."""
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def _readers(model: type[models.Model], fields: list[models.Field]) -> list[tuple[models.Field, str, tuple[type, ...] | None, bool]]:
    """(field, attname, types sent as they are, whether pre_save must run) per field."""
    readers = _READERS.get(model)
    if readers is None:
        readers = _READERS[model] = [
            (f, f.attname,
             None if type(f) is models.ForeignKey and not isinstance(f.target_field, AutoFieldMixin) else _PLAIN.get(type(f)),
             type(f).pre_save is not models.Field.pre_save)
            for f in fields]
    return readers


def _values(model: type[models.Model], fields: list[models.Field], objects: list[models.Model]) -> list[list[Any]]:
    """What bulk_create sends: f.get_db_prep_save(f.pre_save(obj, True)) for every field."""
    readers = _readers(model, fields)
    rows = []
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # as bulk_create
        values = []
        for f, attname, plain, custom in readers:
            value = f.pre_save(obj, True) if custom else getattr(obj, attname)
            if plain is None or (value is not None and type(value) not in plain):  # None of a JSONField is JSON null
                value = f.get_db_prep_save(value, connection)
            values.append(value)
        rows.append(values)
    return rows


def statements(model: type[models.Model], objects: list[models.Model]) -> list[tuple[str, list[Any]]]:
    """Multi-row INSERTs (sql, params) of ``objects``, at most MAX_PARAMS parameters each."""
    if not objects:
        return []
    fields, head, row = _plan(model)
    rows = _values(model, fields, objects)
    if connection.vendor == "postgresql":
        return [_pg_statement(model, head, row, rows)]
    size = max(1, MAX_PARAMS // max(1, len(fields)))
    return [(head + ", ".join([row] * len(rows[start:start + size])),
             [value for values in rows[start:start + size] for value in values])
            for start in range(0, len(rows), size)]


def insert(model: type[models.Model], objects: list[models.Model], *, returning: bool = False) -> None:
    """Insert ``objects`` now; ``returning``: set their primary keys (RETURNING, in insertion
    order as ``bulk_create`` itself relies on)."""
    if not objects:
        return
    if returning and not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objects)
        return
    fields, head, row = _plan(model)
    rows = _values(model, fields, objects)
    pk = connection.ops.quote_name(model._meta.pk.column)
    if connection.vendor == "postgresql":
        sql, params = _pg_statement(model, head, row, rows)
        keys = _on_server([(f"{sql} RETURNING {pk}" if returning else sql, params)], returning)
        _saved(objects, objects if returning else [], keys)
        return
    size = max(1, MAX_PARAMS // max(1, len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(objects), size):
            chunk = rows[start:start + size]
            sql = head + ", ".join([row] * len(chunk))
            cursor.execute(f"{sql} RETURNING {pk}" if returning else sql,
                           [value for values in chunk for value in values])
            if returning:
                for obj, (value,) in zip(objects[start:start + size], cursor.fetchall(), strict=True):
                    obj.pk = value
    _saved(objects)


def _saved(objects: list[models.Model], keyed: Sequence[models.Model] = (), keys: Sequence[tuple] = ()) -> None:
    """The objects as saved, ``keyed`` ones given their primary keys ``keys`` (RETURNING)."""
    for obj, (value,) in zip(keyed, keys, strict=True):
        obj.pk = value
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


def _on_server(pending: list[tuple[str, list[Any]]], returning: bool) -> list[tuple]:
    """The statements bound on the server, prepared unless BAMARA_PREPARE_INSERTS is off,
    several in one psycopg pipeline (one round trip); the first one's rows when ``returning``."""
    started = time.monotonic()
    prepare = settings.BAMARA_PREPARE_INSERTS or None  # None: the connection's threshold
    with connection.wrap_database_errors:
        cursors = [_server_cursor() for _ in pending]
        with connection.connection.pipeline() if len(pending) > 1 else nullcontext():
            for cursor, (sql, params) in zip(cursors, pending, strict=True):
                cursor.execute(sql, params, prepare=prepare)
        keys = cursors[0].fetchall() if returning else []
        for cursor in cursors:
            cursor.close()
    for sql, _ in pending:
        _logged(sql, started)
    return keys


class Batch:
    """Statements kept to be sent together at the end of a unit of work: on PostgreSQL in one
    round trip (a psycopg pipeline), elsewhere one after the other. Only for rows nothing reads
    back before ``flush``. One ``returning`` add (its rows' primary keys wanted) is allowed: its
    statement goes first, the only one whose result the driver then hands back."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, list[Any]]] = []
        self.objects: list[models.Model] = []
        self.returning: list[models.Model] = []
        self._returning_sql: tuple[str, list[Any]] | None = None

    def add(self, model: type[models.Model], objects: list[models.Model], *, returning: bool = False) -> None:
        if not returning:
            self.pending += statements(model, objects)
            self.objects += objects
            return
        if self.returning:
            raise ValueError("one returning add per batch")
        found = statements(model, objects)
        if len(found) != 1 or not connection.features.can_return_rows_from_bulk_insert:
            insert(model, objects, returning=True)  # too many rows for one statement: now
            return
        sql, params = found[0]
        self._returning_sql = (f"{sql} RETURNING {connection.ops.quote_name(model._meta.pk.column)}", params)
        self.returning = list(objects)

    def flush(self) -> None:
        pending, objects, returning = self.pending, self.objects, self.returning
        if self._returning_sql is not None:
            pending = [self._returning_sql, *pending]
        self.pending, self.objects, self.returning, self._returning_sql = [], [], [], None
        if not pending:
            return
        if connection.vendor == "postgresql":
            keys = _on_server(pending, bool(returning))
        else:
            with connection.cursor() as cursor:
                keys = []
                for index, (sql, params) in enumerate(pending):
                    cursor.execute(sql, params)
                    if index == 0 and returning:
                        keys = cursor.fetchall()
        _saved([*returning, *objects], returning, keys)
