from django.contrib.auth import get_user

from bamara.audit.models import AuditEvent

PASSWORD = "correct-horse-battery-42"


def test_it_needs_a_login(client, db):
    assert client.get("/compte/")["Location"] == "/connexion/?next=/compte/"


def test_it_shows_my_access_and_security_settings(client, world):
    client.force_login(world["clinician"])
    html = client.get("/compte/").content.decode()
    assert "Mon compte" in html and "Centre A1" in html and "Saisie (clinicien, ARC)" in html
    assert 'href="/compte/2fa/activer/"' in html
    assert 'action="/compte/mot-de-passe/"' in html


def test_it_updates_my_profile_audited_and_keeps_bad_input(client, world):
    client.force_login(world["clinician"])
    html = client.post("/compte/", {"first_name": "Claire", "last_name": "Dupont",
                                    "profession": "medecin", "rpps": "123"}).content.decode()
    assert "11 chiffres" in html and 'value="Dupont"' in html
    response = client.post("/compte/", {"first_name": "Claire", "last_name": "Dupont",
                                        "profession": "medecin", "rpps": "10101234567"})
    assert response["Location"] == "/compte/"
    world["clinician"].refresh_from_db()
    assert world["clinician"].rpps == "10101234567"
    event = AuditEvent.objects.get(detail="profil modifié par la personne")
    assert event.changes["last_name"] == ["Clinicienne", "Dupont"]


def test_it_changes_my_password_and_keeps_me_logged_in(client, world):
    client.force_login(world["clinician"])
    wrong = client.post("/compte/mot-de-passe/", {"old_password": "nope", "new_password1": "x",
                                                  "new_password2": "x"})
    assert "fr-error-text" in wrong.content.decode()
    new = "encore-une-phrase-solide"
    response = client.post("/compte/mot-de-passe/", {"old_password": PASSWORD,
                                                     "new_password1": new, "new_password2": new})
    assert response["Location"] == "/compte/"
    assert get_user(client).is_authenticated
    world["clinician"].refresh_from_db()
    assert world["clinician"].check_password(new)
    assert client.get("/compte/mot-de-passe/").status_code == 405
