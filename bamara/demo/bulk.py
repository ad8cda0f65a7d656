"""Bulk insertion of the generated rows: COPY on PostgreSQL, executemany on SQLite.

The generator gives each row only the columns it fills (generator.COLUMNS); the remaining
columns get their model default here, as one constant tail per table, computed once from the
model fields. On PostgreSQL a writer thread streams each batch with ``COPY ... FROM STDIN``
while the main thread generates the next one, so Python and the server work at the same time.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction

from bamara.records import models as records

from .generator import COLUMNS

MODELS: dict[str, type[models.Model]] = {
    "patient": records.Patient,
    "pregnancy": records.Pregnancy,
    "foetus": records.Foetus,
    "careepisode": records.CareEpisode,
    "referral": records.Referral,
    "diagnosis": records.Diagnosis,
    "clinicalsign": records.ClinicalSign,
    "investigation": records.Investigation,
    "genetictechnique": records.GeneticTechnique,
    "gene": records.Gene,
    "activity": records.Activity,
    "activityobjective": records.ActivityObjective,
    "activityprofession": records.ActivityProfession,
    "registryconsent": records.RegistryConsent,
}


@dataclass
class Table:
    name: str
    model: type[models.Model]
    generated: tuple[str, ...]  # the columns the generator fills, in its order
    tail_columns: tuple[str, ...]  # the others, with one constant value each
    tail: tuple[Any, ...]
    tail_as_defaults: bool = False  # tail installed as column defaults (DeferredIndexes)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.generated if self.tail_as_defaults else self.generated + self.tail_columns

    @property
    def copy_types(self) -> list[str]:
        """Type of each COPY column for psycopg's dumpers (resolved once, not per value):
        integers and booleans as such, everything else as text parsed by the server."""
        by_column = {f.column: f for f in self.model._meta.concrete_fields}
        return [_copy_type(by_column[c]) for c in self.columns]

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table


@dataclass
class Stats:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent writing each table
    commit_seconds: float = 0.0

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds


def tables(created_at: dt.datetime) -> dict[str, Table]:
    """Column layout of every demo table, with the default of each column not generated."""
    vendor = connection.vendor
    if vendor == "postgresql":
        stamp = created_at.strftime("%Y-%m-%d %H:%M:%S+00")
    else:  # Django keeps naive UTC datetimes in SQLite
        stamp = created_at.strftime("%Y-%m-%d %H:%M:%S")
    result = {}
    for name, model in MODELS.items():
        generated = COLUMNS[name]
        by_column = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in generated if c not in by_column]
        if unknown:
            raise RuntimeError(f"{model.__name__} : colonnes inconnues {unknown}")
        tail_columns, tail = [], []
        for column, model_field in by_column.items():
            if column in generated:
                continue
            tail_columns.append(column)
            tail.append(_default(model_field, stamp))
        result[name] = Table(name, model, generated, tuple(tail_columns), tuple(tail))
    return result


def _copy_type(model_field: models.Field) -> str:
    if isinstance(model_field, models.BooleanField):
        return "bool"
    if isinstance(model_field, models.IntegerField | models.AutoField | models.ForeignKey | models.DecimalField):
        return "int8"  # decimals: the generator writes whole numbers (ages)
    return "text"


def _default(model_field: models.Field, stamp: str) -> Any:
    if model_field.column == "source":
        return records.Source.DEMO.value
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return stamp
    if isinstance(model_field, models.JSONField):
        return "{}"
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    if isinstance(model_field, models.CharField | models.TextField):
        return ""
    raise RuntimeError(f"pas de valeur par défaut pour {model_field.model.__name__}.{model_field.name}")


def first_free_ids() -> dict[str, int]:
    """Next primary key of each table: max(id) + 1, read once before generating."""
    ids = {}
    with connection.cursor() as cursor:
        for name, model in MODELS.items():
            cursor.execute(f'SELECT MAX(id) FROM "{model._meta.db_table}"')
            ids[name] = (cursor.fetchone()[0] or 0) + 1
    return ids


def reset_sequences() -> None:
    """Move the id sequences past the ids allocated by the generator (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(MODELS.values()))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Writer:
    """Writes batches (dict table -> rows); ``close()`` waits for the last one."""

    def __init__(self, layout: dict[str, Table]) -> None:
        self.layout = layout
        self.stats = Stats()

    def write(self, batch: dict[str, list[tuple]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SqliteWriter(Writer):
    def write(self, batch: dict[str, list[tuple]]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for name, rows in batch.items():
                if not rows:
                    continue
                table = self.layout[name]
                started = time.perf_counter()
                marks = ", ".join(["%s"] * len(table.columns))
                columns = ", ".join(f'"{c}"' for c in table.columns)
                tail = table.tail
                cursor.executemany(
                    f'INSERT INTO "{table.db_table}" ({columns}) VALUES ({marks})',
                    [row + tail for row in rows],
                )
                self.stats.add(name, len(rows), time.perf_counter() - started)


class PostgresWriter(Writer):
    """COPY each batch from a writer thread, on the same (raw psycopg) connection.

    Using the one connection keeps the load inside the caller's transaction when there is one
    (tests); otherwise each batch is committed on its own.
    """

    def __init__(self, layout: dict[str, Table], depth: int = 1) -> None:
        super().__init__(layout)
        connection.ensure_connection()
        self.raw = connection.connection
        self.queue: queue.Queue[dict[str, list[tuple]] | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="demo-copy", daemon=True)
        self.thread.start()

    def write(self, batch: dict[str, list[tuple]]) -> None:
        if self.error:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error:
            raise self.error

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error:
                continue  # drain: the main thread will raise
            try:
                self._copy(batch)
            except BaseException as exc:  # handed to the main thread
                self.error = exc

    def _copy(self, batch: dict[str, list[tuple]]) -> None:
        with self.raw.transaction(), self.raw.cursor() as cursor:
            for name, rows in batch.items():
                if not rows:
                    continue
                table = self.layout[name]
                started = time.perf_counter()
                columns = ", ".join(f'"{c}"' for c in table.columns)
                with cursor.copy(f'COPY "{table.db_table}" ({columns}) FROM STDIN') as copy:
                    copy.set_types(table.copy_types)
                    write_row = copy.write_row
                    if table.tail_as_defaults or not table.tail:
                        for row in rows:
                            write_row(row)
                    else:
                        tail = table.tail
                        for row in rows:
                            write_row(row + tail)
                self.stats.add(name, len(rows), time.perf_counter() - started)
            started = time.perf_counter()
        self.stats.commit_seconds += time.perf_counter() - started


def make_writer(layout: dict[str, Table]) -> Writer:
    if connection.vendor == "postgresql":
        return PostgresWriter(layout)
    return SqliteWriter(layout)


# --- PostgreSQL bulk-load mode --------------------------------------------------------------
class DeferredIndexes:
    """PostgreSQL's recipe for populating a database: drop the secondary indexes and foreign
    keys of the demo tables, load, then rebuild them (sorted index builds and one validating
    join per foreign key are far cheaper than millions of per-row updates and checks).

    Must run inside a transaction: if anything fails, the rollback restores the schema as it
    was. Primary keys and unique constraints/indexes stay in place, so duplicates still fail.

    The constant columns that the generator does not fill become column defaults for the
    time of the load (restored after), so they are neither sent nor parsed row by row.
    """

    use_replica_role = True  # superusers: switch the FK triggers off instead of dropping FKs

    def __init__(self, layout: dict[str, Table], progress: Callable[[str], None] | None = None) -> None:
        self.layout = layout
        self.progress = progress or (lambda message: None)
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []
        self.defaults: list[tuple[str, str, str | None]] = []  # table, column, previous default
        self.timings: list[tuple[str, float]] = []  # rebuild time of each index / foreign key

    def __enter__(self) -> DeferredIndexes:
        if not connection.in_atomic_block:
            raise RuntimeError("DeferredIndexes doit être utilisé dans une transaction")
        names = [m._meta.db_table for m in MODELS.values()]
        with connection.cursor() as cursor:
            # Checks still pending in the caller's transaction would forbid ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), t.relname, "
                "a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] "
                "WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary "
                "ORDER BY 1",
                [names],
            )
            # Indexes led by a reference to a generated parent grow in id order (appended at
            # the right edge, cheaply, while Python generates): only the others are rebuilt.
            in_order = _ordered_references()
            self.indexes = [
                (name, definition)
                for name, definition, table, column in cursor.fetchall()
                if (table, column) not in in_order
            ]
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE t.relname = ANY(%s) AND c.contype = 'f' ORDER BY 1, 2",
                [names],
            )
            self.foreign_keys = list(cursor.fetchall())
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.replica = False
            if cursor.fetchone()[0] and self.use_replica_role:
                # A superuser can switch the foreign-key triggers off for this transaction, as
                # pg_restore --disable-triggers does: the generator allocates every id itself,
                # so parents always exist (tests/demo check it); this saves re-validating
                # tens of millions of rows. Other roles drop and re-add the constraints.
                cursor.execute("SET LOCAL session_replication_role = replica")
                self.replica = True
                self.foreign_keys = []
            for table, name, _ in self.foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
            for table in self.layout.values():
                for column, value in zip(table.tail_columns, table.tail, strict=True):
                    cursor.execute(
                        "SELECT column_default FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
                        [table.db_table, column],
                    )
                    self.defaults.append((table.db_table, column, cursor.fetchone()[0]))
                    literal = "NULL" if value is None else _literal(value)
                    cursor.execute(
                        f'ALTER TABLE "{table.db_table}" ALTER COLUMN "{column}" SET DEFAULT {literal}'
                    )
                table.tail_as_defaults = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        for table in self.layout.values():
            table.tail_as_defaults = False
        if exc_type is not None:
            return  # the enclosing transaction rolls the schema back
        with connection.cursor() as cursor:
            for table, column, previous in self.defaults:
                action = f"SET DEFAULT {previous}" if previous is not None else "DROP DEFAULT"
                cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" {action}')
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for name, definition in self.indexes:
                self.progress(f"index {name}")
                started = time.perf_counter()
                cursor.execute(definition)
                self.timings.append((name, time.perf_counter() - started))
            for table, name, definition in self.foreign_keys:
                self.progress(f"clé étrangère {name}")
                started = time.perf_counter()
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                self.timings.append((name, time.perf_counter() - started))
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are deferred
            if self.replica:
                # The replica role also switched off the triggers that keep the patient list
                # (lists.entries): derive it again, with them on (they fill its diagnoses).
                from bamara.lists import entries

                cursor.execute("SET LOCAL session_replication_role = origin")
                self.progress("liste des patients (lists_entry)")
                started = time.perf_counter()
                entries.rebuild()
                self.timings.append(("lists_entry", time.perf_counter() - started))


def _ordered_references() -> set[tuple[str, str]]:
    """(table, column) of the foreign keys from a demo table to a demo table."""
    demo_tables = {m._meta.db_table for m in MODELS.values()}
    return {
        (model._meta.db_table, f.column)
        for model in MODELS.values()
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model._meta.db_table in demo_tables
    }


def _literal(value: Any) -> str:
    """SQL literal of a tail value (booleans, numbers, strings)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def foreign_key_violations() -> list[str]:
    """Rows of the demo tables whose foreign key points nowhere (should always be empty)."""
    problems = []
    with connection.cursor() as cursor:
        for model in MODELS.values():
            for model_field in model._meta.concrete_fields:
                if not model_field.is_relation:
                    continue
                parent = model_field.related_model._meta
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{model._meta.db_table}" c WHERE c."{model_field.column}" '
                    f'IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "{parent.db_table}" p '
                    f'WHERE p."{parent.pk.column}" = c."{model_field.column}")'
                )
                count = cursor.fetchone()[0]
                if count:
                    problems.append(f"{model._meta.db_table}.{model_field.column}: {count}")
    return problems


# --- deleting demo rows -------------------------------------------------------------------
def _delete_statements(
    model: type[models.Model], where: str, seen: set, existing: set[str]
) -> Iterable[str]:
    """SQL that deletes the rows of ``model`` matching ``where`` and everything that depends
    on them, children first, following Django's on_delete rules (CASCADE / SET_NULL)."""
    table = model._meta.db_table
    key = (table, where)
    if key in seen or table not in existing:  # tables of apps not migrated yet: nothing to do
        return
    seen.add(key)
    ids = f'SELECT "{model._meta.pk.column}" FROM "{table}" WHERE {where}'
    for relation in model._meta.related_objects:
        child = relation.related_model
        column = relation.field.column
        child_table = child._meta.db_table
        on_delete = relation.on_delete
        if child_table not in existing:
            continue
        if on_delete is models.SET_NULL:
            yield f'UPDATE "{child_table}" SET "{column}" = NULL WHERE "{column}" IN ({ids})'
        elif on_delete is models.CASCADE:
            yield from _delete_statements(child, f'"{column}" IN ({ids})', seen, existing)
        elif on_delete is models.DO_NOTHING:
            continue
        else:  # PROTECT / RESTRICT: let the database refuse if such rows exist
            continue
    yield f'DELETE FROM "{table}" WHERE {where}'


def delete_demo_rows(progress: Callable[[str], None] | None = None) -> int:
    """Delete the demo patients (source = demo) and all their dependent rows."""
    count = records.Patient.objects.filter(source=records.Source.DEMO).count()
    existing = set(connection.introspection.table_names())
    statements = list(_delete_statements(records.Patient, "source = 'demo'", set(), existing))
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            if progress:
                progress(sql.split(" WHERE")[0])
            cursor.execute(sql)
    return count
