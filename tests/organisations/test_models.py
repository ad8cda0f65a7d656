import pytest
from django.db import IntegrityError

from bamara.organisations.models import (
    Filiere,
    Hospital,
    Site,
    SiteKind,
    SiteMembership,
    SiteRole,
    User,
)


@pytest.mark.django_db
def test_it_logs_users_in_by_lower_cased_email_with_argon2():
    user = User.objects.create_user("Lea.Martin@CHU.fr", "un mot de passe solide")
    assert user.email == "lea.martin@chu.fr"
    assert user.password.startswith("argon2")
    assert user.check_password("un mot de passe solide")


@pytest.mark.django_db
def test_it_allows_one_membership_per_user_and_site():
    filiere = Filiere.objects.create(acronym="FIMARAD", name="Maladies rares dermatologiques")
    hospital = Hospital.objects.create(finess_et="750100125", name="Hôpital test")
    site = Site.objects.create(code="S0001", name="Centre test", kind=SiteKind.CCMR,
                               filiere=filiere, hospital=hospital)
    user = User.objects.create_user("a@b.fr", "x" * 12)
    SiteMembership.objects.create(user=user, site=site, role=SiteRole.DATA_ENTRY)
    with pytest.raises(IntegrityError):
        SiteMembership.objects.create(user=user, site=site, role=SiteRole.SITE_REFERENT)
