"""Demo accounts, one per role, with fixed e-mails and one documented password.

Never use these on a real deployment: the password is public (README, ``make run``).
"""

from __future__ import annotations

from django.db import transaction

from bamara.demo.reference import fake_rpps
from bamara.organisations.models import (
    Filiere,
    FiliereReferent,
    Hospital,
    HospitalManager,
    Profession,
    Site,
    SiteMembership,
    SiteRole,
    User,
)

DEMO_PASSWORD = "Demo-BaMaRa-2026!"
DEMO_DOMAIN = "demo.bamara.fr"

# (e-mail, role) — printed by `bamara demo_data`, the README and `make run`.
DEMO_ACCOUNTS: list[tuple[str, str]] = [
    ("saisie@demo.bamara.fr", "Saisie (clinicien, ARC) sur deux sites de l'hôpital Necker (S0001, S0002)"),
    ("referent@demo.bamara.fr", "Référent du site S0001 (maladies rares de la peau, Necker)"),
    ("gestionnaire@demo.bamara.fr", "Gestionnaire de comptes de l'hôpital Necker-Enfants malades"),
    ("filiere@demo.bamara.fr", "Référent de la filière FIMARAD (agrégats de ses sites)"),
    ("national@demo.bamara.fr", "Équipe nationale BNDMR (agrégats uniquement)"),
    ("admin@demo.bamara.fr", "Administrateur (superutilisateur)"),
]

# Which sites, hospital and filière the accounts above are attached to.
DATA_ENTRY_SITES = ("S0001", "S0002")
REFERENT_SITE = "S0001"
MANAGED_HOSPITAL_FINESS = "750100208"
REFERENT_FILIERE = "FIMARAD"


def demo_accounts() -> list[tuple[str, str]]:
    return list(DEMO_ACCOUNTS)


def _user(email: str, first: str, last: str, **extra) -> User:
    user = User.objects.filter(email=email).first() or User(email=email)
    user.first_name, user.last_name = first, last
    user.is_active = True
    for name, value in extra.items():
        setattr(user, name, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@transaction.atomic
def create_demo_accounts() -> list[User]:
    """Create or refresh the demo accounts and their roles (idempotent)."""
    necker = Hospital.objects.get(finess_et=MANAGED_HOSPITAL_FINESS)
    users = []
    saisie = _user(
        "saisie@demo.bamara.fr", "Camille", "SAISIE-DEMO",
        hospital=necker, profession=Profession.RESEARCH_ASSISTANT,
    )
    for code in DATA_ENTRY_SITES:
        SiteMembership.objects.update_or_create(
            user=saisie, site=Site.objects.get(code=code),
            defaults={"role": SiteRole.DATA_ENTRY, "active": True},
        )
    users.append(saisie)

    referent = _user(
        "referent@demo.bamara.fr", "Dominique", "REFERENT-DEMO",
        hospital=necker, profession=Profession.PHYSICIAN, rpps=fake_rpps(1),
    )
    SiteMembership.objects.update_or_create(
        user=referent, site=Site.objects.get(code=REFERENT_SITE),
        defaults={"role": SiteRole.SITE_REFERENT, "active": True},
    )
    users.append(referent)

    manager = _user("gestionnaire@demo.bamara.fr", "Alex", "GESTIONNAIRE-DEMO", hospital=necker)
    HospitalManager.objects.get_or_create(user=manager, hospital=necker)
    users.append(manager)

    filiere_user = _user("filiere@demo.bamara.fr", "Claude", "FILIERE-DEMO")
    FiliereReferent.objects.get_or_create(
        user=filiere_user, filiere=Filiere.objects.get(acronym=REFERENT_FILIERE)
    )
    users.append(filiere_user)

    users.append(_user("national@demo.bamara.fr", "Sacha", "NATIONAL-DEMO", is_national_team=True))
    users.append(
        _user("admin@demo.bamara.fr", "Morgan", "ADMIN-DEMO", is_staff=True, is_superuser=True)
    )
    return users
