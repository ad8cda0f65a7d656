"""The commit's write path: what it reads back, and how each batch is committed."""

from __future__ import annotations

import gc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bamara.imports import engine, service
from bamara.imports.models import ImportedRecord, ImportRow, Outcome
from bamara.records.models import CareEpisode, Patient, PatientName
from bamara.records.search import name_rows
from tests.imports.test_engine import ROW, write

OTHERS = [ROW | {"ID_PATIENT": "C2", "NOM_NAISSANCE": "ROUX", "IPP": "750000002"},
          ROW | {"ID_PATIENT": "C3", "NOM_NAISSANCE": "BLANC", "IPP": "750000003"}]


def test_it_reads_back_no_patient_it_has_just_created(world, orphanet_codes, tmp_path):
    rows = [ROW, *OTHERS, ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"}]  # the last one federated
    with CaptureQueriesContext(connection) as queries:
        _, summary = service.import_file(write(tmp_path / "a.csv", rows), "cemara", commit=True,
                                         duplicates=False)
    assert summary.counts[Outcome.CREATED] == 3 and summary.counts[Outcome.FEDERATED] == 1
    read = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert not [sql for sql in read if 'FROM "records_careepisode"' in sql]
    assert not [sql for sql in read if '"records_patient"."used_given_name"' in sql]
    necker = Patient.objects.get(birth_name="MOREAU")
    assert set(PatientName.objects.filter(patient=necker).values_list("site_id", "kind", "key")) == \
        {(n.site_id, n.kind, n.key) for n in name_rows(necker, [world.own.pk, world.sibling.pk])}


def test_it_writes_the_episode_and_names_of_a_stored_patient_joined_at_another_site(
        world, orphanet_codes, tmp_path):
    service.import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=True)
    rows = [ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"}, ROW | {"ID_PATIENT": "C9"}]
    _, summary = service.import_file(write(tmp_path / "b.csv", rows), "cemara", commit=True)
    assert summary.counts[Outcome.FEDERATED] == 2
    necker = Patient.objects.get(birth_name="MOREAU")
    assert sorted(CareEpisode.objects.filter(patient=necker).values_list("site__code", flat=True)) == \
        ["S9001", "S9002"]
    assert sorted(PatientName.objects.filter(patient=necker).values_list("site_id", "kind", "key")) == \
        sorted((n.site_id, n.kind, n.key) for n in name_rows(necker, [world.own.pk, world.sibling.pk]))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL setting")
def test_it_commits_each_batch_without_waiting_for_the_wal_flush(world, orphanet_codes, tmp_path,
                                                                 monkeypatch):
    seen = []
    write_batch = engine.Importer._write

    def spy(self, plan, *args):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])
        return write_batch(self, plan, *args)

    monkeypatch.setattr(engine.Importer, "_write", spy)
    service.import_file(write(tmp_path / "a.csv", [ROW, *OTHERS]), "cemara", commit=True, batch_size=2)
    assert seen == ["off", "off"]


def test_it_makes_full_garbage_collections_rarer_while_it_commits(world, orphanet_codes, tmp_path,
                                                                  monkeypatch):
    before = gc.get_threshold()
    seen = []
    write_batch = engine.Importer._write

    def spy(self, plan, *args):
        seen.append(gc.get_threshold())
        return write_batch(self, plan, *args)

    monkeypatch.setattr(engine.Importer, "_write", spy)
    service.import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=True)
    assert seen == [(*before[:2], before[2] * 100)]
    assert gc.get_threshold() == before


def test_it_restores_the_collection_thresholds_after_overlapping_imports():
    before = gc.get_threshold()
    first, second = engine._rare_full_collections(), engine._rare_full_collections()
    first.__enter__()
    second.__enter__()  # another thread's import meanwhile
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (*before[:2], before[2] * 100)
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_it_deletes_the_bookkeeping_and_name_keys_with_their_patient(world, orphanet_codes, tmp_path):
    """No foreign-key constraints on these tables in the database (migrations imports/0003,
    records/0009): the ORM's on_delete still applies."""
    service.import_file(write(tmp_path / "a.csv", [ROW, *OTHERS]), "cemara", commit=True)
    moreau = Patient.objects.get(birth_name="MOREAU")
    assert PatientName.objects.filter(patient=moreau).exists()
    assert ImportedRecord.objects.filter(patient=moreau).exists()
    row = ImportRow.objects.get(patient=moreau)
    moreau.delete()
    assert not PatientName.objects.filter(patient_id=moreau.pk).exists()
    assert not ImportedRecord.objects.filter(patient_id=moreau.pk).exists()
    row.refresh_from_db()
    assert row.patient_id is None
    assert PatientName.objects.count() and ImportedRecord.objects.count() == 2  # the others kept


def _settings_at_look_ups(monkeypatch) -> list[tuple[str, str]]:
    """enable_seqscan and max_parallel_workers_per_gather when the planner looks a batch up."""
    seen = []
    among = engine._among

    def spy(queryset, name, values):
        if name in ("key", "national_id", "ipp"):
            seen.append(_settings())
        return among(queryset, name, values)

    monkeypatch.setattr(engine, "_among", spy)
    return seen


def _settings() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), "
                       "current_setting('max_parallel_workers_per_gather')")
        return cursor.fetchone()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL settings")
def test_it_looks_a_batch_up_by_index_within_a_callers_transaction(world, orphanet_codes, tmp_path,
                                                                  monkeypatch):
    before = _settings()
    seen = _settings_at_look_ups(monkeypatch)
    service.import_file(write(tmp_path / "a.csv", [ROW, *OTHERS]), "cemara", commit=True, batch_size=2)
    assert seen == [("off", "0")] * 6  # three look-ups per batch
    assert _settings() == before  # the rest of the transaction (a bulk load) plans as before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL settings")
@pytest.mark.django_db(transaction=True)
def test_it_looks_a_batch_up_by_index_in_a_transaction_of_its_own(world, orphanet_codes, tmp_path,
                                                                  monkeypatch):
    before = _settings()
    seen = _settings_at_look_ups(monkeypatch)
    service.import_file(write(tmp_path / "a.csv", [ROW, *OTHERS]), "cemara", commit=True, batch_size=2)
    assert seen == [("off", "0")] * 6
    assert _settings() == before and not connection.in_atomic_block
