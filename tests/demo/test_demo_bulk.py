"""The PostgreSQL bulk-load mode: secondary indexes, foreign keys and defaults come back."""

from __future__ import annotations

import pytest
from django.db import connection

from bamara.demo.bulk import MODELS, DeferredIndexes, foreign_key_violations
from bamara.demo.loader import load_demo
from bamara.lists.models import Entry
from bamara.records.models import Activity, CareEpisode, Patient
from tests.lists.test_entries import expected, stored

from .conftest import AS_OF, requires_value_sets

pytestmark = [pytest.mark.django_db, requires_value_sets]


def _schema() -> tuple[list, list, list]:
    tables = [m._meta.db_table for m in MODELS.values()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ANY(%s) ORDER BY 1",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(%s) ORDER BY 1, 2",
            [tables],
        )
        defaults = cursor.fetchall()
    return indexes, constraints, defaults


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL seulement")
@pytest.mark.parametrize("replica_role", [True, False], ids=["triggers-off", "fk-dropped"])
def test_it_restores_indexes_foreign_keys_and_defaults_after_a_bulk_load(replica_role, monkeypatch) -> None:
    monkeypatch.setattr(DeferredIndexes, "use_replica_role", replica_role)
    before = _schema()
    result = load_demo(120, 2, as_of=AS_OF, progress=False, defer_indexes=True)
    assert result.patients == 120 == Patient.objects.count()
    assert _schema() == before
    assert foreign_key_violations() == []
    # Constant columns were filled by temporary defaults: same values as a normal load.
    activity = Activity.objects.first()
    assert activity.source == "demo" and activity.field_sources == {}
    assert activity.created_at.date() == AS_OF
    # The patient list, kept by triggers that the replica role switches off, is complete.
    assert Entry.objects.count() == CareEpisode.objects.count() > 0
    assert stored() == expected()


def test_it_writes_the_same_rows_with_or_without_the_bulk_mode() -> None:
    from bamara.demo.bulk import delete_demo_rows
    from bamara.demo.loader import database_digest

    load_demo(80, 4, as_of=AS_OF, progress=False, defer_indexes=False)
    normal = database_digest()
    delete_demo_rows()
    load_demo(80, 4, as_of=AS_OF, progress=False, defer_indexes=True)
    assert database_digest() == normal
