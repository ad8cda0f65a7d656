import pytest
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from bamara.accounts.decorators import login_and_otp_required
from bamara.audit.models import AuditEvent


def test_it_sets_up_totp_with_a_qr_code_and_a_first_code(client, world, token_for):
    client.force_login(world["clinician"])
    html = client.get("/compte/2fa/activer/").content.decode()
    assert "<svg" in html and "Activer la double authentification" in html
    device = TOTPDevice.objects.get(user=world["clinician"], confirmed=False)
    assert "otpauth" not in html  # the QR code carries the secret, the page text only the key
    wrong = client.post("/compte/2fa/activer/", {"token": "000000"}).content.decode()
    assert "Code incorrect ou expiré." in wrong
    device.refresh_from_db()  # django-otp now makes the next try wait a second: skip that

    device.throttling_failure_count = 0
    device.save()
    response = client.post("/compte/2fa/activer/", {"token": token_for(device)})
    assert response.status_code == 302 and response["Location"] == "/compte/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(detail__contains="TOTP) activée").exists()


@pytest.fixture
def device(world):
    return TOTPDevice.objects.create(user=world["clinician"], name="bamara", confirmed=True)


def test_it_asks_for_the_code_after_the_password(client, world, device, login, token_for):
    response = login(world["clinician"].email, next="/compte/")
    assert response["Location"] == "/compte/2fa/?next=%2Fcompte%2F"
    # Logged in by password, but nowhere else to go before the code.
    assert client.get("/compte/")["Location"].startswith("/compte/2fa/")
    assert client.get("/")["Location"].startswith("/compte/2fa/")
    html = client.get("/compte/2fa/?next=/compte/").content.decode()
    assert 'autocomplete="one-time-code"' in html
    response = client.post("/compte/2fa/", {"token": token_for(device), "next": "/compte/"})
    assert response["Location"] == "/compte/"
    assert client.get("/compte/").status_code == 200


def test_it_refuses_a_wrong_or_malformed_code(client, world, device):
    client.force_login(world["clinician"])
    assert "Saisissez les 6 chiffres" in client.post("/compte/2fa/", {"token": "12ab"}).content.decode()
    html = client.post("/compte/2fa/", {"token": "000000"}).content.decode()
    assert "Code incorrect ou expiré." in html
    assert client.get("/compte/").status_code == 302


def test_it_forces_a_manager_to_set_up_totp_before_anything_else(client, world, login, token_for):
    response = login(world["manager"].email)
    assert response["Location"].startswith("/compte/2fa/")
    for page in ("/", "/gestion/demandes/", "/compte/", "/admin/"):
        assert client.get(page)["Location"].startswith("/compte/2fa/"), page
    html = client.get("/compte/2fa/?next=/gestion/demandes/").content.decode()
    assert "vous devez activer la double authentification" in html and "<svg" in html
    device = TOTPDevice.objects.get(user=world["manager"])
    response = client.post("/compte/2fa/", {"token": token_for(device),
                                            "next": "/gestion/demandes/"})
    assert response["Location"] == "/gestion/demandes/"
    assert client.get("/gestion/demandes/").status_code == 200
    # Next login: the code is asked again, and the manager cannot switch it off.
    client.post("/deconnexion/")
    assert login(world["manager"].email)["Location"].startswith("/compte/2fa/")
    client.post("/compte/2fa/", {"token": token_for(device, drift=1)})
    assert client.get("/gestion/demandes/").status_code == 200
    client.post("/compte/2fa/desactiver/", {"token": token_for(device, drift=1)})
    assert TOTPDevice.objects.filter(user=world["manager"], confirmed=True).exists()


def test_it_lets_others_switch_totp_off_with_a_code(client, world, device, token_for):
    client.force_login(world["clinician"])
    client.post("/compte/2fa/", {"token": token_for(device)})
    html = client.post("/compte/2fa/desactiver/", {"token": "000000"}).content.decode()
    assert "Code incorrect ou expiré." in html
    assert "Trop de codes erronés" in client.post(
        "/compte/2fa/desactiver/", {"token": token_for(device, drift=1)}).content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    response = client.post("/compte/2fa/desactiver/", {"token": token_for(device, drift=1)})
    assert response["Location"] == "/compte/"
    assert not TOTPDevice.objects.filter(user=world["clinician"]).exists()
    assert client.get("/compte/").status_code == 200  # no device: no second factor owed


def test_it_lets_the_half_logged_in_user_log_out(client, world, device):
    client.force_login(world["clinician"])
    client.post("/deconnexion/")
    assert not get_user(client).is_authenticated


# The decorator other apps use.

@login_and_otp_required
def protected(request):
    return HttpResponse("ok")


def _request(user, htmx=False, verified=False):
    request = RequestFactory().get("/dossiers/", HTTP_HX_REQUEST="true" if htmx else None)
    request.user = user
    request.htmx = htmx
    user.is_verified = lambda: verified
    return request


def test_it_sends_anonymous_users_to_the_login_page(world):
    request = RequestFactory().get("/dossiers/")
    request.user = AnonymousUser()
    response = protected(request)
    assert response.status_code == 302 and response["Location"] == "/connexion/?next=/dossiers/"


def test_it_lets_a_user_without_device_through_but_not_an_unverified_manager(world):
    assert protected(_request(world["clinician"])).content == b"ok"
    response = protected(_request(world["manager"]))
    assert response["Location"] == "/compte/2fa/?next=%2Fdossiers%2F"
    assert protected(_request(world["manager"], verified=True)).content == b"ok"


def test_it_makes_htmx_navigate_instead_of_swapping_a_login_page(world, device):
    response = protected(_request(world["clinician"], htmx=True))
    assert response["HX-Redirect"] == "/compte/2fa/?next=%2Fdossiers%2F"


def test_it_refuses_deactivated_users(world):
    world["clinician"].is_active = False
    assert protected(_request(world["clinician"])).status_code == 302
