"""A site referent opens the site's records to a filière referent, and revokes it."""

import datetime as dt

import pytest
from django.utils import timezone

from bamara.accounts.testing import login_verified
from bamara.audit.models import AuditEvent
from bamara.organisations import access
from bamara.organisations.models import Filiere, FiliereReferent, SiteAccessGrant, User
from tests.factories import make_patient


@pytest.fixture
def referent(client, world):
    login_verified(client, world.users["referent"])
    return client


def grant(world, **extra):
    return SiteAccessGrant.objects.create(site=world.own, user=world.users["filiere"],
                                          granted_by=world.users["referent"], **extra)


def visible_names(user):
    return sorted(access.visible_patients(user).values_list("birth_name", flat=True))


def test_it_shows_nothing_nominative_to_a_filiere_referent_without_grant(world):
    assert visible_names(world.users["filiere"]) == []


def test_it_lets_a_granted_filiere_referent_see_exactly_the_sites_patients_until_revoked(referent, world):
    second = make_patient("BERNARD", [world.own, world.far])
    response = referent.post(f"/sites/{world.own.code}/acces-filiere/", {
        "user": world.users["filiere"].pk, "reason": "Étude de la filière"})
    assert response.status_code == 302
    filiere = world.users["filiere"]
    assert visible_names(filiere) == ["BERNARD", "LEFEVRE"]
    assert list(access.user_sites(filiere)) == [world.own]
    event = AuditEvent.objects.get(action="grant")
    assert (event.user_id, event.patient_id, event.object_id) == (
        world.users["referent"].pk, None, str(SiteAccessGrant.objects.get().pk))
    # Only the care episodes and activities of the granted site show on the record page.
    filiere_client = referent.__class__()
    login_verified(filiere_client, filiere)
    html = filiere_client.get(f"/patients/{second.pk}/").content.decode()
    assert "S9001" in html and "S9003" not in html
    assert filiere_client.get(f"/patients/{world.patients['sibling'].pk}/").status_code == 404
    found = filiere_client.get("/patients/recherche/", {"q": "lefevre"}).content.decode()
    assert "LEFEVRE" in found

    response = referent.post(f"/sites/{world.own.code}/acces-filiere/{SiteAccessGrant.objects.get().pk}/revoquer/")
    assert response.status_code == 302
    assert visible_names(filiere) == []
    assert filiere_client.get(f"/patients/{second.pk}/").status_code == 404
    revoked = SiteAccessGrant.objects.get()
    assert revoked.revoked_by == world.users["referent"] and revoked.revoked_at is not None
    assert AuditEvent.objects.filter(action="revoke", user_id=world.users["referent"].pk).count() == 1


def test_it_gives_reading_only(client, world):
    grant(world)
    login_verified(client, world.users["filiere"])
    patient = world.patients["own"]
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    assert client.get(f"/patients/{patient.pk}/dossier/statut-vital/modifier/").status_code == 403
    assert client.post(f"/patients/{patient.pk}/dossier/diagnostics/ajouter/", {}).status_code == 403
    row = patient.diagnoses.get()
    assert client.post(f"/patients/{patient.pk}/dossier/diagnostics/{row.pk}/supprimer/").status_code == 403
    assert patient.diagnoses.exists()
    # Never the current site: no creation, no « avis sur dossier » at the granted site.
    assert client.get("/patients/nouveau/").status_code == 404
    assert client.get("/avis-sur-dossier/nouveau/").status_code == 404
    html = client.get(f"/sites/{world.own.code}/activites/?date=2024-05-02").content.decode()
    assert "LEFEVRE" in html and "Ajouter une activité" not in html


def test_it_ends_on_the_end_date(world):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    grant(world, ends_on=yesterday)
    assert visible_names(world.users["filiere"]) == []
    SiteAccessGrant.objects.update(ends_on=timezone.localdate())
    assert visible_names(world.users["filiere"]) == ["LEFEVRE"]


def test_it_ends_when_the_user_is_no_longer_referent_of_the_filiere(world):
    grant(world)
    FiliereReferent.objects.filter(user=world.users["filiere"]).delete()
    assert visible_names(world.users["filiere"]) == []


def test_it_offers_only_referents_of_the_sites_filiere(referent, world):
    other = Filiere.objects.create(acronym="FAI2R", name="Maladies auto-immunes")
    stranger = User.objects.create_user("autre@test.bamara.fr", None)
    FiliereReferent.objects.create(user=stranger, filiere=other)
    html = referent.get(f"/sites/{world.own.code}/acces-filiere/").content.decode()
    assert "filiere@test.bamara.fr" in html and "autre@test.bamara.fr" not in html
    response = referent.post(f"/sites/{world.own.code}/acces-filiere/", {"user": stranger.pk})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not SiteAccessGrant.objects.exists() and not AuditEvent.objects.filter(action="grant").exists()


def test_it_refuses_a_second_open_grant_and_a_past_end_date(referent, world):
    grant(world)
    url = f"/sites/{world.own.code}/acces-filiere/"
    response = referent.post(url, {"user": world.users["filiere"].pk})
    assert response.status_code == 400 and "déjà un accès ouvert" in response.content.decode()
    SiteAccessGrant.objects.update(revoked_at=timezone.now())
    response = referent.post(url, {"user": world.users["filiere"].pk, "ends_on": "2020-01-01"})
    assert response.status_code == 400 and "déjà passée" in response.content.decode()
    assert SiteAccessGrant.objects.count() == 1


@pytest.mark.parametrize("role", ["saisie", "voisin", "filiere"])
def test_it_reserves_the_grant_page_to_the_sites_referent(client, world, role):
    login_verified(client, world.users[role])
    assert client.get(f"/sites/{world.own.code}/acces-filiere/").status_code in (403, 404)
    response = client.post(f"/sites/{world.own.code}/acces-filiere/", {"user": world.users["filiere"].pk})
    assert response.status_code in (403, 404)
    assert not SiteAccessGrant.objects.exists()


def test_it_revokes_only_grants_of_the_referents_site(referent, world):
    other = SiteAccessGrant.objects.create(site=world.sibling, user=world.users["filiere"])
    response = referent.post(f"/sites/{world.own.code}/acces-filiere/{other.pk}/revoquer/")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.parametrize("role, shown", [("referent", True), ("saisie", False)])
def test_it_offers_the_grant_page_in_the_navigation_to_the_current_sites_referent(client, world, role, shown):
    login_verified(client, world.users[role])
    page = client.get("/", follow=True).content.decode()
    assert (f'href="/sites/{world.own.code}/acces-filiere/"' in page) is shown
