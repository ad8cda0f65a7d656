"""Editing the record-level sections of the record page (forms generated from the SDM-MR)."""

import re
from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import Patient
from bamara.sdm import oids

HTMX = {"HTTP_HX_REQUEST": "true"}

VALID = {
    "opposition": {"opposition": "non", "patient_informed": "oui", "patient_informed_on": "2024-02-01"},
    "identification": {"ins": "", "ins_status": "provisoire", "ipp": "IPP-123"},
    "administratif": {"birth_name": "Lefevre", "first_birth_given_name": "Léa", "birth_date": "12/03/2015",
                      "sex": "F", "used_name": "Martin", "residence_commune": "75056", "residence_country": "FR",
                      "multiple_birth": "oui", "multiple_birth_rank": "2", "representative_relation": "MTH",
                      "gp_rpps": "10001234567"},
    "famille": {"consanguinity": "non", "first_case_relation": "BRO", "first_case_sex": "M",
                "first_case_identifier": "IPP-999", "first_case_diseases": "ORPHA:586; 79318"},
    "statut-vital": {"deceased": "vivant", "lost_to_follow_up": "non", "clinical_status": "27624003"},
    "ante-neonatal": {"assisted_reproduction": "non", "birth_weight_g": "3200", "birth_length_cm": "49,5",
                      "antenatal_malformation": "373067005"},
    "recherche": {"research_contact_agreement": "oui", "sample_for_research": "inconnu", "biobanks": "CRB Necker"},
}
EXPECTED = {
    "opposition": lambda p: p.patient_informed is True and str(p.patient_informed_on) == "2024-02-01",
    "identification": lambda p: p.ipp == "IPP-123" and p.ins_status == "provisoire",
    "administratif": lambda p: (p.used_name == "MARTIN" and p.residence_commune == "75056" and p.multiple_birth_rank == 2
                                and p.representative_relation_code == "MTH" and p.gp_rpps == "10001234567"),
    "famille": lambda p: (p.consanguinity == "non" and p.first_case_relation_code == "BRO"
                          and p.first_case_relation_system == oids.HL7_ROLE_CODE
                          and sorted(p.first_case_diseases.values_list("orpha_code", flat=True)) == [586, 79318]),
    "statut-vital": lambda p: p.deceased is False and p.clinical_status_code == "27624003",
    "ante-neonatal": lambda p: p.birth_weight_g == 3200 and str(p.birth_length_cm) == "49.5"
                               and p.antenatal_malformation_code == "373067005",
    "recherche": lambda p: p.research_contact_agreement is True and p.sample_for_research is None
                           and p.biobanks == "CRB Necker",
}


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


@pytest.mark.parametrize("key", list(VALID))
def test_it_edits_each_section_and_audits_one_change(saisie, world, key):
    patient = world.patients["own"]
    url = f"/patients/{patient.pk}/dossier/{key}/modifier/"
    before = AuditEvent.objects.count()
    response = saisie.post(url, VALID[key])
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == f"/patients/{patient.pk}/#section-{key}"
    assert EXPECTED[key](Patient.objects.get(pk=patient.pk))
    events = AuditEvent.objects.all()[: AuditEvent.objects.count() - before]
    assert [(e.action, e.patient_id, e.user_id) for e in events] == [("update", patient.pk, world.users["saisie"].pk)]
    assert events[0].changes


def test_it_opens_a_form_with_htmx_and_audits_one_view(saisie, world):
    patient = world.patients["own"]
    before = AuditEvent.objects.count()
    response = saisie.get(f"/patients/{patient.pk}/dossier/statut-vital/modifier/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="section-statut-vital"' in html
    assert 'hx-post="/patients/' in html and "Date de décès" in html
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.first().action == "view"


def test_it_swaps_the_saved_section_back_with_htmx(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/recherche/modifier/", VALID["recherche"], **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "CRB Necker" in html and "Modifier" in html and "<form" not in html.split("record-completeness")[0]
    assert 'hx-swap-oob="true"' in html and "Section « Recherche » enregistrée." in html


def test_it_falls_back_to_a_full_page_without_javascript(saisie, world):
    patient = world.patients["own"]
    html = saisie.get(f"/patients/{patient.pk}/dossier/administratif/modifier/").content.decode()
    assert "<html" in html and "Retour au dossier" in html and 'method="post"' in html


def test_it_rejects_bad_input_in_french_and_keeps_what_was_typed(saisie, world):
    patient = world.patients["own"]
    data = {**VALID["ante-neonatal"], "birth_weight_g": "9000", "birth_length_cm": "49,5"}
    before = AuditEvent.objects.count()
    response = saisie.post(f"/patients/{patient.pk}/dossier/ante-neonatal/modifier/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "inférieure ou égale à 8000" in html and "fr-error-text" in html
    assert 'value="9000"' in html and 'value="49,5"' in html
    assert Patient.objects.get(pk=patient.pk).birth_weight_g is None
    assert AuditEvent.objects.count() == before + 1 and AuditEvent.objects.first().action == "view"


def test_it_blocks_an_error_of_the_validation_layer_beside_its_field(saisie, world):
    patient = world.patients["own"]  # born 12/03/2015
    data = {"deceased": "decede", "death_date": "01/01/2010", "death_related_to_rd": "non"}
    response = saisie.post(f"/patients/{patient.pk}/dossier/statut-vital/modifier/", data, **HTMX)
    html = response.content.decode()
    assert "antérieure à la date de naissance" in html
    assert 'value="01/01/2010"' in html
    assert 'id="id_death_date-error"' in html
    assert Patient.objects.get(pk=patient.pk).deceased is None


def test_it_rejects_an_impossible_date_in_french(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/administratif/modifier/",
                           {**VALID["administratif"], "birth_date": "31/02/2015"})
    html = response.content.decode()
    assert "Saisissez une date au format JJ/MM/AAAA" in html and 'value="31/02/2015"' in html


def test_it_requires_mandatory_items(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/administratif/modifier/",
                           {**VALID["administratif"], "birth_name": "", "sex": ""})
    html = response.content.decode()
    assert html.count("Ce champ est obligatoire.") >= 2
    assert Patient.objects.get(pk=patient.pk).birth_name == "LEFEVRE"


def test_it_refuses_an_ipp_of_another_record_of_the_hospital(saisie, world):
    world.patients["sibling"].ipp = "IPP-1"
    world.patients["sibling"].save()
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/identification/modifier/", {"ipp": "IPP-1"})
    assert "déjà celui d'un autre dossier" in unescape(response.content.decode())


def test_it_shows_identity_fed_by_the_ehr_read_only(saisie, world):
    patient = world.patients["own"]
    patient.source, patient.source_ref = "dpi", "DOC-42#v3"
    patient.field_sources = {"used_name": "web"}
    patient.used_name = "DURAND"
    patient.save()
    html = saisie.get(f"/patients/{patient.pk}/dossier/administratif/modifier/").content.decode()
    assert "Source : DPI (document DOC-42#v3)" in html
    birth_name = re.search(r'<input[^>]*name="birth_name"[^>]*>', html).group(0)
    used_name = re.search(r'<input[^>]*name="used_name"[^>]*>', html).group(0)
    assert "disabled" in birth_name and "disabled" not in used_name
    # A posted birth name is ignored; the used name typed here stays editable.
    response = saisie.post(f"/patients/{patient.pk}/dossier/administratif/modifier/",
                           {**VALID["administratif"], "birth_name": "AUTRE", "used_name": "Petit"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.birth_name == "LEFEVRE" and patient.used_name == "PETIT"

