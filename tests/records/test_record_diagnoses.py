"""Diagnoses of the record: several, each with its own status, ages and description."""

from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import Diagnosis, Foetus, Gene, Pregnancy
from bamara.sdm import oids

HTMX = {"HTTP_HX_REQUEST": "true"}
POSTNATAL, NEONATAL, UNDETERMINED, FOETAL = "767023003", "255407002", "373068000", "303112003"
CONFIRMED, IN_PROGRESS = "255545003", "385651009"


def diagnosis(**values):
    data = {"status": CONFIRMED, "date": "2021", "disease": "ORPHA:586", "complex_non_rare": "non",
            "onset_age": NEONATAL, "clinical_diagnosis_age": POSTNATAL, "clinical_diagnosis_age_value": "2",
            "clinical_diagnosis_age_unit": "a", "genetic_diagnosis_age": UNDETERMINED}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def add(client, patient, data, **extra):
    return client.post(f"/patients/{patient.pk}/dossier/diagnostics/ajouter/", data, **extra)


def test_it_records_two_diagnoses_with_their_own_status_and_ages(saisie, world):
    patient = world.patients["own"]
    patient.diagnoses.all().delete()
    first = add(saisie, patient, diagnosis())
    second = add(saisie, patient, diagnosis(
        status=IN_PROGRESS, disease="", onset_age=POSTNATAL, onset_age_value="18", onset_age_unit="mo",
        clinical_diagnosis_age=UNDETERMINED, clinical_diagnosis_age_value="", clinical_diagnosis_age_unit="",
        signs="HP:0001250; ORPHA:98006; E84.0"))
    assert first.status_code == second.status_code == 302
    confirmed, ongoing = Diagnosis.objects.filter(patient=patient).order_by("pk")
    assert (confirmed.status_code, confirmed.status_system) == (CONFIRMED, oids.SNOMED_CT)
    assert (confirmed.disease_code, confirmed.disease_system) == ("586", oids.ORPHA)
    assert (confirmed.onset_age_code, confirmed.clinical_diagnosis_age_code) == (NEONATAL, POSTNATAL)
    assert (confirmed.clinical_diagnosis_age_value, confirmed.clinical_diagnosis_age_unit) == (2, "a")
    assert confirmed.date_partial.isoformat() == "2021"
    assert (ongoing.status_code, ongoing.disease_code) == (IN_PROGRESS, "")
    assert (ongoing.onset_age_code, ongoing.onset_age_value, ongoing.onset_age_unit) == (POSTNATAL, 18, "mo")
    assert sorted((s.sign_code, s.sign_system, s.kind) for s in ongoing.signs.all()) == [
        ("98006", oids.ORPHA_GROUPS, "description"), ("E840", oids.CIM10, "description"),
        ("HP:0001250", oids.HPO, "description")]
    creations = AuditEvent.objects.filter(action="create", object_type="records.Diagnosis")
    assert sorted(e.object_id for e in creations) == sorted([str(confirmed.pk), str(ongoing.pk)])
    assert {e.patient_id for e in creations} == {patient.pk}
    page = unescape(saisie.get(f"/patients/{patient.pk}/").content.decode())
    assert "diagnostic définitif" in page and "en cours d'exécution" in page
    assert "période de la vie entre la naissance et la mort : 18 mois" in page


def test_it_edits_a_diagnosis_and_audits_the_changed_fields(saisie, world):
    patient = world.patients["own"]
    row = patient.diagnoses.get()
    before = AuditEvent.objects.count()
    response = saisie.post(f"/patients/{patient.pk}/dossier/diagnostics/{row.pk}/modifier/",
                           diagnosis(status="723511001"), **HTMX)
    assert response.status_code == 200 and "réfuté" in response.content.decode()
    row.refresh_from_db()
    assert row.status_code == "723511001"
    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert len(events) == 1 and events[0].action == "update" and events[0].object_id == str(row.pk)
    assert events[0].changes["status_code"] == [CONFIRMED, "723511001"]


def test_it_deletes_a_diagnosis_after_confirmation(saisie, world):
    patient = world.patients["own"]
    row = patient.diagnoses.get()
    url = f"/patients/{patient.pk}/dossier/diagnostics/{row.pk}/supprimer/"
    assert "Supprimer" in saisie.get(url).content.decode()
    assert Diagnosis.objects.filter(pk=row.pk).exists()
    before = AuditEvent.objects.count()
    response = saisie.post(url)
    assert response.status_code == 302
    assert not Diagnosis.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.first()
    assert (event.action, event.patient_id, event.object_id) == ("delete", patient.pk, str(row.pk))
    assert event.changes["disease_code"] == ["586", None]


def test_it_wants_a_disease_code_unless_the_diagnosis_is_being_made(saisie, world):
    patient = world.patients["own"]
    response = add(saisie, patient, diagnosis(disease=""))
    assert "Le code de la maladie est obligatoire" in unescape(response.content.decode())
    assert add(saisie, patient, diagnosis(disease="", status=IN_PROGRESS)).status_code == 302


def test_it_blocks_a_clinical_diagnosis_before_the_first_signs(saisie, world):
    patient = world.patients["own"]
    data = diagnosis(onset_age=POSTNATAL, onset_age_value="5", onset_age_unit="a", clinical_diagnosis_age=NEONATAL,
                     clinical_diagnosis_age_value="", clinical_diagnosis_age_unit="")
    response = add(saisie, patient, data, **HTMX)
    html = unescape(response.content.decode())
    assert "est antérieur à l'âge aux premiers signes" in html
    assert 'id="id_clinical_diagnosis_age-error"' in html
    assert 'value="5"' in html  # nothing typed is lost
    assert patient.diagnoses.count() == 1


def test_it_codes_a_complex_non_rare_disease_in_cim10_only(saisie, world):
    patient = world.patients["own"]
    response = add(saisie, patient, diagnosis(disease="E11.9"))
    assert "n'est permis que pour une maladie complexe non rare" in unescape(response.content.decode())
    assert add(saisie, patient, diagnosis(disease="E11.9", complex_non_rare="oui")).status_code == 302
    row = patient.diagnoses.order_by("pk").last()
    assert (row.disease_code, row.disease_system, row.complex_non_rare) == ("E119", oids.CIM10, True)


def test_it_records_genes_and_techniques(saisie, world):
    patient = world.patients["own"]
    response = add(saisie, patient, diagnosis(genes="HGNC:1884 CFTR; scn1a", techniques=["MED-083", "GEN-092.04.17"],
                                              techniques_detail="Panel maison"))
    assert response.status_code == 302
    row = patient.diagnoses.order_by("pk").last()
    assert sorted((g.gene_code, g.symbol) for g in Gene.objects.filter(diagnosis=row)) == [
        ("", "SCN1A"), ("HGNC:1884", "CFTR")]
    assert sorted((t.technique_code, t.detail) for t in row.techniques.all()) == [
        ("GEN-092.04.17", "Panel maison"), ("MED-083", "")]


def test_it_says_in_french_when_a_typed_code_is_not_a_code(saisie, world):
    patient = world.patients["own"]
    response = add(saisie, patient, diagnosis(signs="HP:0001250; pas un code"))
    html = unescape(response.content.decode())
    assert "« pas un code » n'est pas un code reconnu." in html
    assert 'value="HP:0001250; pas un code"' in html


def test_it_offers_the_foetuses_of_a_pregnant_patient(saisie, world):
    patient = world.patients["own"]
    url = f"/patients/{patient.pk}/dossier/diagnostics/ajouter/"
    assert 'name="foetus"' not in saisie.get(url).content.decode()
    pregnancy = Pregnancy.objects.create(patient=patient, foetus_count=1)
    foetus = Foetus.objects.create(pregnancy=pregnancy, mother=patient, local_id="F-1", rank=1)
    assert 'name="foetus"' in saisie.get(url).content.decode()
    assert add(saisie, patient, diagnosis(onset_age=FOETAL, foetus=str(foetus.pk))).status_code == 302
    assert patient.diagnoses.order_by("pk").last().foetus == foetus
