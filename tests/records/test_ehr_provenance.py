"""Connected-mode provenance in the web forms: corrections of EHR values are marked « web »
(bamara.intake.provenance.record_web_edit) and identity traits an EHR document sent are
read-only, with the document and version they come from."""

import re

import pytest

from bamara.intake import provenance
from bamara.organisations.models import Site, SiteMembership, SiteRole, User
from bamara.records.models import Diagnosis, Patient
from tests.intake.conftest import PREGNANT, debre, example, ingest, record, requires_examples  # noqa: F401
from tests.intake.test_reconciliation import version
from tests.records.test_record_diagnoses import diagnosis as diagnosis_data

DIAGNOSIS = diagnosis_data()


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def inputs(html: str, name: str) -> list[str]:
    return re.findall(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', html)


def test_it_shows_identity_sent_by_an_ehr_on_a_web_record_read_only_with_its_document(saisie, world):
    patient = world.patients["own"]  # created on the web, then adopted by an EHR document
    patient.field_sources = {"birth_name": "dpi:1.2.250.99.1#v4", "sex": "dpi:1.2.250.99.1#v4"}
    patient.save()
    html = saisie.get(f"/patients/{patient.pk}/dossier/administratif/modifier/").content.decode()
    assert html.count("Source : DPI (document 1.2.250.99.1#v4)") == 2
    assert all("disabled" in i for i in inputs(html, "birth_name") + inputs(html, "sex"))
    assert not any("disabled" in i for i in inputs(html, "used_name") + inputs(html, "first_birth_given_name"))
    response = saisie.post(f"/patients/{patient.pk}/dossier/administratif/modifier/", {
        "birth_name": "AUTRE", "first_birth_given_name": "Léa", "birth_date": "12/03/2015", "sex": "M",
        "used_name": "Petit"})
    assert response.status_code == 302, response.content.decode()[:2000]
    patient.refresh_from_db()
    assert (patient.birth_name, patient.sex_code, patient.used_name) == ("LEFEVRE", "F", "PETIT")
    # Typed on the web and never sent by the EHR: no mark needed (the EHR only writes what it sends).
    assert "used_name" not in patient.field_sources


def test_it_keeps_a_web_record_editable_when_no_ehr_sent_it(saisie, world):
    patient = world.patients["own"]
    html = saisie.get(f"/patients/{patient.pk}/dossier/administratif/modifier/").content.decode()
    assert "Source : DPI" not in html and not any("disabled" in i for i in inputs(html, "birth_name"))


def test_it_shows_the_vital_status_sent_by_the_ehr_read_only(saisie, world):
    patient = world.patients["own"]
    patient.deceased = True
    patient.source, patient.source_ref = "dpi", "DOC-8#v1"
    patient.save()
    html = saisie.get(f"/patients/{patient.pk}/dossier/statut-vital/modifier/").content.decode()
    assert "Source : DPI (document DOC-8#v1)" in html
    assert all("disabled" in i for i in inputs(html, "deceased"))


def test_it_marks_a_correction_of_an_ehr_value_as_web(saisie, world):
    patient = world.patients["own"]
    patient.biobanks = "CRB DPI"
    patient.field_sources = {"biobanks": "dpi:DOC-7#v2", "research_contact_agreement": "dpi:DOC-7#v2"}
    patient.save()
    response = saisie.post(f"/patients/{patient.pk}/dossier/recherche/modifier/", {
        "biobanks": "CRB Necker", "research_contact_agreement": ""})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.biobanks == "CRB Necker"
    assert patient.field_sources["biobanks"] == "web"
    # Not changed (empty before and after): still the EHR's.
    assert patient.field_sources["research_contact_agreement"] == "dpi:DOC-7#v2"


def test_it_marks_a_correction_of_an_ehr_row_by_attribute_name(saisie, world):
    patient = world.patients["own"]
    diagnosis = patient.diagnoses.get()
    Diagnosis.objects.filter(pk=diagnosis.pk).update(source="dpi", source_ref="DOC-7#v2")
    response = saisie.post(f"/patients/{patient.pk}/dossier/diagnostics/{diagnosis.pk}/modifier/",
                           {**DIAGNOSIS, "comment": "Corrigé sur le web"})
    assert response.status_code == 302, response.content.decode()[:3000]
    diagnosis.refresh_from_db()
    assert diagnosis.comment == "Corrigé sur le web"
    # Keys are the attributes the intake reads and writes (composites by their name).
    assert diagnosis.field_sources["onset_age"] == diagnosis.field_sources["comment"] == "web"
    assert "onset_age_code" not in diagnosis.field_sources
    assert "status" not in diagnosis.field_sources and "disease" not in diagnosis.field_sources  # unchanged
    assert provenance.is_web_override(diagnosis, "comment")


@requires_examples
def test_it_keeps_a_web_correction_when_the_ehr_sends_a_newer_document(client, debre):  # noqa: F811
    patient = record(ingest(example(PREGNANT), debre))
    user = User.objects.create_user("arc@debre.fr", None)
    SiteMembership.objects.create(user=user, site=Site.objects.get(code="S001"), role=SiteRole.DATA_ENTRY)
    client.force_login(user)
    identity = provenance.ehr_identity(patient)
    html = client.get(f"/patients/{patient.pk}/dossier/administratif/modifier/").content.decode()
    assert f"Source : DPI (document {identity['birth_name']})" in html
    assert "disabled" in inputs(html, "birth_name")[0]
    assert patient.sample_for_research is False
    response = client.post(f"/patients/{patient.pk}/dossier/recherche/modifier/", {
        "research_contact_agreement": "oui" if patient.research_contact_agreement else "non",
        "sample_for_research": "oui",
        "sample_for_molecular_diagnosis": {True: "oui", False: "non"}.get(patient.sample_for_molecular_diagnosis, ""),
        "biobanks": patient.biobanks})
    assert response.status_code == 302, response.content.decode()[:3000]
    patient = Patient.objects.get(pk=patient.pk)
    assert patient.field_sources["sample_for_research"] == "web"
    ack = ingest(version(example(PREGNANT), 2), debre)  # still says MED-065 = false
    patient.refresh_from_db()
    assert patient.sample_for_research is True
    assert "web_kept" in [m.code for m in ack.messages]
