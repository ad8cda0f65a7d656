from django.contrib.auth.models import AnonymousUser

from bamara.accounts.roles import can_manage, roles_of
from bamara.organisations.models import FiliereReferent, SiteMembership, SiteRole, User


def test_it_names_each_role(world):
    assert roles_of(world["clinician"]) == {"saisie"}
    assert roles_of(world["manager"]) == {"gestionnaire"}
    SiteMembership.objects.create(user=world["manager"], site=world["a2"], role=SiteRole.SITE_REFERENT)
    FiliereReferent.objects.create(user=world["manager"], filiere=world["filiere"])
    assert roles_of(world["manager"]) == {"gestionnaire", "referent", "filiere"}


def test_it_gives_the_national_team_no_site_role(world):
    national = User.objects.create_user("dgos@sante.gouv.fr", "x" * 12, is_national_team=True)
    SiteMembership.objects.create(user=national, site=world["a1"], role=SiteRole.DATA_ENTRY)
    assert roles_of(national) == {"national"}


def test_it_ignores_withdrawn_access_and_closed_accounts(world):
    world["clinician"].memberships.update(active=False)
    assert roles_of(world["clinician"]) == set()
    world["manager"].is_active = False
    assert roles_of(world["manager"]) == set() and roles_of(AnonymousUser()) == set()
    assert not can_manage(world["manager"], world["chu_a"])


def test_it_says_who_manages_which_hospital(world):
    assert can_manage(world["manager"], world["chu_a"])
    assert can_manage(world["manager"], world["chu_a"].pk)
    assert not can_manage(world["manager"], world["chu_b"])
    assert not can_manage(world["clinician"], world["chu_a"])
    assert not can_manage(AnonymousUser(), world["chu_a"])
