"""Bulk load (``bamara import --commit --bulk``, bulk.py): the same database as a normal commit,
every index and foreign key back, nothing left by a failure."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from bamara.imports import bulk, engine, fakes, service
from bamara.imports.models import ImportRun, Outcome, RunStatus
from bamara.lists.models import Entry
from bamara.records.models import Patient
from tests.imports.test_engine import ROW, write
from tests.imports.test_resume import SITES, VOLATILE

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="bulk load: PostgreSQL")


class Rollback(Exception):
    pass


def _export(tmp_path, orphanet_codes, patients: int = 150):
    active, inactive = orphanet_codes
    path = tmp_path / "cemara.csv"
    fakes.generate(path, patients, sites=SITES, active_codes=active, inactive_codes=inactive,
                   rate=0.04, seed=5)
    return path


def _schema() -> set[tuple]:
    """Every index and constraint of the tables a bulk load touches, as PostgreSQL defines them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
                       [list(bulk.TABLES)])
        indexes = set(cursor.fetchall())
        cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
                       "condeferrable, condeferred, convalidated FROM pg_constraint "
                       "WHERE conrelid::regclass::text = ANY(%s)", [list(bulk.TABLES)])
        return indexes | set(cursor.fetchall())


def _disabled_triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'")
        return {name for (name,) in cursor.fetchall()}


def _sequences() -> list[tuple[str, int, bool]]:
    """The sequences of the tables written, with their state."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                       "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' "
                       "AND t.relname = ANY(%s)",
                       [[*bulk.TABLES, "imports_importrun", "identity_duplicatecandidate"]])
        found = []
        for (sequence,) in cursor.fetchall():
            cursor.execute(f'SELECT last_value, is_called FROM "{sequence}"')
            found.append((sequence, *cursor.fetchone()))
        return found


def _restore(sequences: list[tuple[str, int, bool]]) -> None:
    with connection.cursor() as cursor:
        for sequence, value, called in sequences:
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, value, called])


def _rolled_back(load):
    """What ``load()`` returns, in a transaction then rolled back, the sequences put back as
    they were (so that a load afterwards draws the same ids again)."""
    sequences, result = _sequences(), None
    try:
        with transaction.atomic():
            result = load()
            raise Rollback
    except Rollback:
        pass
    _restore(sequences)
    return result


def _dump() -> dict[str, list[tuple]]:
    """The rows of every table written, without what differs by nature (uuids, clocks)."""
    result = {}
    with connection.cursor() as cursor:
        for table in (*bulk.TABLES, "imports_importrun"):
            cursor.execute("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = %s ORDER BY ordinal_position", [table])
            kept = [c for (c,) in cursor.fetchall() if c not in VOLATILE
                    # Written by the list triggers, in the order of their join's plan and,
                    # with two writers (engine._pipeline), of the transactions.
                    and not (table.startswith("lists_") and c == "id")]
            cursor.execute(f"SELECT {', '.join(kept)} FROM {table}")
            result[table] = sorted(cursor.fetchall(), key=repr)
    return result


@on_postgresql
@pytest.mark.parametrize(("pipelined", "workers"), [(None, 0), (False, 0), (None, 1)],
                         ids=["pipelined", "sequential", "worker-process"])
def test_it_writes_what_a_normal_commit_writes(world, orphanet_codes, tmp_path, pipelined,
                                               workers):
    path = _export(tmp_path, orphanet_codes)
    patients = Patient.objects.count()

    def load():
        _, summary = service.import_file(path, "cemara", commit=True, batch_size=40)
        return summary, _dump(), _sequences()

    normal, expected, expected_sequences = _rolled_back(load)  # then the same ids again
    assert Patient.objects.count() == patients
    _, summary = service.import_file(path, "cemara", commit=True, batch_size=40, bulk=True,
                                     pipelined=pipelined, workers=workers)
    # Ids counted by the pipelined load (writer.Table.counting): the sequences end as drawn.
    assert sorted(_sequences()) == sorted(expected_sequences)
    assert summary.counts == normal.counts and summary.pairs == normal.pairs
    assert summary.counts[Outcome.CREATED] > 100 and summary.counts[Outcome.FEDERATED] > 0
    assert summary.counts[Outcome.REJECTED] > 0
    actual = _dump()
    assert actual["lists_entry"] and actual["lists_entrydiagnosis"]  # written by the triggers
    assert actual == expected


@on_postgresql
def test_it_drops_the_indexes_and_foreign_keys_while_it_loads_and_restores_them(
        world, orphanet_codes, tmp_path, monkeypatch):
    before = _schema()
    during, suspended = [], []
    write_batch = engine.Importer._write

    def spy(self, plan, *args):
        during.append(_schema())
        suspended.append(_disabled_triggers())
        return write_batch(self, plan, *args)

    monkeypatch.setattr(engine.Importer, "_write", spy)
    service.import_file(_export(tmp_path, orphanet_codes, 40), "cemara", commit=True, bulk=True,
                        batch_size=20)
    assert during and all(schema == during[0] for schema in during)
    gone = before - during[0]
    assert len([item for item in gone if "FOREIGN KEY" in item[2]]) >= 10  # the bookkeeping and name-key tables have none (imports/0003, records/0009)
    assert any(item[1] == "records_patient_birth_date_65717f26" for item in gone)
    assert any(item[1] == "records_activity_uuid_key" for item in gone)
    kept = {item[1] for item in during[0]}
    # What the load reads itself stays.
    assert {"importedrecord_one_key", "records_patient_pkey", "one_episode_per_site",
            "patient_national_id", "patient_ipp"} <= kept
    assert _schema() == before
    # The list's INSERT triggers suspended (entries.suspended), its UPDATE and DELETE ones kept.
    assert suspended[0] == {"lists_entry_patient_ins", "lists_entry_episode_ins",
                            "lists_entry_diagnosis_ins", "lists_entry_listed",
                            "lists_entry_c_diagnosis_ins", "lists_entry_c_activity_ins"}
    assert _disabled_triggers() == set()


@on_postgresql
def test_it_catches_the_list_up_as_its_triggers_would_for_stored_records(
        world, orphanet_codes, tmp_path):
    """Stored patients given new care episodes, diagnoses and activities by a bulk load: the
    entries, listed diagnoses and cleared completeness that the suspended triggers would have
    written, as two normal commits write them."""
    path = _export(tmp_path, orphanet_codes)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = tmp_path / "first.csv"
    first.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    patients = Patient.objects.count()

    def load(**options):
        service.import_file(first, "cemara", commit=True, batch_size=40)
        Entry.objects.update(completeness=50)  # computed, as a list page leaves it
        _, summary = service.import_file(path, "cemara", commit=True, batch_size=40, **options)
        return summary, _dump()

    normal, expected = _rolled_back(load)
    assert Patient.objects.count() == patients
    summary, actual = load(bulk=True)
    assert summary.counts == normal.counts
    assert summary.counts[Outcome.FEDERATED] > 0 and summary.counts[Outcome.UNCHANGED] > 50
    # Federated into stored records: some entries cleared, the others' values kept.
    assert {50, None} <= set(Entry.objects.values_list("completeness", flat=True))
    assert actual == expected


@on_postgresql
def test_it_leaves_nothing_when_it_fails_and_loads_again_on_resume(
        world, orphanet_codes, tmp_path, monkeypatch):
    path = _export(tmp_path, orphanet_codes, 60)
    before, patients = _schema(), Patient.objects.count()
    calls = []
    write_batch = engine.Importer._write

    def failing(self, plan, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("coupure")
        return write_batch(self, plan, *args)

    monkeypatch.setattr(engine.Importer, "_write", failing)
    with pytest.raises(RuntimeError, match="coupure"):
        service.import_file(path, "cemara", commit=True, bulk=True, batch_size=20)
    run = ImportRun.objects.get()
    assert (run.status, run.checkpoint) == (RunStatus.RUNNING, 0)
    assert Patient.objects.count() == patients
    assert _schema() == before

    monkeypatch.setattr(engine.Importer, "_write", write_batch)
    resumed, summary = service.import_file(path, "cemara", commit=True, bulk=True, batch_size=20)
    assert resumed.pk == run.pk and resumed.status == RunStatus.DONE
    with open(path, encoding="utf-8") as handle:
        assert summary.counts["read"] == sum(1 for _ in handle) - 1
    assert Patient.objects.count() == patients + summary.counts[Outcome.CREATED]
    assert _schema() == before


@on_postgresql
def test_it_writes_a_batch_from_another_thread_while_it_plans_the_next(
        world, orphanet_codes, tmp_path, monkeypatch):
    """The writer thread sends batch 1 on the load's connection while this thread plans batch
    2; without the thread, batch 2 is never planned during the send and the wait times out."""
    planned, seen = threading.Event(), []
    send, plan = engine._send_on, engine.Importer._plan

    def slow_send(raw, steps):
        seen.append((threading.current_thread().name, planned.wait(10)))
        send(raw, steps)

    def spy_plan(self, batch, *args):
        if batch[0].number > 20:
            planned.set()
        return plan(self, batch, *args)

    monkeypatch.setattr(engine, "_send_on", slow_send)
    monkeypatch.setattr(engine.Importer, "_plan", spy_plan)
    _, summary = service.import_file(_export(tmp_path, orphanet_codes, 60), "cemara", commit=True,
                                     bulk=True, batch_size=20)
    assert summary.counts[Outcome.CREATED] > 50
    assert seen[0][0].startswith("bamara-bulk") and seen[0][1] is True


@on_postgresql
def test_it_leaves_nothing_when_the_writer_thread_fails(world, orphanet_codes, tmp_path,
                                                       monkeypatch):
    before, patients, sequences = _schema(), Patient.objects.count(), _sequences()
    calls, send = [], engine._send_on

    def failing(raw, steps):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("coupure")
        send(raw, steps)

    monkeypatch.setattr(engine, "_send_on", failing)
    with pytest.raises(RuntimeError, match="coupure"):
        service.import_file(_export(tmp_path, orphanet_codes, 60), "cemara", commit=True,
                            bulk=True, batch_size=20)
    assert Patient.objects.count() == patients and _schema() == before
    assert ImportRun.objects.get().checkpoint == 0
    # The tables whose ids the load counts: their sequences as they were (the run itself, and
    # the list triggers' rows rolled back, drew from theirs).
    def counted(found):
        return [s for s in found if "importrun" not in s[0] and not s[0].startswith("lists_")]

    assert counted(_sequences()) == counted(sequences)


@on_postgresql
def test_it_refuses_to_wait_for_tables_in_use(world, orphanet_codes, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "LOCK_TIMEOUT", "200ms")
    patients = Patient.objects.count()
    settings = connection.settings_dict
    other = psycopg.connect(dbname=settings["NAME"], user=settings["USER"],
                            host=settings["HOST"] or None, port=settings["PORT"] or None)
    try:
        other.execute("LOCK TABLE records_patient IN ACCESS SHARE MODE")  # a reader
        with pytest.raises(engine.ImportFailure, match="en cours d'utilisation"):
            service.import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=True, bulk=True)
    finally:
        other.close()
    assert Patient.objects.count() == patients


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's answer")
def test_it_says_that_bulk_loads_need_postgresql(world, orphanet_codes, tmp_path):
    with pytest.raises(CommandError, match="n'existe que sur PostgreSQL"):
        call_command("import", str(write(tmp_path / "a.csv", [ROW])), "--mapping", "cemara",
                     "--commit", "--bulk", "--no-report")
    assert not ImportRun.objects.exists()


def test_it_says_that_a_bulk_load_is_a_commit(world, orphanet_codes, tmp_path):
    with pytest.raises(CommandError, match="qu'avec --commit"):
        call_command("import", str(write(tmp_path / "a.csv", [ROW])), "--mapping", "cemara",
                     "--bulk", "--no-report")
