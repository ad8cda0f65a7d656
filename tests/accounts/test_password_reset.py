import re

from axes.models import AccessAttempt
from django.contrib.auth import get_user
from django.core import mail

NEW = "une-nouvelle-phrase-secrete"


def _reset_link(client, email):
    response = client.post("/mot-de-passe/oublie/", {"email": email})
    assert response["Location"] == "/mot-de-passe/oublie/envoye/"
    assert len(mail.outbox) == 1
    return re.search(r"http://testserver(/mot-de-passe/nouveau/\S+/\S+/)", mail.outbox[0].body)[1]


def test_it_shows_a_labelled_reset_form(client, db):
    html = client.get("/mot-de-passe/oublie/").content.decode()
    assert '<label class="fr-label" for="id_email">Adresse e-mail' in html


def test_it_mails_a_working_link_that_sets_a_new_password(client, world, login):
    link = _reset_link(client, "Clinicien@chu-a.fr")
    assert mail.outbox[0].to == ["clinicien@chu-a.fr"]
    assert "réinitialisation" in mail.outbox[0].subject
    form_page = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    assert set_password_url.endswith("/nouveau/")
    response = client.post(set_password_url, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/mot-de-passe/modifie/"
    assert login("clinicien@chu-a.fr", NEW).status_code == 302
    assert get_user(client).is_authenticated


def test_it_refuses_a_used_link(client, world):
    link = _reset_link(client, "clinicien@chu-a.fr")
    url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(url, {"new_password1": NEW, "new_password2": NEW})
    html = client.get(link, follow=True).content.decode()
    assert "Ce lien n'est plus valable" in html


def test_it_answers_the_same_for_unknown_or_inactive_addresses_without_mail(client, world):
    response = client.post("/mot-de-passe/oublie/", {"email": "personne@nulle-part.fr"})
    assert response["Location"] == "/mot-de-passe/oublie/envoye/"
    world["clinician"].is_active = False
    world["clinician"].save()
    client.post("/mot-de-passe/oublie/", {"email": "clinicien@chu-a.fr"})
    assert mail.outbox == []


def test_it_lifts_the_lockout_of_whoever_resets_the_password(client, world, login):
    for _ in range(5):
        login("clinicien@chu-a.fr", "wrong-password-123", REMOTE_ADDR="10.1.1.1")
    assert AccessAttempt.objects.filter(username="clinicien@chu-a.fr").exists()
    link = _reset_link(client, "clinicien@chu-a.fr")
    url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(url, {"new_password1": NEW, "new_password2": NEW})
    assert not AccessAttempt.objects.filter(username="clinicien@chu-a.fr").exists()
    assert login("clinicien@chu-a.fr", NEW).status_code == 302
