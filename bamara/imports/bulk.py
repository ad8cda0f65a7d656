"""Bulk load (PostgreSQL): the first load of a large migration, ``bamara import --commit --bulk``.

A committed import keeps every index and foreign key of the tables it writes up to date row by
row: per source row, ~70 index entries over 11 rows and ~10 foreign-key checks (session 10; ~105
and ~15 before), each check an SPI query (PostgreSQL 15 checks them one by one), most of the
server's time. A bulk load drops the secondary indexes and the foreign keys of those
tables, loads every batch, then builds the indexes once (sort-based, far cheaper than random
insertions into indexes that outgrow the buffer cache) and adds the foreign keys back, each
validated by one query over its table, and commits: all in one transaction.

- Atomic: a failure or a kill -9 leaves the database as it was (DDL is transactional in
  PostgreSQL); the run stays "en cours" at checkpoint 0 and its resume loads it again.
- The indexes the load reads itself (the planner's look-ups, the joins of the list triggers
  that stay) stay, with the primary keys and the unique indexes (but those of random UUIDs,
  checked when built).
- The list's INSERT triggers are suspended meanwhile: the entries, their diagnoses and the
  cleared completeness are written once at the end by set-based statements
  (``lists.entries.suspended``), before the indexes are built.
- Exclusive locks on these tables for the whole load: the application cannot read patients
  meanwhile. For a migration window; an import into tables already large rebuilds their whole
  indexes, slower than a normal commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

from bamara.lists import entries

# The tables an import writes (directly, or through the list triggers).
TABLES = ("records_patient", "records_careepisode", "records_patientname", "records_diagnosis",
          "records_activity", "imports_importedrecord", "imports_importrow", "audit_auditevent",
          "lists_entry", "lists_entrydiagnosis")

# Indexes read during the load, by their columns: the planner looks patients up by national
# identifier and IPP, care episodes by patient; the list triggers join on patient.
READ = {
    "records_patient": {("national_id",), ("ipp",)},
    "records_careepisode": {("patient_id", "site_id")},
    "records_diagnosis": {("patient_id",)},
    "lists_entry": {("patient_id",)},
    "imports_importedrecord": {("key",)},
}

LOCK_TIMEOUT = "10s"


class BulkUnavailable(RuntimeError):
    """No bulk load here (not PostgreSQL, or the tables are in use)."""


@dataclass(frozen=True)
class Dropped:
    table: str
    name: str
    kind: str  # "index", "constraint" (unique) or "foreign key"
    definition: str

    def restore_sql(self) -> str:
        if self.kind == "index":
            return self.definition
        return f'ALTER TABLE "{self.table}" ADD CONSTRAINT "{self.name}" {self.definition}'

    def drop_sql(self) -> str:
        if self.kind == "index":
            return f'DROP INDEX "{self.name}"'
        return f'ALTER TABLE "{self.table}" DROP CONSTRAINT "{self.name}"'


_INDEXES = """
SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisprimary, x.indisunique,
       x.indpred IS NOT NULL, con.conname IS NOT NULL, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n)
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
                            AND con.contype IN ('p', 'u')
WHERE c.relname = ANY(%s) AND c.relnamespace = 'public'::regnamespace
ORDER BY c.relname, i.relname
"""

_FOREIGN_KEYS = """
SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype = 'f' AND c.relname = ANY(%s) AND c.relnamespace = 'public'::regnamespace
ORDER BY c.relname, con.conname
"""


def droppable() -> list[Dropped]:
    """What a bulk load drops then restores: foreign keys first (so that no unique index they
    rely on is dropped before them), then indexes, in a stable order."""
    with connection.cursor() as cursor:
        cursor.execute(_FOREIGN_KEYS, [list(TABLES)])
        dropped = [Dropped(table, name, "foreign key", definition)
                   for table, name, definition in cursor.fetchall()]
        cursor.execute(_INDEXES, [list(TABLES)])
        read_seen: set[tuple[str, tuple[str, ...]]] = set()
        for (table, name, indexdef, primary, unique, partial, constraint, condef,
             columns) in cursor.fetchall():
            columns = tuple(columns)
            if primary or (unique and columns != ("uuid",)):
                read_seen.add((table, columns))  # kept: it serves the look-up
                continue
            if (columns in READ.get(table, ()) and not partial and "_ops" not in indexdef
                    and (table, columns) not in read_seen):
                read_seen.add((table, columns))  # one index per look-up is enough
                continue
            dropped.append(Dropped(table, name, "constraint" if constraint else "index",
                                   condef if constraint else indexdef))
    return dropped


def unavailable(commit: bool) -> str | None:
    """Why a bulk load cannot be asked for here, if it cannot."""
    if not commit:
        return "le chargement en masse (--bulk) n'a de sens qu'avec --commit"
    if connection.vendor != "postgresql":
        return "le chargement en masse (--bulk) n'existe que sur PostgreSQL"
    return None


@contextmanager
def deferred_indexes() -> Iterator[list[Dropped]]:
    """Within the caller's transaction: drop what ``droppable`` lists and suspend the list
    triggers on insert (``entries.suspended``); on a normal exit, catch the list up, then
    restore the indexes and foreign keys (an exception leaves both to the rollback)."""
    if reason := unavailable(commit=True):
        raise BulkUnavailable(reason)
    if not connection.in_atomic_block:
        raise RuntimeError("deferred_indexes needs a transaction")
    dropped = droppable()
    with connection.cursor() as cursor:
        # Pending deferred checks of this transaction would forbid the ALTER TABLEs.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            cursor.execute("LOCK TABLE " + ", ".join(f'"{t}"' for t in TABLES)
                           + " IN ACCESS EXCLUSIVE MODE")
        except Exception as exc:  # lock_timeout: someone is using these tables
            if getattr(exc.__cause__, "sqlstate", None) == "55P03":
                raise BulkUnavailable(
                    "tables des dossiers en cours d'utilisation : le chargement en masse demande "
                    "qu'aucun autre utilisateur n'écrive ni ne lise les dossiers") from exc
            raise
        cursor.execute("SET LOCAL lock_timeout = 0")
        for item in dropped:
            cursor.execute(item.drop_sql())
    with entries.suspended(TABLES):
        yield dropped
    with connection.cursor() as cursor:
        # Index builds sort in memory up to this (the server's default is 64 MB).
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for item in reversed(dropped):  # indexes, then the foreign keys that may rely on them
            cursor.execute(item.restore_sql())
