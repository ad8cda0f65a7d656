"""Bulk writes of an import: rows as the database values ``bulk_create`` would send, built from
plain values rather than model instances (building ~12 instances per source row and preparing
each field of each one was most of the commit time).

A ``Table`` is laid out once per run: the columns the import sets on each row, converted with
the field's own ``get_db_prep_save`` unless the value needs no conversion (text, integers,
booleans); a fresh ``uuid4`` per row; one ``auto_now``/``auto_now_add`` timestamp per batch
(as ``pre_save`` would set, within the batch's transaction); and the model default of every
other column, prepared once. PostgreSQL receives the rows by ``COPY`` (ids drawn from the
table's sequence beforehand when the caller needs them); SQLite, and PostgreSQL with
``copy=False``, by ``INSERT`` (``RETURNING`` for the ids).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.fields import AutoFieldMixin

try:
    from psycopg.types.json import _JsonWrapper
except ImportError:  # SQLite only
    class _JsonWrapper:  # type: ignore[no-redef]
        obj: Any
        dumps: Any

# COPY on PostgreSQL; False writes by INSERT there too (tests compare both).
COPY = True
_MAX_PARAMS = 32_000  # below SQLite's 32,766 (since 3.32) and PostgreSQL's 65,535

# Fields whose prepared value is the value itself when it already has the right Python type.
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
          models.ForeignKey)


# The RFC 4122 variant (binary 10xx) of a uuid's 17th hex digit, for each random digit.
_VARIANT = {f"{d:x}": f"{8 | (d & 3):x}" for d in range(16)}


def _prep_of(field: models.Field) -> Any:
    """``field.get_db_prep_save``; for a plain DateField given a date or None, what it comes
    down to (``adapt_datefield_value``) without the five calls in between."""
    if type(field) is not models.DateField:
        return field.get_db_prep_save

    def prep(value: Any, db: Any) -> Any:
        if value is None or type(value) is dt.date:
            return db.ops.adapt_datefield_value(value)
        return field.get_db_prep_save(value, db)
    return prep


class Table:
    """One table's layout for bulk rows; ``columns`` are attnames set per row, in order."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *,
                 copy: bool | None = None) -> None:
        self.model = model
        self.copy = (COPY and connection.vendor == "postgresql") if copy is None else copy
        fields = [f for f in model._meta.concrete_fields
                  if not f.generated and not isinstance(f, AutoFieldMixin)]
        by_name = {f.attname: f for f in fields}
        self.set = [by_name[c] for c in columns]
        # Values of plain types pass as they are (what get_db_prep_save returns for them): only
        # the other columns are converted, by position.
        self.prep = [(i, _prep_of(f)) for i, f in enumerate(self.set) if not isinstance(f, _PLAIN)]
        rest = [f for f in fields if f.attname not in columns]
        self.uuid = next((f for f in rest if isinstance(f, models.UUIDField)
                          and f.default is uuid.uuid4), None)
        self.stamped = [f for f in rest if getattr(f, "auto_now", False)
                        or getattr(f, "auto_now_add", False)]
        self.rest = [f for f in rest if f is not self.uuid and f not in self.stamped]
        blank = model()
        self.tail = tuple(self._copyable(f.get_db_prep_save(f.pre_save(blank, True), connection))
                          for f in self.rest)
        self.defaults = {f.attname: f.get_default() for f in self.set}
        self.columns = [f.column for f in self.set]
        self.columns += [self.uuid.column] if self.uuid is not None else []
        self.columns += [f.column for f in self.stamped] + [f.column for f in self.rest]
        self._sequence: str | None = None
        self._next: int | None = None  # the next id, while counting()

    def rows(self, values: list[tuple], stamp: dt.datetime) -> list[tuple]:
        """Database rows of ``values`` (one tuple per row, in the order of ``columns``)."""
        after = self._after(stamp)
        return [row + after for row in self._leading(values)]

    def _after(self, stamp: dt.datetime) -> tuple:
        """What every row of a batch ends with: its timestamps, then the model defaults."""
        return tuple(f.get_db_prep_save(stamp, connection) for f in self.stamped) + self.tail

    def _leading(self, values: list[tuple]) -> list[tuple]:
        """Each row's own values: those set (converted), then its uuid."""
        if self.prep:
            copyable = self._copyable
            # The wrapper itself: each attribute of the ``connection`` proxy is a thread-local
            # look-up (a third of this function's time).
            db = connections[DEFAULT_DB_ALIAS]
            prepared = []
            for row in values:
                row = list(row)
                for i, prep in self.prep:
                    row[i] = copyable(prep(row[i], db))
                prepared.append(tuple(row))
            values = prepared
        if self.uuid is None:
            return values
        return [(*row, u) for row, u in zip(values, self._uuids(len(values)), strict=True)]

    def _copyable(self, value: Any) -> Any:
        """For COPY, JSON as its text (what the Jsonb adapter sends): psycopg would otherwise
        encode the same constant ``{}`` again for every row."""
        if self.copy and isinstance(value, _JsonWrapper):
            return (value.dumps or json.dumps)(value.obj)
        return value

    def _uuids(self, count: int) -> list[Any]:
        """uuid4 values as the field would prepare them (hex text on SQLite, UUID objects for
        INSERT on PostgreSQL, canonical text for COPY), from one urandom call."""
        if self.copy:
            # Formatted from the hex digits: ~0.6 µs per uuid against ~1.8 through uuid.UUID.
            digits = os.urandom(16 * count).hex()
            return [f"{digits[s:s + 8]}-{digits[s + 8:s + 12]}-4{digits[s + 13:s + 16]}-"
                    f"{_VARIANT[digits[s + 16]]}{digits[s + 17:s + 20]}-{digits[s + 20:s + 32]}"
                    for s in range(0, 32 * count, 32)]
        random = os.urandom(16 * count)
        values = []
        for start in range(0, 16 * count, 16):
            number = int.from_bytes(random[start:start + 16], "big")
            # RFC 4122 variant and version 4, as uuid.UUID(bytes=..., version=4) sets them.
            number = (number & ~(0xC000 << 48)) | (0x8000 << 48)
            number = (number & ~(0xF000 << 64)) | (4 << 76)
            values.append(number)
        if connection.features.has_native_uuid_field:
            return [uuid.UUID(int=n) for n in values]
        return [f"{n:032x}" for n in values]

    def write(self, values: list[tuple], stamp: dt.datetime, *, returning: bool = False
              ) -> list[int]:
        """Insert the rows; with ``returning``, their primary keys in order."""
        if not values:
            return []
        if self.copy:
            ids = self.allocate(len(values)) if returning else []
            self.send_encoded(self.encode(values, stamp, ids), ids=bool(ids))
            return ids
        rows = self.rows(values, stamp)
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        pk = quote(self.model._meta.pk.column)
        columns = ", ".join(quote(c) for c in self.columns)
        head = f"INSERT INTO {table} ({columns}) VALUES "
        marks = f"({', '.join(['%s'] * len(self.columns))})"
        with connection.cursor() as cursor:
            if not returning:
                cursor.executemany(head + marks, rows)
                return []
            ids = []
            size = max(1, min(len(rows), _MAX_PARAMS // len(self.columns)))
            for start in range(0, len(rows), size):
                chunk = rows[start:start + size]
                cursor.execute(f"{head}{', '.join([marks] * len(chunk))} RETURNING {pk}",
                               [value for row in chunk for value in row])
                ids += [value for (value,) in cursor.fetchall()]
            return ids

    def encode(self, values: list[tuple], stamp: dt.datetime, ids: list[int]) -> bytes:
        """The rows of ``values`` (``rows()``) led by their ``ids`` as the data of a COPY,
        encoded by psycopg on this thread without sending anything: ``send_encoded`` sends it,
        here (``write``) or from another thread, whose only work is then to wait for the server
        (see engine._pipeline). What every row ends with (``_after``: for a patient, ~70 of its
        ~100 columns) is encoded once and appended to each line: in COPY's text format a line
        break within a value is escaped, so each raw one ends a row."""
        data = _encoded(self._leading(values), ids)
        after = self._after(stamp)
        if not after:
            return data
        return data.replace(b"\n", b"\t" + _encoded([after], []))

    def send_encoded(self, data: bytes, raw: Any = None, *, ids: bool = True) -> None:
        """COPY what ``encode`` made (with the primary keys unless ``ids`` is false), on this
        thread's connection or on the psycopg connection ``raw`` (another thread's, see
        engine._bulk_pipeline)."""
        raw = connection.connection if raw is None else raw
        with raw.cursor() as cursor, cursor.copy(self._copy_sql(ids)) as copy:
            copy.write(data)

    def _copy_sql(self, ids: bool) -> str:
        quote = connection.ops.quote_name
        head = f"{quote(self.model._meta.pk.column)}, " if ids else ""
        columns = ", ".join(quote(c) for c in self.columns)
        return f"COPY {quote(self.model._meta.db_table)} ({head}{columns}) FROM STDIN"

    def allocate(self, count: int) -> list[int]:
        """``count`` ids from the table's sequence, in order: those INSERT would have used.
        Within ``counting()``, from a counter in this process, the sequence set once at the end."""
        if self._next is not None:
            first, self._next = self._next, self._next + count
            return list(range(first, self._next))
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                           [self._sequence_name(), count])
            return [value for (value,) in cursor.fetchall()]

    def _sequence_name(self) -> str:
        if self._sequence is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                               [connection.ops.quote_name(self.model._meta.db_table),
                                self.model._meta.pk.column])
                self._sequence = cursor.fetchone()[0]
        return self._sequence

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Ids counted here rather than drawn from the sequence batch by batch, which would
        each time wait for the other thread's COPY on a shared connection. Only while nobody
        else can insert into the table (a bulk load's exclusive lock): they are the ids the
        sequence would have given, and on a normal exit the sequence is set past the last one
        (``setval``, like ``nextval``, outlives a rollback: at worst ids are skipped)."""
        with connection.cursor() as cursor:
            # The sequence's own relation (its name as pg_get_serial_sequence quotes it).
            cursor.execute(f"SELECT last_value, is_called FROM {self._sequence_name()}")
            last, called = cursor.fetchone()
        self._next = first = last + 1 if called else last
        try:
            yield
        finally:
            following, self._next = self._next, None
        if following > first:
            with connection.cursor() as cursor:  # nextval() gives ``following`` next
                cursor.execute("SELECT setval(%s, %s)", [self._sequence, following - 1])


def _encoded(rows: list[tuple], ids: list[int]) -> bytes:
    """``rows`` (led by ``ids`` when given) as COPY data, encoded by psycopg for this thread's
    connection without sending anything."""
    from psycopg import Copy
    from psycopg.copy import FileWriter

    data = io.BytesIO()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, Copy(cursor, writer=FileWriter(data)) as copy:
        _write_rows(copy, rows, ids)
    return data.getvalue()


def _write_rows(copy: Any, rows: list[tuple], ids: list[int]) -> None:
    """Each row to a psycopg ``Copy``, led by its primary key when ``ids`` are given."""
    write_row = copy.write_row
    if ids:
        for key, row in zip(ids, rows, strict=True):
            write_row((key, *row))
    else:
        for row in rows:
            write_row(row)
