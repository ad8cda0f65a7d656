"""Pregnancies and foetuses of a mother's record, and the foetus's own record."""

from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import CareEpisode, Foetus, Patient, Pregnancy


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


@pytest.fixture
def pregnancy(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/grossesses/ajouter/",
                           {"start": "05/2023", "end": "02/2024", "foetus_count": "2", "assisted_reproduction": "non"})
    assert response.status_code == 302
    return Pregnancy.objects.get(patient=patient)


def add_foetus(client, patient, pregnancy, **values):
    data = {"pregnancy": str(pregnancy.pk), "local_id": "F-77", "given_name": "", "sex": "F", "multiple": "oui",
            "rank": "1", "outcome": "O04", "outcome_gestational_age_weeks": "22", "fetopathology": "oui",
            "termination_type": "IMG"}
    data.update(values)
    return client.post(f"/patients/{patient.pk}/dossier/foetus/ajouter/", data)


def test_it_records_a_pregnancy_of_the_mother(world, pregnancy):
    assert pregnancy.start_partial.isoformat() == "2023-05" and pregnancy.end_partial.isoformat() == "2024-02"
    assert (pregnancy.foetus_count, pregnancy.assisted_reproduction, pregnancy.source) == (2, False, "web")


def test_it_adds_a_foetus_to_a_pregnancy(saisie, world, pregnancy):
    patient = world.patients["own"]
    form = saisie.get(f"/patients/{patient.pk}/dossier/foetus/ajouter/?grossesse={pregnancy.pk}").content.decode()
    assert f'<option value="{pregnancy.pk}" selected>' in form
    assert add_foetus(saisie, patient, pregnancy).status_code == 302
    foetus = Foetus.objects.get(mother=patient)
    assert (foetus.pregnancy, foetus.local_id, foetus.sex_code, foetus.rank) == (pregnancy, "F-77", "F", 1)
    assert (foetus.outcome_code, foetus.outcome_gestational_age_weeks, foetus.termination_type) == ("O04", 22, "IMG")
    page = unescape(saisie.get(f"/patients/{patient.pk}/").content.decode())
    assert "Fœtus n° 1 (F-77)" in page and "Avortement médical" in page and "Créer le dossier du fœtus" in page


def test_it_checks_the_foetus_with_the_validation_layer(saisie, world, pregnancy):
    patient = world.patients["own"]
    html = unescape(add_foetus(saisie, patient, pregnancy, multiple="non", rank="2").content.decode())
    assert "Un rang (2) est donné sans grossesse multiple." in html and 'id="id_rank-error"' in html
    html = unescape(add_foetus(saisie, patient, pregnancy, outcome_gestational_age_weeks="50").content.decode())
    assert "inférieure ou égale à 45" in html
    assert not Foetus.objects.exists()


def test_it_creates_the_foetus_record_attached_to_the_mother(saisie, world, pregnancy):
    patient = world.patients["own"]
    add_foetus(saisie, patient, pregnancy)
    foetus = Foetus.objects.get(mother=patient)
    before = AuditEvent.objects.count()
    response = saisie.post(f"/patients/{patient.pk}/foetus/{foetus.pk}/dossier/")
    foetus.refresh_from_db()
    record = foetus.record
    assert response.status_code == 302 and response.url == f"/patients/{record.pk}/"
    assert record.is_foetus and record.mother == patient
    assert (record.mother_birth_name, record.mother_first_name, record.foetus_local_id) == ("LEFEVRE", "Léa", "F-77")
    assert CareEpisode.objects.filter(patient=record, site=world.own).exists()
    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert [(e.action, e.patient_id) for e in events] == [("create", record.pk)]
    page = unescape(saisie.get(f"/patients/{record.pk}/").content.decode())
    assert "Dossier fœtus" in page and f'href="/patients/{patient.pk}/"' in page
    assert 'id="section-grossesses"' not in page  # a foetus has no pregnancy
    # Asked again, it opens the existing record.
    assert saisie.post(f"/patients/{patient.pk}/foetus/{foetus.pk}/dossier/").url == f"/patients/{record.pk}/"
    assert Patient.objects.filter(is_foetus=True).count() == 1


def test_it_offers_no_pregnancy_to_a_male_patient(saisie, world):
    sibling_like = world.patients["own"]
    sibling_like.sex_code = "M"
    sibling_like.save()
    assert 'id="section-grossesses"' not in saisie.get(f"/patients/{sibling_like.pk}/").content.decode()


def test_it_keeps_foetuses_of_other_records_out_of_reach(saisie, world):
    far = world.patients["far"]
    pregnancy = Pregnancy.objects.create(patient=far)
    foetus = Foetus.objects.create(pregnancy=pregnancy, mother=far)
    own = world.patients["own"]
    assert saisie.post(f"/patients/{own.pk}/foetus/{foetus.pk}/dossier/").status_code == 404
    assert saisie.get(f"/patients/{own.pk}/dossier/foetus/{foetus.pk}/modifier/").status_code == 404
