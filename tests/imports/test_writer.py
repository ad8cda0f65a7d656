"""The bulk writer of imports (writer.Table): every row holds exactly the values ``bulk_create``
would have sent for the same model instance (defaults, auto_now, JSON, uuid), and on PostgreSQL
COPY writes the same rows as INSERT."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bamara.imports import engine, service, writer
from bamara.imports.models import ImportRun
from tests.imports.test_engine import ROW, write

ROWS = [
    ROW,
    ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"},  # federated (same hospital)
    ROW | {"CENTRE": "S9003", "ID_PATIENT": "L1", "IPP": "690000001"},  # other hospital
    ROW | {"ID_PATIENT": "C2", "IPP": "", "NOM_NAISSANCE": "D'ARTAGNAN-Lupin", "NOM_USAGE": "Roux",
           "DATE_NAISSANCE": "1980", "SEXE": "M", "COMMUNE_NAISSANCE": "75056",
           "ORPHA_2": "ORPHA:98896", "STATUT_DIAG_2": "probable", "DATE_DIAG_2": "",
           "TYPE_ACTIVITE_2": "HDJ", "DATE_ACTIVITE_2": "2024-01-31", "INTERVENANT_2": ""},
    ROW | {"ID_PATIENT": "C3", "IPP": "750000003", "SEXE": ""},  # rejected
]


def _plain(value):
    """Compare JSON adapters (PostgreSQL) by their text, uuids as text."""
    if hasattr(value, "obj"):  # what COPY sends for JSON
        return (value.dumps or json.dumps)(value.obj)
    return str(value) if isinstance(value, uuid.UUID) else value


def test_its_rows_are_those_bulk_create_would_send(world, orphanet_codes, tmp_path, monkeypatch):
    calls = []
    original = writer.Table.write

    def spy(self, values, stamp, *, returning=False):
        calls.append((self, values, stamp))
        return original(self, values, stamp, returning=returning)

    monkeypatch.setattr(writer.Table, "write", spy)
    service.import_file(write(tmp_path / "a.csv", ROWS), "cemara", commit=True)
    assert {table.model for table, values, _ in calls if values} == \
        {model for model, _ in engine._LAYOUT.values()}
    for table, values, stamp in calls:
        monkeypatch.setattr(timezone, "now", lambda stamp=stamp: stamp)
        fields = table.set + ([table.uuid] if table.uuid else []) + table.stamped + table.rest
        for row_values, row in zip(values, table.rows(values, stamp), strict=True):
            obj = table.model(**{f.attname: v for f, v in zip(table.set, row_values, strict=True)})
            if table.uuid is not None:
                setattr(obj, table.uuid.attname, uuid.UUID(str(row[len(table.set)])))
            expected = [_plain(f.get_db_prep_save(f.pre_save(obj, True), connection)) for f in fields]
            assert [_plain(v) for v in row] == expected, table.model


TABLES = {  # table: (columns identifying the run's rows, as SQL)
    "records_patient": "source_ref LIKE %s",
    "records_careepisode": "source_ref LIKE %s",
    "records_diagnosis": "source_ref LIKE %s",
    "records_activity": "source_ref LIKE %s",
    "records_patientname": "patient_id IN (SELECT id FROM records_patient WHERE source_ref LIKE %s)",
    "imports_importedrecord": "run_id = (SELECT MAX(id) FROM imports_importrun) AND %s = %s",
    "imports_importrow": "run_id = (SELECT MAX(id) FROM imports_importrun) AND %s = %s",
    "audit_auditevent": "channel = 'import' AND patient_id IS NOT NULL AND %s = %s",
}
VOLATILE = {"id", "uuid", "created_at", "updated_at", "at"}


def dump(run: ImportRun) -> dict[str, list]:
    """The run's rows, with ids replaced by their rank so that two runs compare."""
    ids: dict[str, dict[int, int]] = {}
    prefix = f"import/{run.pk}#"
    found = {}
    with connection.cursor() as cursor:
        for table, where in TABLES.items():
            params = [prefix + "%"] if "LIKE" in where else [1, 1]
            cursor.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY id", params)
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
            ids[table] = {r["id"]: n for n, r in enumerate(rows)}
            found[table] = rows
    patients = ids["records_patient"]
    result = {}
    for table, rows in found.items():
        clean = []
        for r in rows:
            r = {k: v for k, v in r.items() if k not in VOLATILE}
            for key in ("patient_id", "object_id"):
                if key in r and r[key] is not None and int(r[key]) in patients:
                    r[key] = ("patient", patients[int(r[key])])
            for key in ("source_ref", "detail"):
                if key in r:
                    r[key] = r[key].replace(f"import/{run.pk}#", "import/#").replace(
                        f"import {run.pk} ", "import # ")
            if "run_id" in r:
                r["run_id"] = "run"
            if "objects_written" in r:
                written = r["objects_written"]
                written = json.loads(written) if isinstance(written, str) else written
                r["objects_written"] = {
                    "diagnoses": [ids["records_diagnosis"][i] for i in written["diagnoses"]],
                    "activities": [ids["records_activity"][i] for i in written["activities"]],
                }
            clean.append(r)
        result[table] = clean
    return result


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY: PostgreSQL only")
def test_copy_writes_what_insert_writes(world, orphanet_codes, tmp_path, monkeypatch):
    path = write(tmp_path / "a.csv", ROWS)
    dumps = []
    for copy in (True, False):
        monkeypatch.setattr(writer, "COPY", copy)
        point = transaction.savepoint()
        run, summary = service.import_file(path, "cemara", commit=True)
        assert summary.counts["cree"] == 3 and summary.counts["federe"] == 1
        dumps.append(dump(run))
        transaction.savepoint_rollback(point)
    assert all(dumps[0][t] for t in TABLES)
    assert dumps[0] == dumps[1]


@pytest.mark.parametrize("copy", [True, False])
def test_it_draws_random_version_4_uuids(db, copy):
    from bamara.records.models import Patient

    table = writer.Table(Patient, ["birth_name"], copy=copy)
    values = table._uuids(2_000)
    parsed = [uuid.UUID(str(v)) for v in values]
    assert len(set(parsed)) == 2_000
    assert {u.version for u in parsed} == {4}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    if copy:  # canonical text, as PostgreSQL's uuid input reads it
        assert values == [str(u) for u in parsed]
    # Every bit but the six fixed ones is drawn: each varies over the draws.
    bits = [u.int for u in parsed]
    varying = [i for i in range(128) if len({(b >> i) & 1 for b in bits}) == 2]
    assert len(varying) == 122


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY: PostgreSQL only")
def test_it_encodes_the_rows_common_tail_once_whatever_their_own_values(world):
    from bamara.records.models import Patient

    table = writer.Table(Patient, ["birth_name", "used_name", "hospital_id"])
    names = ["line\nbreak", "tab\there", "back\\slash", "carriage\rreturn", "", "\\N"]
    values = [(name, f"{name}!", world.own.hospital_id) for name in names]
    stamp = timezone.now()
    data = table.encode(values, stamp, encoded := table.allocate(len(values)))
    # One line per row, each ending with the tail (timestamps, then the model defaults).
    assert data.count(b"\n") == len(values) and len(table.tail) > 50
    table.send_encoded(data)
    whole = table.allocate(len(values))
    table.send_encoded(writer._encoded(table.rows(values, stamp), whole))  # not split

    def read(ids):
        return [{k: v for k, v in row.items() if k not in ("id", "uuid")}
                for row in Patient.objects.filter(pk__in=ids).order_by("pk").values()]

    assert read(encoded) == read(whole)
    assert [(r["birth_name"], r["used_name"], r["created_at"]) for r in read(encoded)] == \
        [(n, f"{n}!", stamp) for n in names]
