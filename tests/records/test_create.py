import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import CareEpisode, Patient
from tests.html import content_without_tokens

IDENTITY = {"birth_name": "Lefebvre", "first_birth_given_name": "Léa", "sex": "F",
            "birth_date": "12/03/2015", "birth_given_names": "", "used_name": "", "ipp": "", "ins": ""}


@pytest.fixture
def client_saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def test_it_creates_a_patient_followed_by_the_users_site(client_saisie, world):
    data = {**IDENTITY, "birth_name": "Nouveau", "birth_date": "05/2019"}
    response = client_saisie.post("/patients/nouveau/", data)
    patient = Patient.objects.get(birth_name="NOUVEAU")
    assert response.status_code == 302 and response.url == f"/patients/{patient.pk}/"
    assert patient.birth_date_partial.isoformat() == "2019-05"
    assert CareEpisode.objects.filter(patient=patient, site=world.own).exists()
    # One event for the creation, which names the first care episode.
    (event,) = AuditEvent.objects.filter(patient_id=patient.pk, action="create")
    assert event.changes["care_episode"][1]["site"] == world.own.code


def test_it_warns_of_a_near_identical_patient_before_creating(client_saisie, world):
    response = client_saisie.post("/patients/nouveau/", IDENTITY)
    html = response.content.decode()
    assert response.status_code == 200
    assert "existe peut-être déjà" in html and "LEFEVRE" in html
    assert Patient.objects.filter(birth_name="LEFEBVRE").count() == 0
    # The form keeps what was typed.
    assert 'value="LEFEBVRE"' in html or 'value="Lefebvre"' in html


def test_it_creates_anyway_once_confirmed(client_saisie, world):
    client_saisie.post("/patients/nouveau/", {**IDENTITY, "confirm": "1"})
    assert Patient.objects.filter(birth_name="LEFEBVRE").count() == 1


def test_it_attaches_a_patient_of_another_site_of_the_hospital_without_showing_its_data(client_saisie, world):
    sibling = world.patients["sibling"]
    response = client_saisie.post("/patients/nouveau/", {
        **IDENTITY, "birth_name": "Dupond", "first_birth_given_name": "Paul", "sex": "M"})
    html = content_without_tokens(response)
    assert f"/patients/{sibling.pk}/rattacher/" in html
    assert "586" not in html  # no diagnosis of the other site
    response = client_saisie.post(f"/patients/{sibling.pk}/rattacher/")
    assert response.status_code == 302
    assert CareEpisode.objects.filter(patient=sibling, site=world.own).exists()
    page = client_saisie.get(f"/patients/{sibling.pk}/").content.decode()
    assert world.sibling.code not in page  # the other site's episode and activities stay hidden


def test_it_never_offers_patients_of_another_hospital(client_saisie, world):
    html = client_saisie.post("/patients/nouveau/", {
        **IDENTITY, "birth_name": "Martin", "first_birth_given_name": "Jules", "sex": "M"}).content.decode()
    assert "existe peut-être déjà" not in html
    far = world.patients["far"]
    assert client_saisie.post(f"/patients/{far.pk}/rattacher/").status_code == 404


def test_it_rejects_bad_input_in_french_and_keeps_it(client_saisie, world):
    response = client_saisie.post("/patients/nouveau/", {**IDENTITY, "birth_date": "31/02/2015"})
    html = response.content.decode()
    assert "Saisissez une date au format JJ/MM/AAAA" in html
    assert 'value="31/02/2015"' in html


def test_it_gives_the_new_patient_its_national_identifier(client_saisie, world):
    client_saisie.post("/patients/nouveau/", {**IDENTITY, "birth_name": "Nouveau"})
    patient = Patient.objects.get(birth_name="NOUVEAU")
    assert len(patient.national_id) == 20 and patient.national_id.isdigit()
    first = patient.national_id
    patient.first_birth_given_name = "Lucie"
    patient.save()
    patient.refresh_from_db()
    assert patient.national_id != first
    assert list(patient.former_identifiers.values_list("national_id", flat=True)) == [first]
