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
    # Name search: key LIKE 'PREFIX%' (and key = 'KEY'), within the user's sites or across them.
    assert pattern == {"patientname_site_key_pat", "patientname_key"}


@pytest.mark.django_db
def test_it_indexes_only_the_patients_with_a_value_in_mostly_empty_columns():
    """An import or a form writes no entry for an empty INS, commune, CDA set, foetus id, mother
    or first case, nor for the living and the non-opposed (migrations/0010)."""
    indexes = _indexes() if connection.vendor == "postgresql" else _sqlite_indexes()
    partial = {name for table, name, _, is_partial, _, _ in indexes
               if table == "records_patient" and is_partial}
    assert partial == {"one_ipp_per_hospital", "patient_cda_set_id", "patient_ins",
                       "patient_residence_commune", "patient_foetus_local_id", "patient_deceased",
                       "patient_opposition", "patient_mother", "patient_first_case_patient"}
    whole = {tuple(columns) for table, _, _, is_partial, columns, _ in indexes
             if table == "records_patient" and not is_partial}
    assert not whole & {("ins",), ("cda_set_id",), ("deceased",), ("opposition",), ("mother_id",)}


@pytest.mark.django_db
def test_it_indexes_the_foetus_of_an_activity_or_a_diagnosis_only_where_there_is_one():
    """Every activity and diagnosis written, not only a foetus's, added an entry to a plain
    foetus index (records/0011)."""
    indexes = _indexes() if connection.vendor == "postgresql" else _sqlite_indexes()
    on_foetus = {(table, name, is_partial) for table, name, _, is_partial, columns, _ in indexes
                 if columns == ["foetus_id"]}
    assert on_foetus == {("records_activity", "activity_foetus", True),
                         ("records_diagnosis", "diagnosis_foetus", True)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="INCLUDE: PostgreSQL")
@pytest.mark.django_db
def test_it_has_no_covering_index_beside_a_unique_one_with_the_same_key():
    """A unique index can include the columns a covering index adds to the same key: one
    index written per row instead of two (reports/0005)."""
    indexes = _indexes()
    unique = {(table, tuple(columns)) for table, _, is_unique, partial, columns, _ in indexes
              if is_unique and not partial}
    covering = [name for table, name, is_unique, _, columns, definition in indexes
                if not is_unique and "INCLUDE" in definition and (table, tuple(columns)) in unique]
    assert covering == []
    episode = {name: definition for table, name, _, _, _, definition in indexes
               if table == "records_careepisode"}
    assert "INCLUDE (inclusion_date)" in episode["one_episode_per_site"]


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
