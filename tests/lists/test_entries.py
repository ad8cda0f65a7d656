"""The patient-list table stays equal to its definition (care episodes joined to their
patients) through every way the records are written: the ORM, queryset updates and deletes,
bulk inserts, raw SQL, merges and their undoing, and a migration that lost the triggers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from bamara.identity.merge import merge, unmerge
from bamara.lists import entries
from bamara.lists.models import Entry, EntryDiagnosis
from bamara.records.models import CareEpisode, Diagnosis, Patient
from bamara.sdm import oids
from tests.factories import make_patient


def _rows(sql: str) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {tuple(row) for row in cursor.fetchall()}


def expected() -> set[tuple]:
    """The entries as defined: one per care episode, with its patient's columns; and the
    listed patients' diagnoses, once per site where they are listed."""
    diagnosis = ", ".join(f"d.{c}" for c in entries.DIAGNOSIS_COLUMNS)
    return _rows(f"SELECT {entries._select('e', 'p')} FROM records_careepisode e "
                 "JOIN records_patient p ON p.id = e.patient_id") | _rows(
        f"SELECT e.site_id, d.patient_id, d.id, {diagnosis} FROM records_careepisode e "
        "JOIN records_diagnosis d ON d.patient_id = e.patient_id")


def stored() -> set[tuple]:
    return _rows(f"SELECT {', '.join(entries.ALL)} FROM lists_entry") | _rows(
        f"SELECT site_id, patient_id, diagnosis_id, {', '.join(entries.DIAGNOSIS_COLUMNS)} FROM lists_entrydiagnosis")


def test_it_has_one_entry_per_care_episode(world):
    assert Entry.objects.count() == CareEpisode.objects.count() > 0
    assert EntryDiagnosis.objects.count() > 0
    assert stored() == expected()


def test_it_follows_diagnoses_written_and_removed(world):
    from bamara.records.models import Diagnosis
    from bamara.sdm import oids

    patient = world.patients["own"]
    added = Diagnosis.objects.create(patient=patient, disease_code="48", disease_system=oids.ORPHA)
    assert set(EntryDiagnosis.objects.filter(diagnosis=added).values_list("site_id", flat=True)) == set(
        CareEpisode.objects.filter(patient=patient).values_list("site_id", flat=True))
    Diagnosis.objects.filter(pk=added.pk).update(status_code="410605003", clinical_diagnosis_age_code="x")
    assert stored() == expected()
    added.delete()
    assert not EntryDiagnosis.objects.filter(diagnosis_id=added.pk).exists()
    assert stored() == expected()


def test_it_follows_a_patient_saved_with_the_orm(world):
    patient = world.patients["own"]
    patient.birth_name, patient.deceased, patient.residence_commune = "LEFÈVRE-MARTIN", True, "2A004"
    patient.save()
    row = Entry.objects.get(patient=patient, site=world.own)
    assert (row.birth_name, row.deceased, row.residence_commune) == ("LEFÈVRE-MARTIN", True, "2A004")
    assert row.updated_at == Patient.objects.get(pk=patient.pk).updated_at
    assert stored() == expected()


def test_it_follows_queryset_updates_and_deletes(world):
    Patient.objects.filter(pk=world.patients["own"].pk).update(sex_code="M", opposition=True,
                                                               birth_date=dt.date(1999, 1, 1))
    CareEpisode.objects.filter(site=world.own).update(inclusion_date=dt.date(2021, 3, 4))
    moved = CareEpisode.objects.filter(site=world.sibling).first()
    CareEpisode.objects.filter(pk=moved.pk).update(site=world.far)
    assert stored() == expected()
    CareEpisode.objects.filter(site=world.own).delete()
    assert not Entry.objects.filter(site=world.own).exists()
    assert stored() == expected()


def test_it_follows_bulk_inserts_and_raw_sql(world):
    patient = make_patient("NOUVEAU", [world.own])
    CareEpisode.objects.bulk_create([CareEpisode(patient=patient, site=world.sibling)])
    assert Entry.objects.filter(patient=patient).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("UPDATE records_patient SET first_birth_given_name = %s WHERE id = %s", ["Zoé", patient.pk])
        cursor.execute("DELETE FROM records_careepisode WHERE patient_id = %s AND site_id = %s",
                       [patient.pk, world.own.pk])
    assert set(Entry.objects.filter(patient=patient).values_list("site_id", "first_birth_given_name")) == {
        (world.sibling.pk, "Zoé")}
    assert stored() == expected()


def test_it_forgets_a_deleted_patient(world):
    patient = world.patients["own"]
    patient.delete()
    assert not Entry.objects.filter(patient_id=patient.pk).exists()
    assert stored() == expected()


def test_it_follows_a_merge_and_its_undoing(world):
    kept = world.patients["own"]
    other = make_patient("LEFEBVRE", [world.own, world.sibling], given="Léa", born="2015-12-03")
    before = stored()
    row = merge(kept, other, world.users["referent"])
    assert stored() == expected()
    assert not Entry.objects.filter(patient=other).exists()
    unmerge(row, world.users["referent"])
    assert stored() == expected()
    updated_at = entries.ALL.index("updated_at")  # the undoing is a new write of both records
    assert {r[:updated_at] + r[updated_at + 1:] for r in stored()} == {
        r[:updated_at] + r[updated_at + 1:] for r in before}


def test_it_rebuilds_the_table_when_a_trigger_was_lost(world):
    # What SQLite does to a table's triggers when a migration rebuilds the table.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER lists_entry_episode_ins ON records_careepisode")
        else:
            cursor.execute("DROP TRIGGER lists_entry_episode_ins")
    make_patient("SANSLIGNE", [world.own])
    assert stored() != expected()
    assert entries.install() is True
    assert entries.installed() == entries.expected_names(connection.vendor)
    assert stored() == expected()
    make_patient("AVECLIGNE", [world.own])
    assert stored() == expected()
    assert entries.install() is False  # nothing missing: nothing rebuilt


def test_it_is_rebuilt_by_the_command(world):
    with connection.cursor() as cursor:  # as a restore with the triggers off would leave it
        cursor.execute("DELETE FROM lists_entrydiagnosis")
        cursor.execute("DELETE FROM lists_entry")
    from django.core.management import call_command

    call_command("refresh_lists", verbosity=0)
    assert stored() == expected() and Entry.objects.count() == CareEpisode.objects.count()


def test_it_clears_the_stored_completeness_when_the_record_changes(world):
    from bamara.records.models import Activity, ActivityObjective, ClinicalSign, Diagnosis

    patient = world.patients["own"]

    def stored_value() -> int | None:
        return Entry.objects.get(patient=patient, site=world.own).completeness

    def fill() -> int:
        return entries.fill_completeness(world.own.pk, [patient.pk])[patient.pk]

    first = fill()
    assert stored_value() == first
    diagnosis = Diagnosis.objects.filter(patient=patient).first()
    activity = Activity.objects.filter(patient=patient).first()
    writes = [
        lambda: Patient.objects.filter(pk=patient.pk).update(phone="0102030405"),
        lambda: CareEpisode.objects.filter(patient=patient).update(referent_name="Dr Martin"),
        lambda: ClinicalSign.objects.create(diagnosis=diagnosis, sign_code="HP:0002110", sign_system="x"),
        lambda: ClinicalSign.objects.filter(diagnosis=diagnosis).delete(),
        lambda: ActivityObjective.objects.create(activity=activity, objective_code="x", objective_system="y"),
        lambda: Diagnosis.objects.filter(pk=diagnosis.pk).update(status_code="410605003"),
        lambda: Activity.objects.filter(pk=activity.pk).delete(),
    ]
    for write in writes:
        fill()
        assert stored_value() is not None
        write()
        assert stored_value() is None, write
    # Recomputed from the changed record: the same function the record page uses.
    from bamara.records.completeness import completeness

    assert fill() == completeness(Patient.objects.get(pk=patient.pk), [world.own]).mandatory_percent


def test_it_lists_with_the_stored_completeness(world, client):
    from django.urls import reverse

    from bamara.accounts.testing import login_verified

    login_verified(client, world.users["saisie"])
    response = client.get(reverse("lists:patients"))
    assert response.status_code == 200
    shown = {row["patient"].pk: row["completeness"] for row in response.context["rows"]}
    stored_values = dict(Entry.objects.filter(site=world.own).values_list("patient_id", "completeness"))
    assert shown and all(stored_values[pk] == value is not None for pk, value in shown.items())


@pytest.mark.django_db(transaction=True)  # SQLite alters schemas only outside a transaction
def test_it_leaves_no_trigger_behind_when_migrated_back(world):
    from django.core.management import call_command

    call_command("migrate", "lists", "0001", verbosity=0)
    try:
        assert entries.installed() == set()
        make_patient("SANSTABLE", [world.own])  # writes still work without the table
    finally:
        call_command("migrate", verbosity=0)
    assert entries.installed() == entries.expected_names(connection.vendor)
    assert stored() == expected()


def test_it_names_a_large_code_set_by_key(world):
    from bamara.lists.filters import LARGE_SET, code_set
    from bamara.lists.models import CodeSet

    assert code_set("orphanet", 586, [586, 48]) == ["48", "586"]
    codes = range(1, LARGE_SET + 50)
    subquery = code_set("orphanet", 98053, codes)
    assert sorted(subquery.values_list("code", flat=True), key=int) == [str(c) for c in codes]
    code_set("orphanet", 98053, codes)  # stored once
    assert CodeSet.objects.count() == len(codes)


def test_it_does_not_store_a_completeness_computed_while_the_record_changed(world, monkeypatch):
    from bamara.records import completeness as module
    from bamara.records.models import Diagnosis

    patient = world.patients["own"]
    real = module.completeness

    def changed_meanwhile(record, sites=None):
        value = real(record, sites)
        Diagnosis.objects.filter(patient_id=record.pk).update(status_code="410605003")  # another writer
        return value

    monkeypatch.setattr(module, "completeness", changed_meanwhile)
    shown = entries.fill_completeness(world.own.pk, [patient.pk])
    assert shown[patient.pk] is not None
    assert Entry.objects.get(patient=patient, site=world.own).completeness is None  # not stored
    monkeypatch.setattr(module, "completeness", real)
    assert entries.fill_completeness(world.own.pk, [patient.pk])[patient.pk] == Entry.objects.get(
        patient=patient, site=world.own).completeness


def _sequential_scans(tables: list[str]) -> dict[str, int]:
    """This transaction's sequential scans of each table (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
                       [tables])
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's set-based triggers")
def test_it_reads_what_a_batch_touches_by_index_not_whole_tables(world):
    # A plain join of a batch with a table of this size was planned as a hash join over the
    # whole table, once per statement: an import slowed down as the tables grew.
    patients = Patient.objects.bulk_create(
        Patient(hospital=world.own.hospital, birth_name=f"NOM{n}", first_birth_given_name="Léa",
                sex_code="F") for n in range(4000))
    CareEpisode.objects.bulk_create(CareEpisode(patient=p, site=world.own) for p in patients)
    Diagnosis.objects.bulk_create(
        Diagnosis(patient=p, disease_code="558", disease_system=oids.ORPHA) for p in patients[1500:])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE records_patient, records_careepisode, lists_entry, records_diagnosis")
    tables = ["records_patient", "records_careepisode", "lists_entry", "records_diagnosis"]
    before = _sequential_scans(tables)
    batch = patients[:1500]
    CareEpisode.objects.bulk_create(CareEpisode(patient=p, site=world.sibling) for p in batch)
    Diagnosis.objects.bulk_create(
        Diagnosis(patient=p, disease_code="586", disease_system=oids.ORPHA) for p in batch)
    assert _sequential_scans(tables) == before
    assert stored() == expected()
