"""A commit whose batches are written by a writer thread while the next one is planned
(engine._pipeline): the same database as a sequential commit, and the same resume."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from bamara.imports import bulk, engine, service
from bamara.imports.models import ImportRow, ImportRun, Outcome, RunStatus
from bamara.records.models import Patient
from tests.imports.test_bulk import _dump, _export
from tests.imports.test_engine import ROW, write

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pipelined on PostgreSQL only"),
    # Committed for real: the writer thread's connection sees only what is committed.
    pytest.mark.django_db(transaction=True),
]

# Batches of 3: each row of the second batch meets the first batch while it is being written.
ROWS = [
    ROW,
    ROW | {"ID_PATIENT": "C2", "NOM_NAISSANCE": "ROUX", "IPP": "750000002"},
    ROW | {"ID_PATIENT": "C3", "NOM_NAISSANCE": "BLANC", "IPP": "750000003"},
    ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"},  # C1 at another site: federated
    ROW,  # C1 again, same content: unchanged
    ROW | {"ID_PATIENT": "C2", "NOM_NAISSANCE": "ROUX", "IPP": "750000002", "PRENOM": "Zoé"},  # repeated id
    ROW | {"ID_PATIENT": "C7", "NOM_NAISSANCE": "NOIR", "IPP": "750000003"},  # C3's IPP: rejected
    ROW | {"ID_PATIENT": "C8", "NOM_NAISSANCE": "ROUX", "IPP": "", "CENTRE": "S9002"},  # C2's identity
    ROW | {"ID_PATIENT": "C9", "NOM_NAISSANCE": "VERT", "IPP": "750000009"},
]


def _reset() -> None:
    """Empty the tables an import writes, with their sequences: two imports get the same ids."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join((*bulk.TABLES, 'imports_importrun', 'identity_duplicatecandidate'))} "
                       "RESTART IDENTITY CASCADE")


def _sequential(path, **options) -> tuple[dict, dict]:
    _reset()
    _, summary = service.import_file(path, "cemara", commit=True, pipelined=False, **options)
    state = _dump()
    _reset()
    return dict(summary.counts), state


def _content() -> dict[str, list[tuple]]:
    """What was written, by natural keys (ids drawn by a failed batch are not given back)."""
    queries = {
        "patients": "SELECT birth_name, national_id, ipp, source_ref FROM records_patient",
        "episodes": "SELECT p.national_id, e.site_id, e.source_ref FROM records_careepisode e "
                    "JOIN records_patient p ON p.id = e.patient_id",
        "diagnoses": "SELECT p.national_id, d.disease_code, d.source_ref FROM records_diagnosis d "
                     "JOIN records_patient p ON p.id = d.patient_id",
        "activities": "SELECT p.national_id, a.date, a.site_id FROM records_activity a "
                      "JOIN records_patient p ON p.id = a.patient_id",
        "rows": "SELECT r.number, r.outcome, r.record_key, r.messages::text, p.national_id "
                "FROM imports_importrow r LEFT JOIN records_patient p ON p.id = r.patient_id",
        "records": "SELECT i.key, i.row_number, i.content_hash, p.national_id FROM "
                   "imports_importedrecord i JOIN records_patient p ON p.id = i.patient_id",
        "entries": "SELECT p.national_id, e.site_id FROM lists_entry e "
                   "JOIN records_patient p ON p.id = e.patient_id",
        "audit": "SELECT detail, p.national_id FROM audit_auditevent a "
                 "JOIN records_patient p ON p.id = a.patient_id",
    }
    with connection.cursor() as cursor:
        result = {}
        for name, sql in queries.items():
            cursor.execute(sql)
            result[name] = sorted(cursor.fetchall(), key=repr)
        return result


def _threads(monkeypatch) -> list[str]:
    """The threads that send the batches; each batch is sent only once the next one has been
    planned (or after 2 s, for the last): the next batch always meets one in flight."""
    names: list[str] = []
    planned: list[int] = []
    change = threading.Condition()
    plan, send = engine.Importer._plan, engine.Importer._send

    def planning(self, batch):
        result = plan(self, batch)
        with change:
            planned.append(len(batch))
            change.notify_all()
        return result

    def sending(self, *args):
        names.append(threading.current_thread().name)
        with change:
            change.wait_for(lambda: len(planned) > len(names), timeout=2)
        return send(self, *args)

    monkeypatch.setattr(engine.Importer, "_plan", planning)
    monkeypatch.setattr(engine.Importer, "_send", sending)
    return names


def test_it_writes_what_a_sequential_commit_writes(world, orphanet_codes, tmp_path, monkeypatch):
    path = write(tmp_path / "a.csv", ROWS)
    counts, expected = _sequential(path, batch_size=3)
    assert counts[Outcome.FEDERATED] == 2 and counts[Outcome.UNCHANGED] == 1
    assert counts[Outcome.REJECTED] == 2
    threads = _threads(monkeypatch)
    _, summary = service.import_file(path, "cemara", commit=True, batch_size=3)
    assert len(threads) == 3 and all(name.startswith("bamara-import") for name in threads)
    assert dict(summary.counts) == counts
    assert _dump() == expected


def test_it_writes_what_a_sequential_commit_writes_for_a_generated_export(
        world, orphanet_codes, tmp_path):
    path = _export(tmp_path, orphanet_codes)
    counts, expected = _sequential(path, batch_size=16)
    _, summary = service.import_file(path, "cemara", commit=True, batch_size=16)
    assert dict(summary.counts) == counts and counts.get(Outcome.FEDERATED, 0) > 0
    assert _dump() == expected


def test_it_stops_at_the_writers_error_and_resumes_where_it_stopped(
        world, orphanet_codes, tmp_path, monkeypatch):
    path = write(tmp_path / "a.csv", ROWS)
    _reset()
    _, sequential = service.import_file(path, "cemara", commit=True, batch_size=3, pipelined=False)
    expected = _content()
    _reset()
    calls = []
    send = engine.Importer._send

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("coupure")
        return send(self, *args)

    monkeypatch.setattr(engine.Importer, "_send", failing)
    with pytest.raises(RuntimeError, match="coupure"):
        service.import_file(path, "cemara", commit=True, batch_size=3)
    run = ImportRun.objects.get()
    assert run.status == RunStatus.RUNNING
    # The first batch only, with its checkpoint.
    assert list(ImportRow.objects.order_by("number").values_list("number", flat=True))[-1] == run.checkpoint
    assert ImportRow.objects.count() == 3 and Patient.objects.count() == 3

    monkeypatch.setattr(engine.Importer, "_send", send)
    resumed, summary = service.import_file(path, "cemara", commit=True, batch_size=3)
    assert resumed.pk == run.pk and summary.counts == sequential.counts
    assert _content() == expected


def test_it_writes_in_this_thread_within_a_callers_transaction(world, orphanet_codes, tmp_path,
                                                               monkeypatch):
    from django.db import transaction

    threads = _threads(monkeypatch)
    with transaction.atomic():
        service.import_file(write(tmp_path / "a.csv", ROWS[:4]), "cemara", commit=True, batch_size=3)
    assert threads == []
    assert Patient.objects.filter(birth_name="MOREAU").count() == 1


def test_it_writes_two_batches_at_once_and_commits_them_in_file_order(
        world, orphanet_codes, tmp_path, monkeypatch):
    """The first batch's writer is slowed down: the second batch is written meanwhile, on the
    other connection, but commits (with its checkpoint) only after the first."""
    import time

    names = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
             "LEROY", "SIMON", "LAURENT", "LEFEBVRE"]
    path = write(tmp_path / "a.csv", [ROW | {"ID_PATIENT": f"P{n}", "NOM_NAISSANCE": name,
                                             "IPP": f"7600000{n:02d}"} for n, name in enumerate(names)])
    events: list[tuple[str, int]] = []
    lock = threading.Lock()
    send = engine.Importer._send

    def slowed(self, steps, checkpoint, counts, before):
        with lock:
            events.append(("start", checkpoint))
            first = len(events) == 1
        if first:
            time.sleep(1.5)
        send(self, steps, checkpoint, counts, before)
        with lock:
            events.append(("committed", checkpoint))
            # What another connection sees once this batch is committed: every batch up to it.
            with connections["default"].cursor() as cursor:  # this thread's own connection
                cursor.execute("SELECT count(*) FROM imports_importrow")
                events.append(("rows seen", cursor.fetchone()[0]))

    from django.db import connections

    monkeypatch.setattr(engine.Importer, "_send", slowed)
    _, summary = service.import_file(path, "cemara", commit=True, batch_size=3)
    assert summary.counts[Outcome.CREATED] == 12, summary.line()
    started = [n for kind, n in events if kind == "start"]
    committed = [n for kind, n in events if kind == "committed"]
    assert len(committed) == 4 and committed == sorted(committed) == sorted(started)
    # The second batch started before the first was committed.
    assert events.index(("start", committed[1])) < events.index(("committed", committed[0]))
    seen = [n for kind, n in events if kind == "rows seen"]
    assert seen[0] >= 3 and seen == sorted(seen)
    assert ImportRun.objects.get().checkpoint == committed[-1]


def test_it_refreshes_the_planner_statistics_as_the_tables_grow(world, orphanet_codes, tmp_path,
                                                               monkeypatch):
    _reset()  # TRUNCATE: the tables have no statistics
    monkeypatch.setattr(engine, "ANALYZE_FROM", 3)
    service.import_file(write(tmp_path / "a.csv", ROWS), "cemara", commit=True, batch_size=3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
                       [["records_patient", "imports_importedrecord", "records_careepisode", "lists_entry"]])
        reltuples = dict(cursor.fetchall())
    # Analyzed after 3 rows, then 6 (doubling): the patients of the first two batches at least.
    assert reltuples["records_patient"] >= 3 and reltuples["imports_importedrecord"] >= 3
    assert reltuples["records_careepisode"] >= 3 and reltuples["lists_entry"] >= 3


def test_it_waits_for_the_tables_to_double_before_refreshing_large_ones(
        world, orphanet_codes, tmp_path, monkeypatch):
    _reset()
    service.import_file(write(tmp_path / "a.csv", ROWS), "cemara", commit=True, batch_size=3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE records_patient")
    assert engine._estimated_rows(Patient) == Patient.objects.count() > 0

    refreshed: list[int] = []
    real = engine.Importer._statistics

    def statistics(self, rows):
        before = self._analyze_at
        real(self, rows)
        if self._analyze_at != before:
            refreshed.append(self._committed_rows)
    monkeypatch.setattr(engine.Importer, "_statistics", statistics)
    monkeypatch.setattr(engine, "ANALYZE_FROM", 3)
    rows = [row | {"ID_PATIENT": f"B{row['ID_PATIENT']}"} for row in ROWS]
    # A table of 10 million patients: this run's rows change nothing to its statistics.
    monkeypatch.setattr(engine, "_estimated_rows", lambda model: 10_000_000)
    service.import_file(write(tmp_path / "b.csv", rows), "cemara", commit=True, batch_size=3)
    assert refreshed == []
    # An empty one: the first refresh after ANALYZE_FROM rows.
    monkeypatch.setattr(engine, "_estimated_rows", lambda model: 0)
    rows = [row | {"ID_PATIENT": f"C{row['ID_PATIENT']}"} for row in ROWS]
    service.import_file(write(tmp_path / "c.csv", rows), "cemara", commit=True, batch_size=3)
    assert refreshed and refreshed[0] == 3
