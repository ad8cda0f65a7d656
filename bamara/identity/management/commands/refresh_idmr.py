"""`bamara refresh_idmr`: (re)compute the national identifier of every patient record, in bulk.

Records are read in primary-key order, one batch at a time (constant memory at any volume).
Person records are read as plain column tuples; foetus records, few, as models with their
mother and pregnancy. Changed identifiers are written with one ``UPDATE ... FROM (VALUES ...)``
per 2,000 rows (3 to 6 times faster than executemany, and far faster than bulk_update's CASE
expression), and each replaced identifier is kept as a FormerIdentifier. Run it after a change
of IDMR_KEY or of VERSION.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from tqdm import tqdm

from bamara.identity.idmr import PERSON_COLUMNS, compute, for_patient, person_traits
from bamara.identity.models import FormerIdentifier
from bamara.records.maintenance import analyze
from bamara.records.models import Patient

FOETUS_RELATED = ("hospital", "mother", "foetus_entry__pregnancy", "foetus_entry__mother")


class Command(BaseCommand):
    help = "Recalcule l'identifiant national (IDMR) de tous les dossiers et garde les anciens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000, help="dossiers par lot (5000)")
        parser.add_argument(
            "--reason", default="recalcul de l'IDMR", help="motif enregistré avec les anciens identifiants"
        )
        parser.add_argument("--dry-run", action="store_true", help="compter sans rien écrire")

    def handle(self, *args: Any, **options: Any) -> None:
        self.options = options
        self.totals = {"read": 0, "changed": 0, "cleared": 0}
        size = max(1, options["batch_size"])
        persons = Patient.objects.filter(is_foetus=False).values_list("pk", "national_id", *PERSON_COLUMNS)
        foetuses = Patient.objects.filter(is_foetus=True).select_related(*FOETUS_RELATED)
        with tqdm(
            total=Patient.objects.count(), unit=" dossiers", disable=options["verbosity"] == 0
        ) as progress:
            for rows in _batches(persons, size, key=lambda row: row[0]):
                self._write([(pk, old, _code(person_traits(*traits))) for pk, old, *traits in rows])
                progress.update(len(rows))
            for records in _batches(foetuses, size, key=lambda record: record.pk):
                self._write([(p.pk, p.national_id, for_patient(p) or "") for p in records])
                progress.update(len(records))
        if self.totals["changed"] and not options["dry_run"]:
            analyze(Patient)
        totals = self.totals
        self.stdout.write(
            f"{totals['read']} dossiers lus, {totals['changed']} identifiants modifiés "
            f"(dont {totals['cleared']} effacés faute de traits suffisants)"
            + (" — simulation, rien n'a été écrit" if options["dry_run"] else "")
        )

    def _write(self, rows: list[tuple[int, str, str]]) -> None:
        """Store the new identifiers of one batch of (pk, old, new), and the replaced ones."""
        changed = [(pk, old, new) for pk, old, new in rows if new != old]
        self.totals["read"] += len(rows)
        self.totals["changed"] += len(changed)
        self.totals["cleared"] += sum(1 for _pk, _old, new in changed if not new)
        if not changed or self.options["dry_run"]:
            return
        reason = self.options["reason"][:255]
        former = [
            FormerIdentifier(patient_id=pk, national_id=old, replaced_by=new, reason=reason)
            for pk, old, new in changed if old
        ]
        connection = connections[Patient.objects.db]
        with transaction.atomic(using=connection.alias):
            FormerIdentifier.objects.bulk_create(former, batch_size=1000)
            _update_national_ids(connection, [(pk, new) for pk, _old, new in changed])


UPDATE_ROWS = 2000  # 4,000 parameters a statement: within every backend's limit


def _update_national_ids(connection: BaseDatabaseWrapper, rows: list[tuple[int, str]]) -> None:
    """Set national_id by primary key, for many rows at once; no signals, no auto_now."""
    quote = connection.ops.quote_name
    table, pk = quote(Patient._meta.db_table), quote(Patient._meta.pk.column)
    column = quote(Patient._meta.get_field("national_id").column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" or (
            connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 33)  # UPDATE FROM
        ):
            for start in range(0, len(rows), UPDATE_ROWS):
                chunk = rows[start:start + UPDATE_ROWS]
                values = ", ".join(["(CAST(%s AS bigint), CAST(%s AS varchar(20)))"] * len(chunk))
                cursor.execute(
                    f"WITH v(id, nid) AS (VALUES {values}) "
                    f"UPDATE {table} SET {column} = v.nid FROM v WHERE {table}.{pk} = v.id",
                    [value for row in chunk for value in row],
                )
        else:
            cursor.executemany(
                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [(new, key) for key, new in rows]
            )


def _code(traits) -> str:
    try:
        return compute(traits)
    except ValueError:  # insufficient traits, unknown sex code, impossible date
        return ""


def _batches(queryset: QuerySet, size: int, key) -> Iterator[list]:
    """Keyset pagination on the primary key: each batch is one indexed range query."""
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = key(batch[-1])
