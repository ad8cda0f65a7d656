import re

import pytest
from django.core import mail

from bamara.accounts.models import RegistrationRequest, RegistrationStatus
from bamara.audit.models import AuditEvent
from bamara.organisations.models import User


@pytest.fixture
def data(world):
    return {
        "first_name": "Nina", "last_name": "Nouvelle", "email": "Nina.Nouvelle@chu-a.fr",
        "profession": "medecin", "rpps": "10 1234 567 89", "hospital": world["chu_a"].pk,
        "sites": [world["a1"].pk, world["a2"].pk], "message": "ARC du Pr X",
        "password1": "une-phrase-de-passe-solide", "password2": "une-phrase-de-passe-solide",
    }


def test_it_shows_the_registration_form_with_labelled_fields(client, world):
    html = client.get("/inscription/").content.decode()
    assert "Demander un compte" in html
    for name in ("first_name", "last_name", "email", "profession", "rpps", "hospital",
                 "message", "password1", "password2"):
        assert f'for="id_{name}"' in html
    assert "CHU A" in html and "CHU B" in html
    assert 'hx-get="/inscription/sites/"' in html


def test_it_creates_an_inactive_user_and_a_pending_request_and_mails(client, world, data):
    response = client.post("/inscription/", data)
    assert response.status_code == 302 and response["Location"] == "/inscription/envoyee/"
    user = User.objects.get(email="nina.nouvelle@chu-a.fr")
    assert not user.is_active and user.check_password("une-phrase-de-passe-solide")
    assert user.rpps == "10123456789" and user.hospital == world["chu_a"]
    request = user.registration_request
    assert request.status == RegistrationStatus.PENDING
    assert set(request.sites.all()) == {world["a1"], world["a2"]}
    assert request.profession == "medecin" and request.message == "ARC du Pr X"
    assert AuditEvent.objects.filter(object_type="organisations.User", object_id=str(user.pk),
                                     action="create").exists()
    recipients = {tuple(m.to): m for m in mail.outbox}
    assert set(recipients) == {("nina.nouvelle@chu-a.fr",), ("gestion@chu-a.fr",)}
    to_manager = recipients[("gestion@chu-a.fr",)]
    assert "nouvelle demande de compte" in to_manager.subject
    assert f"/gestion/demandes/{request.pk}/" in to_manager.body
    assert "Centre A1" in to_manager.body


def test_it_confirms_the_email_with_the_mailed_link(client, world, data):
    client.post("/inscription/", data)
    confirmation = next(m for m in mail.outbox if m.to == ["nina.nouvelle@chu-a.fr"])
    link = re.search(r"http://testserver(/inscription/confirmer/\S+/)", confirmation.body)[1]
    assert "est confirmée" in client.get(link).content.decode()
    assert RegistrationRequest.objects.get().email_confirmed_at is not None
    assert client.get("/inscription/confirmer/faux-jeton/").status_code == 400


def test_it_only_accepts_sites_of_the_chosen_hospital(client, world, data):
    data["sites"] = [world["a1"].pk, world["b1"].pk]
    response = client.post("/inscription/", data)
    assert response.status_code == 200
    assert "Choisissez des sites de l&#x27;établissement indiqué." in response.content.decode()
    assert not User.objects.filter(email="nina.nouvelle@chu-a.fr").exists()


@pytest.mark.parametrize("rpps", ["1234567890", "1234567890A", "123456789012"])
def test_it_wants_eleven_digits_of_rpps_and_keeps_what_was_typed(client, world, data, rpps):
    data["rpps"] = rpps
    html = client.post("/inscription/", data).content.decode()
    assert "Le numéro RPPS compte exactement 11 chiffres." in html
    assert 'value="Nina.Nouvelle@chu-a.fr"' in html and 'value="Nouvelle"' in html
    assert 'aria-describedby="id_rpps-hint id_rpps-error"' in html
    assert f'value="{world["a1"].pk}" checked' in html
    assert not RegistrationRequest.objects.exists() and not mail.outbox


def test_it_requires_the_rpps_of_physicians_only(client, world, data):
    data["rpps"] = ""
    assert "obligatoire pour les médecins" in client.post("/inscription/", data).content.decode()
    data["profession"] = "arc"
    assert client.post("/inscription/", data).status_code == 302


def test_it_rejects_weak_or_mismatched_passwords(client, world, data):
    data["password1"] = data["password2"] = "123456789012"
    assert "Ce mot de passe est entièrement numérique." in client.post("/inscription/", data).content.decode()
    data["password2"] = "autre-chose-encore-longue"
    assert "ne sont pas identiques" in client.post("/inscription/", data).content.decode()


def test_it_answers_the_same_for_a_known_address_and_mails_its_owner(client, world, data):
    data["email"] = "clinicien@chu-a.fr"
    response = client.post("/inscription/", data)
    assert response["Location"] == "/inscription/envoyee/"
    assert not RegistrationRequest.objects.exists()
    assert [m.to for m in mail.outbox] == [["clinicien@chu-a.fr"]]
    assert "déjà inscrite" in mail.outbox[0].subject


def test_it_lists_the_sites_of_the_hospital_for_htmx(client, world):
    html = client.get("/inscription/sites/", {"hospital": world["chu_b"].pk},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "Centre B1" in html and "Centre A1" not in html
    assert "fr-checkbox-group" in html


def test_it_shows_the_sites_without_javascript_keeping_the_form(client, world, data):
    data["refresh"] = "1"
    html = client.post("/inscription/", data).content.decode()
    assert "Centre A1" in html and 'value="Nina"' in html
    assert "fr-error-text" not in html and not RegistrationRequest.objects.exists()
