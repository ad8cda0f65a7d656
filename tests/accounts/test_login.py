from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user

from bamara.accounts.models import RegistrationRequest, RegistrationStatus
from bamara.organisations.models import User

PASSWORD = "correct-horse-battery-42"


@pytest.fixture
def clinician(world):
    return world["clinician"]


def test_it_shows_a_labelled_french_login_form(client, db):
    html = client.get("/connexion/").content.decode()
    assert "Connexion à bamara" in html
    assert '<label class="fr-label" for="id_username">Adresse e-mail' in html
    assert 'autocomplete="current-password"' in html
    assert 'href="/inscription/"' in html and 'href="/mot-de-passe/oublie/"' in html


def test_it_logs_in_by_email_whatever_its_case(client, clinician, login):
    response = login("  Clinicien@CHU-A.fr ")
    assert response.status_code == 302 and response["Location"] == "/"
    assert get_user(client).pk == clinician.pk


def test_it_follows_a_local_next_but_not_a_foreign_one(client, clinician, login):
    assert login(clinician.email, next="/compte/")["Location"] == "/compte/"
    client.logout()
    assert login(clinician.email, next="https://evil.example/")["Location"] == "/"


def test_it_refuses_a_wrong_password_in_french_and_keeps_the_email(client, clinician, login):
    response = login(clinician.email, "wrong-password-123")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in html
    assert f'value="{clinician.email}"' in html
    assert "fr-alert--error" in html
    assert not get_user(client).is_authenticated


def test_it_answers_an_unknown_email_like_a_wrong_password(client, clinician, login):
    unknown = login("personne@nulle-part.fr", PASSWORD).content.decode()
    assert "Adresse e-mail ou mot de passe incorrect." in unknown


def test_it_locks_out_an_email_after_five_failures_for_fifteen_minutes(client, clinician, login):
    for _ in range(4):
        assert login(clinician.email, "wrong-password-123").status_code == 200
    fifth = login(clinician.email, "wrong-password-123")
    assert fifth.status_code == 429
    locked = login(clinician.email, PASSWORD)  # even the right password is refused now
    assert locked.status_code == 429
    assert "Connexion temporairement bloquée" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    assert f'value="{clinician.email}"' in locked.content.decode()
    assert not get_user(client).is_authenticated
    # Fifteen minutes later the door opens again.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time
                                 - timedelta(minutes=16))
    assert login(clinician.email, PASSWORD).status_code == 302


def test_it_locks_out_an_address_trying_many_emails(client, clinician, login):
    for n in range(5):
        login(f"inconnu{n}@chu-a.fr", "wrong-password-123")
    assert login(clinician.email, PASSWORD).status_code == 429


def test_it_counts_an_email_whatever_its_case(client, clinician, login):
    for n in range(4):
        login(clinician.email.upper() if n % 2 else clinician.email, "wrong-password-123")
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        (clinician.email, 4)]
    assert login(f" {clinician.email.upper()}", "wrong-password-123").status_code == 429


def test_it_forgets_failures_after_a_success(client, clinician, login):
    for _ in range(4):
        login(clinician.email, "wrong-password-123")
    assert login(clinician.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(clinician.email, "wrong-password-123").status_code == 200
    assert login(clinician.email, PASSWORD).status_code == 302


def _pending(world) -> User:
    user = User.objects.create_user("nouveau@chu-a.fr", PASSWORD, is_active=False)
    RegistrationRequest.objects.create(user=user, hospital=world["chu_a"], profession="medecin")
    return user


def test_it_tells_a_pending_registrant_why_but_only_with_the_right_password(client, world, login):
    user = _pending(world)
    html = login(user.email, PASSWORD).content.decode()
    assert "en attente de validation" in html
    assert not get_user(client).is_authenticated
    wrong = login(user.email, "wrong-password-123").content.decode()
    assert "en attente" not in wrong and "Adresse e-mail ou mot de passe incorrect." in wrong


def test_it_tells_a_refused_or_deactivated_user_they_cannot_log_in(client, world, login):
    user = _pending(world)
    RegistrationRequest.objects.filter(user=user).update(status=RegistrationStatus.REFUSED)
    assert "a été refusée" in login(user.email).content.decode()
    world["clinician"].is_active = False
    world["clinician"].save()
    assert "Votre compte est désactivé" in login(world["clinician"].email).content.decode()


def test_it_does_not_explain_anything_while_locked_out(client, world, login):
    user = _pending(world)
    for _ in range(5):
        login(user.email, "wrong-password-123")
    response = login(user.email, PASSWORD)
    assert response.status_code == 429
    assert "en attente" not in response.content.decode()
