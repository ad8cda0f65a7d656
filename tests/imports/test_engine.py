"""Commit, re-import, update, the site wall, XLSX input, provenance, names keys and IDMR."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook

from bamara.audit.models import Action, AuditEvent
from bamara.identity import idmr
from bamara.imports import fakes, service
from bamara.imports.models import ImportedRecord, ImportRow, Outcome
from bamara.imports.readers import ReadError
from bamara.records.models import CareEpisode, Diagnosis, Patient, PatientName
from bamara.records.search import name_rows

ROW = {
    "CENTRE": "S9001", "ID_PATIENT": "C1", "IPP": "750000001", "NOM_NAISSANCE": "MOREAU",
    "NOM_USAGE": "", "PRENOM": "Léa", "DATE_NAISSANCE": "12/03/2015", "SEXE": "F",
    "COMMUNE_NAISSANCE": "", "DATE_INCLUSION": "15/01/2020", "ORPHA_1": "ORPHA:586",
    "STATUT_DIAG_1": "confirmé", "DATE_DIAG_1": "2016", "TYPE_ACTIVITE_1": "CONSULTATION",
    "DATE_ACTIVITE_1": "02/05/2024", "INTERVENANT_1": "Dr Roux",
}


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fakes.HEADER, delimiter=";", restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_it_writes_provenance_name_keys_and_the_national_identifier(world, orphanet_codes, tmp_path):
    run, summary = service.import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=True)
    assert summary.counts[Outcome.CREATED] == 1
    patient = Patient.objects.get(birth_name="MOREAU")
    assert patient.source == "import" and patient.source_ref == f"import/{run.pk}#2"
    assert patient.capture_mode == "reprise"
    assert patient.national_id == idmr.for_patient(patient)
    keys = set(PatientName.objects.filter(patient=patient).values_list("site_id", "kind", "key"))
    assert keys == {(n.site_id, n.kind, n.key) for n in name_rows(patient, [world.own.pk])}
    assert Diagnosis.objects.get(patient=patient).source_ref == f"import/{run.pk}#2"
    assert AuditEvent.objects.filter(action=Action.IMPORT, patient_id=patient.pk).count() == 1


def test_it_changes_nothing_when_the_same_file_is_imported_again(world, orphanet_codes, tmp_path):
    path = write(tmp_path / "a.csv", [ROW, ROW | {"ID_PATIENT": "C2", "NOM_NAISSANCE": "ROUX", "IPP": "750000002"}])
    service.import_file(path, "cemara", commit=True)
    before = list(Patient.objects.values_list("pk", "updated_at").order_by("pk"))
    _, summary = service.import_file(path, "cemara", commit=True)
    assert summary.counts[Outcome.UNCHANGED] == 2 and summary.counts[Outcome.CREATED] == 0
    assert list(Patient.objects.values_list("pk", "updated_at").order_by("pk")) == before


def test_it_updates_a_changed_source_record(world, orphanet_codes, tmp_path):
    service.import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=True)
    changed = ROW | {"PRENOM": "Léonie", "ORPHA_1": "ORPHA:98896"}
    _, summary = service.import_file(write(tmp_path / "b.csv", [changed]), "cemara", commit=True)
    assert summary.counts[Outcome.UPDATED] == 1
    patient = Patient.objects.get(birth_name="MOREAU")
    assert patient.first_birth_given_name == "Léonie"
    assert list(patient.diagnoses.values_list("disease_code", flat=True)) == ["98896"]
    assert patient.national_id == idmr.for_patient(patient)  # the signals followed the save
    assert ImportedRecord.objects.count() == 1


def test_it_federates_the_same_person_at_two_sites_of_one_hospital(world, orphanet_codes, tmp_path):
    rows = [ROW, ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"},
            ROW | {"CENTRE": "S9003", "ID_PATIENT": "L1", "IPP": "690000001"}]
    _, summary = service.import_file(write(tmp_path / "a.csv", rows), "cemara", commit=True)
    assert summary.counts[Outcome.FEDERATED] == 1 and summary.counts[Outcome.CREATED] == 2
    necker = Patient.objects.get(birth_name="MOREAU", hospital=world.hospital)
    lyon = Patient.objects.get(birth_name="MOREAU", hospital=world.other_hospital)
    assert necker.national_id == lyon.national_id
    assert set(CareEpisode.objects.filter(patient=necker).values_list("site__code", flat=True)) == \
        {"S9001", "S9002"}
    assert PatientName.objects.filter(patient=necker, site=world.sibling).exists()
    federated = ImportRow.objects.get(outcome=Outcome.FEDERATED)
    message = next(m for m in federated.messages if m[2] == "doublon_federe")  # item, level, code, text, value
    assert message[4] == "ligne 2"  # the row it joins, not that row's identity


def test_it_names_the_row_joined_in_an_earlier_batch_of_a_dry_run(world, orphanet_codes, tmp_path):
    rows = [ROW, ROW | {"ID_PATIENT": "C7", "IPP": "750000007"}, ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"}]
    _, summary = service.import_file(write(tmp_path / "a.csv", rows), "cemara", commit=False, batch_size=1)
    federated = [r for r in summary.results if r.outcome == Outcome.FEDERATED]
    assert [m.value for r in federated for m in r.messages if m.code == "doublon_federe"] == ["ligne 2", "ligne 2"]


def test_it_keeps_a_referent_to_their_own_sites(world, orphanet_codes, tmp_path):
    rows = [ROW, ROW | {"CENTRE": "S9003", "ID_PATIENT": "L1", "IPP": "690000001"}]
    _, summary = service.import_file(write(tmp_path / "a.csv", rows), "cemara", commit=True,
                                     user_email=world.users["referent"].email)
    assert summary.counts[Outcome.REJECTED] == 1
    assert not Patient.objects.filter(hospital=world.other_hospital, birth_name="MOREAU").exists()
    with pytest.raises(service.ImportFailure, match="référent d'aucun site"):
        service.import_file(tmp_path / "a.csv", "cemara", commit=True,
                            user_email=world.users["saisie"].email)


def test_it_reads_xlsx_and_reports_missing_columns(world, orphanet_codes, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(fakes.HEADER)
    sheet.append([ROW.get(c, "") for c in fakes.HEADER])
    book.save(tmp_path / "a.xlsx")
    _, summary = service.import_file(tmp_path / "a.xlsx", "cemara", commit=False)
    assert summary.counts[Outcome.CREATED] == 1 and summary.counts["read"] == 1
    with open(tmp_path / "b.csv", "w", encoding="utf-8") as handle:
        handle.write("CENTRE;NOM_NAISSANCE\nS9001;X\n")
    with pytest.raises(ReadError, match="colonne\\(s\\) absente\\(s\\)"):
        service.import_file(tmp_path / "b.csv", "cemara", commit=False)
