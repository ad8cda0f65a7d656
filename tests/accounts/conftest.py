import pytest
from axes.utils import reset as axes_reset
from django_otp.oath import totp

from bamara.organisations.models import (
    Filiere,
    Hospital,
    HospitalManager,
    Site,
    SiteKind,
    SiteMembership,
    SiteRole,
    User,
)

PASSWORD = "correct-horse-battery-42"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 is the production hasher; these tests hash dozens of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_lockouts(db):
    # Lockout counters live in the database (rolled back per test); reset anyway, as the
    # lead's other suites may share a database.
    axes_reset()
    yield
    axes_reset()


@pytest.fixture
def world(db):
    filiere = Filiere.objects.create(acronym="FILFOIE", name="Maladies rares du foie")
    chu_a = Hospital.objects.create(finess_et="750100125", name="CHU A")
    chu_b = Hospital.objects.create(finess_et="690781810", name="CHU B")

    def site(code, hospital):
        return Site.objects.create(code=code, name=f"Centre {code}", kind=SiteKind.CCMR,
                                   filiere=filiere, hospital=hospital)

    manager = User.objects.create_user("gestion@chu-a.fr", PASSWORD, first_name="Gil",
                                       last_name="Gestion", hospital=chu_a)
    HospitalManager.objects.create(user=manager, hospital=chu_a)
    other_manager = User.objects.create_user("gestion@chu-b.fr", PASSWORD, hospital=chu_b)
    HospitalManager.objects.create(user=other_manager, hospital=chu_b)
    clinician = User.objects.create_user("clinicien@chu-a.fr", PASSWORD, first_name="Claire",
                                         last_name="Clinicienne", hospital=chu_a)
    a1, a2, b1 = site("A1", chu_a), site("A2", chu_a), site("B1", chu_b)
    SiteMembership.objects.create(user=clinician, site=a1, role=SiteRole.DATA_ENTRY)
    return {"filiere": filiere, "chu_a": chu_a, "chu_b": chu_b, "a1": a1, "a2": a2, "b1": b1,
            "manager": manager, "other_manager": other_manager, "clinician": clinician}


@pytest.fixture
def token_for():
    def make(device, drift: int = 0) -> str:
        """The code an authenticator app shows now (drift=1: the next one, for a second use
        within the same 30 seconds, since a code is accepted once)."""
        return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"

    return make


@pytest.fixture
def login(client):
    def post(email: str, password: str = PASSWORD, **extra):
        return client.post("/connexion/", {"username": email, "password": password, **extra})

    return post
