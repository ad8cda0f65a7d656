"""Opposition chapter: information / non-opposition, objection to reuse, ERN-registry consent."""

import datetime as dt
from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import Patient, RegistryConsent

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def url(patient, tail="modifier/"):
    return f"/patients/{patient.pk}/dossier/opposition/{tail}"


def test_it_records_the_information_of_the_patient_with_its_date(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(url(patient), {"opposition": "non", "patient_informed": "oui",
                                          "patient_informed_on": "2024-03-01"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.patient_informed, patient.patient_informed_on, patient.opposition) == (
        True, dt.date(2024, 3, 1), False)


def test_it_records_an_objection_with_its_date_and_flags_the_record(saisie, world):
    patient = world.patients["own"]
    before = AuditEvent.objects.count()
    response = saisie.post(url(patient), {"opposition": "oui", "opposition_on": "2024-04-02",
                                          "patient_informed": "oui", "patient_informed_on": "2024-03-01"}, **HTMX)
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.opposition is True and patient.opposition_on == dt.date(2024, 4, 2)
    # Kept out of the national transfer: the export reads this column.
    assert Patient.objects.filter(pk=patient.pk, opposition=True).exists()
    event = AuditEvent.objects.first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, event.patient_id) == ("update", patient.pk)
    assert event.changes["opposition"] == [False, True]
    page = unescape(saisie.get(f"/patients/{patient.pk}/").content.decode())
    assert "Opposition à la réutilisation des données" in page and "02/04/2024" in page


def test_it_refuses_an_objection_date_without_objection(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(url(patient), {"opposition": "non", "opposition_on": "2024-04-02"})
    html = unescape(response.content.decode())
    assert "alors que le patient ne s'oppose pas" in html
    assert 'value="2024-04-02"' in html and 'id="id_opposition_on-error"' in html
    patient.refresh_from_db()
    assert patient.opposition_on is None


def test_it_requires_the_objection_answer(saisie, world):
    response = saisie.post(url(world.patients["own"]), {"patient_informed": "oui"})
    assert "Ce champ est obligatoire." in unescape(response.content.decode())


def test_it_adds_and_removes_an_ern_registry_consent(saisie, world):
    patient = world.patients["own"]
    add = f"/patients/{patient.pk}/dossier/consentements-ern/ajouter/"
    form = saisie.get(add).content.decode()
    assert "Consentement à la transmission vers un registre ERN" in unescape(form)
    response = saisie.post(add, {"registry": "ERN EuRREB", "consented_on": "2024-05-06"})
    assert response.status_code == 302
    consent = RegistryConsent.objects.get(patient=patient)
    assert (consent.registry, consent.consented_on, consent.source) == ("ERN EuRREB", dt.date(2024, 5, 6), "web")
    assert AuditEvent.objects.first().action == "create"
    assert "ERN EuRREB" in saisie.get(f"/patients/{patient.pk}/").content.decode()
    response = saisie.post(f"/patients/{patient.pk}/dossier/consentements-ern/{consent.pk}/supprimer/", **HTMX)
    assert response.status_code == 200 and not RegistryConsent.objects.exists()
    assert AuditEvent.objects.first().action == "delete"


def test_it_keeps_consents_of_other_records_out_of_reach(saisie, world):
    far = world.patients["far"]
    consent = RegistryConsent.objects.create(patient=far, registry="ERN ReCONNET")
    own = world.patients["own"]
    assert saisie.post(f"/patients/{own.pk}/dossier/consentements-ern/{consent.pk}/supprimer/").status_code == 404
    assert RegistryConsent.objects.filter(pk=consent.pk).exists()
