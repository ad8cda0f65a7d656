import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from bamara.organisations import access
from bamara.organisations.models import (
    Filiere,
    Hospital,
    Site,
    SiteKind,
    SiteMembership,
    SiteRole,
    User,
)
from bamara.records.models import CareEpisode, Patient


@pytest.fixture
def world(db):
    filiere = Filiere.objects.create(acronym="FILFOIE", name="Maladies rares du foie")
    chu = Hospital.objects.create(finess_et="750100125", name="CHU A")
    other = Hospital.objects.create(finess_et="690781810", name="CHU B")

    def site(code, hospital):
        return Site.objects.create(code=code, name=code, kind=SiteKind.CCMR, filiere=filiere,
                                   hospital=hospital)

    own, sibling, far = site("S1", chu), site("S2", chu), site("S3", other)
    user = User.objects.create_user("u@chu.fr", "x" * 12)
    SiteMembership.objects.create(user=user, site=own, role=SiteRole.DATA_ENTRY)

    def patient(name, *sites):
        p = Patient.objects.create(hospital=sites[0].hospital, birth_name=name)
        for s in sites:
            CareEpisode.objects.create(patient=p, site=s)
        return p

    return {
        "user": user, "own": own, "sibling_site": sibling,
        "mine": patient("MINE", own),
        "shared": patient("SHARED", own, sibling),
        "sibling": patient("SIBLING", sibling),
        "far": patient("FAR", far),
    }


def test_it_shows_only_patients_followed_at_the_users_sites_once_each(world):
    names = list(access.visible_patients(world["user"]).values_list("birth_name", flat=True))
    assert sorted(names) == ["MINE", "SHARED"]


@pytest.mark.parametrize("name", ["sibling", "far"])
def test_it_answers_404_for_other_sites_patients(world, name):
    with pytest.raises(Http404):
        access.get_patient(world["user"], world[name].pk)


def test_it_answers_404_for_garbage_ids(world):
    with pytest.raises(Http404):
        access.get_patient(world["user"], "1 OR 1=1")


def test_it_closes_the_wall_when_the_membership_is_deactivated(world):
    SiteMembership.objects.filter(user=world["user"]).update(active=False)
    assert not access.visible_patients(world["user"]).exists()


def test_it_gives_nothing_to_anonymous_and_national_team_users(world):
    assert not access.visible_patients(AnonymousUser()).exists()
    world["user"].is_national_team = True
    assert not access.visible_patients(world["user"]).exists()
