"""The indexes of the tables every record write and import goes through: each one read by some
query, none written for nothing (records/migrations/0008, imports/0002, audit/0004)."""

from __future__ import annotations

import pytest
from django.db import connection

# The tables a record or an import writes (bamara.imports.bulk.TABLES, less the list tables).
TABLES = ["records_patient", "records_careepisode", "records_patientname", "records_diagnosis",
          "records_activity", "imports_importedrecord", "imports_importrow", "audit_auditevent"]

_INDEXES = """
SELECT c.relname, i.relname, x.indisunique, x.indpred IS NOT NULL,
       ARRAY(SELECT a.attname FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n),
       pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
WHERE c.relname = ANY(%s) AND c.relnamespace = 'public'::regnamespace
"""


def _indexes() -> list[tuple[str, str, bool, bool, list[str], str]]:
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES, [TABLES])
        return cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="varchar_pattern_ops: PostgreSQL")
@pytest.mark.django_db
def test_it_has_pattern_indexes_only_where_a_prefix_search_reads_them():
    pattern = {name for _, name, _, _, _, definition in _indexes() if "pattern_ops" in definition}
    # Name search: key LIKE 'PREFIX%', within the user's sites or across them.
    assert pattern == {"patientname_site_key_pat", "records_patientname_key_84d96fbf_like"}


@pytest.mark.django_db
def test_it_has_no_index_that_another_index_begins_with():
    """A plain index whose columns begin another index of its table (in the same order of
    values) is redundant with it: each insert would write both for nothing."""
    indexes = _indexes() if connection.vendor == "postgresql" else _sqlite_indexes()
    ordered = [(table, name, columns) for table, name, _, partial, columns, definition in indexes
               if not partial and "pattern_ops" not in definition]
    redundant = []
    for table, name, unique, partial, columns, definition in indexes:
        plain = "pattern_ops" not in definition and "INCLUDE" not in definition  # not covering
        if columns and plain and not unique and not partial:
            redundant += [(name, other) for t, other, longer in ordered
                          if t == table and other != name and longer[:len(columns)] == columns]
    assert redundant == []


def _sqlite_indexes() -> list[tuple[str, str, bool, bool, list[str], str]]:
    result = []
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"PRAGMA index_list({table})")
            for _seq, name, unique, _origin, partial in cursor.fetchall():
                cursor.execute(f"PRAGMA index_info({name})")
                columns = [column for _, _, column in sorted(cursor.fetchall())]
                result.append((table, name, bool(unique), bool(partial), columns, ""))
    return result
