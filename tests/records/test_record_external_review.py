"""« Avis sur dossier » for an external patient: minimal identity and one expert-opinion activity."""

import datetime as dt
from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import Activity, CareEpisode, Patient
from bamara.sdm import oids

URL = "/avis-sur-dossier/nouveau/"


def review(**values):
    data = {"identite-birth_name": "Moreau", "identite-first_birth_given_name": "Inès",
            "identite-birth_date": "2019", "identite-sex": "F", "identite-context": "MED-095",
            "activite-date": dt.date.today().isoformat(), "activite-objectives": ["MED-097"],
            "activite-performer_name": "Dr Durand", "activite-professions": ["G15_10"]}
    data.update(values)
    return data


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def test_it_offers_the_two_review_contexts_and_today(saisie, world):
    html = unescape(saisie.get(URL).content.decode())
    assert "Avis sur dossier en consultation" in html and "Avis d'expertise sur un dossier" in html
    assert "Consultation pluridisciplinaire" not in html
    assert f'value="{dt.date.today().isoformat()}"' in html


def test_it_creates_an_external_review_record_with_one_activity(saisie, world):
    before = AuditEvent.objects.count()
    response = saisie.post(URL, review())
    record = Patient.objects.get(birth_name="MOREAU")
    assert response.status_code == 302 and response.url == f"/patients/{record.pk}/"
    assert record.is_external_review and record.birth_date_partial.isoformat() == "2019"
    assert (record.first_birth_given_name, record.sex_code) == ("Inès", "F")
    assert CareEpisode.objects.filter(patient=record, site=world.own).exists()
    activity = Activity.objects.get(patient=record)
    assert (activity.context_code, activity.context_system, activity.site) == ("MED-095", oids.TA_ASIP, world.own)
    assert [o.objective_code for o in activity.objectives.all()] == ["MED-097"]
    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert [(e.action, e.patient_id) for e in events] == [("create", record.pk)]
    assert "avis sur dossier" in events[0].detail
    assert "Avis sur dossier (patient externe)" in unescape(saisie.get(response.url).content.decode())


def test_it_accepts_the_consultation_context_too(saisie, world):
    saisie.post(URL, review(**{"identite-context": "ORG-029"}))
    assert Activity.objects.get(patient__birth_name="MOREAU").context_code == "ORG-029"


def test_it_refuses_an_incomplete_identity_and_keeps_what_was_typed(saisie, world):
    response = saisie.post(URL, review(**{"identite-birth_date": "", "identite-context": "ORG-028"}))
    html = unescape(response.content.decode())
    assert "Ce champ est obligatoire." in html and "Sélectionnez un choix valide" in html
    assert 'value="Moreau"' in html and 'value="Dr Durand"' in html
    assert not Patient.objects.filter(birth_name="MOREAU").exists()


def test_it_refuses_a_review_before_birth(saisie, world):
    response = saisie.post(URL, review(**{"identite-birth_date": "06/2025", "activite-date": "2024-01-02"}))
    html = unescape(response.content.decode())
    assert "antérieure à la naissance" in html and 'id="id_activite-date-error"' in html
    assert not Patient.objects.filter(birth_name="MOREAU").exists()


@pytest.mark.parametrize("user", ["national", "filiere"])
def test_it_is_not_for_users_without_a_site(client, world, user):
    client.force_login(world.users[user])
    assert client.get(URL).status_code == 404

