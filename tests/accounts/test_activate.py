import pytest
from django.core import mail
from django.utils import timezone

from bamara.accounts.models import RegistrationRequest, RegistrationStatus
from bamara.accounts.testing import login_verified
from bamara.audit.models import AuditEvent
from bamara.organisations.models import SiteMembership, User


@pytest.fixture
def registration(world):
    user = User.objects.create_user("nina@chu-a.fr", "x" * 16, first_name="Nina",
                                    last_name="Nouvelle", hospital=world["chu_a"], is_active=False)
    request = RegistrationRequest.objects.create(
        user=user, hospital=world["chu_a"], profession="arc", email_confirmed_at=timezone.now()
    )
    request.set_sites([world["a1"]])
    return request


@pytest.fixture
def manager_client(client, world):
    login_verified(client, world["manager"])
    return client


def url(registration):
    return f"/gestion/demandes/{registration.pk}/"


def test_it_lists_the_pending_requests_of_the_managers_hospital_only(manager_client, world,
                                                                      registration):
    html = manager_client.get("/gestion/demandes/").content.decode()
    assert "Nina Nouvelle" in html and url(registration) in html
    assert "clinicien@chu-a.fr" in html  # active users of the hospital, with their access
    assert "Centre A1 : Saisie" in html
    other = manager_client.__class__()
    login_verified(other, world["other_manager"])
    assert "Nina Nouvelle" not in other.get("/gestion/demandes/").content.decode()


def test_it_shows_a_role_select_for_each_site_of_the_hospital(manager_client, world, registration):
    html = manager_client.get(url(registration)).content.decode()
    assert f'name="site_{world["a1"].pk}"' in html and f'name="site_{world["a2"].pk}"' in html
    assert f'name="site_{world["b1"].pk}"' not in html
    assert '<label class="fr-label fr-sr-only" for="id_site_' in html
    assert '<option value="saisie" selected>' in html  # the requested site, pre-filled


def test_it_activates_with_the_chosen_sites_and_roles_within_the_hospital(
        manager_client, world, registration):
    response = manager_client.post(url(registration), {
        "decision": "activate", f"site_{world['a1'].pk}": "saisie",
        f"site_{world['a2'].pk}": "referent", f"site_{world['b1'].pk}": "referent",
    })
    assert response.status_code == 302 and response["Location"] == "/gestion/demandes/"
    registration.refresh_from_db()
    user = registration.user
    user.refresh_from_db()
    assert user.is_active and registration.status == RegistrationStatus.ACTIVATED
    assert registration.decided_by == world["manager"] and registration.decided_at
    roles = dict(SiteMembership.objects.filter(user=user).values_list("site__code", "role"))
    assert roles == {"A1": "saisie", "A2": "referent"}  # never B1, of another hospital
    assert set(SiteMembership.objects.filter(user=user).values_list("granted_by", flat=True)) \
        == {world["manager"].pk}
    assert [m.to for m in mail.outbox] == [["nina@chu-a.fr"]]
    assert "activé" in mail.outbox[0].subject and "Centre A2 : Référent du site" in mail.outbox[0].body
    events = AuditEvent.objects.filter(user_id=world["manager"].pk)
    assert events.filter(action="update", object_type="organisations.User").exists()
    assert events.filter(action="create", object_type="organisations.SiteMembership").count() == 2
    assert not events.exclude(patient_id=None).exists()


def test_it_needs_a_role_on_at_least_one_site(manager_client, world, registration):
    html = manager_client.post(url(registration), {"decision": "activate"}).content.decode()
    assert "Attribuez un rôle sur au moins un site" in html
    registration.refresh_from_db()
    assert registration.is_pending


def test_it_waits_for_the_email_confirmation(manager_client, world, registration):
    RegistrationRequest.objects.filter(pk=registration.pk).update(email_confirmed_at=None)
    html = manager_client.post(url(registration), {
        "decision": "activate", f"site_{world['a1'].pk}": "saisie"}).content.decode()
    assert "pas encore confirmé son adresse" in html
    assert not User.objects.get(pk=registration.user_id).is_active


def test_it_answers_404_to_the_manager_of_another_hospital(client, world, registration):
    login_verified(client, world["other_manager"])
    assert client.get(url(registration)).status_code == 404
    assert client.post(url(registration), {"decision": "activate",
                                           f"site_{world['a1'].pk}": "saisie"}).status_code == 404
    assert not User.objects.get(pk=registration.user_id).is_active


def test_it_forbids_the_pages_to_non_managers(client, world, registration):
    login_verified(client, world["clinician"])
    assert client.get("/gestion/demandes/").status_code == 403
    assert client.get(url(registration)).status_code == 403


def test_it_refuses_with_a_reason_mailed_and_audited(manager_client, world, registration):
    html = manager_client.post(url(registration), {"decision": "refuse", "reason": ""}).content.decode()
    assert "Ce champ est obligatoire." in html
    response = manager_client.post(url(registration), {"decision": "refuse",
                                                       "reason": "Inconnue du service."})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REFUSED
    assert registration.refusal_reason == "Inconnue du service."
    assert not registration.user.is_active
    assert not SiteMembership.objects.filter(user=registration.user).exists()
    assert "refusée" in mail.outbox[0].subject and "Inconnue du service." in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="update", object_id=str(registration.user_id),
                                     detail__contains="refusée").exists()


def test_it_decides_only_once(manager_client, world, registration):
    manager_client.post(url(registration), {"decision": "refuse", "reason": "Non."})
    response = manager_client.post(url(registration), {"decision": "activate",
                                                       f"site_{world['a1'].pk}": "saisie"},
                                   follow=True)
    assert "déjà été traitée" in response.content.decode()
    assert not User.objects.get(pk=registration.user_id).is_active


def test_it_changes_roles_and_withdraws_access_audited(manager_client, world):
    clinician, a1, a2 = world["clinician"], world["a1"], world["a2"]
    page = f"/gestion/utilisateurs/{clinician.pk}/"
    assert manager_client.get(page).status_code == 200
    manager_client.post(page, {f"site_{a1.pk}": "", f"site_{a2.pk}": "referent"})
    memberships = {m.site.code: (m.role, m.active) for m in clinician.memberships.all()}
    assert memberships == {"A1": ("saisie", False), "A2": ("referent", True)}
    changed = AuditEvent.objects.filter(object_type="organisations.SiteMembership")
    assert changed.filter(action="update", changes__active=[True, False]).exists()
    assert changed.filter(action="create").exists()


def test_it_withdraws_one_membership(manager_client, world):
    membership = world["clinician"].memberships.get()
    assert manager_client.get(f"/gestion/rattachements/{membership.pk}/desactiver/").status_code == 405
    manager_client.post(f"/gestion/rattachements/{membership.pk}/desactiver/")
    membership.refresh_from_db()
    assert not membership.active


def test_it_deactivates_and_reactivates_a_user_of_the_hospital(manager_client, world):
    clinician = world["clinician"]
    manager_client.post(f"/gestion/utilisateurs/{clinician.pk}/desactiver/")
    clinician.refresh_from_db()
    assert not clinician.is_active
    assert AuditEvent.objects.filter(object_id=str(clinician.pk), detail="compte désactivé").exists()
    manager_client.post(f"/gestion/utilisateurs/{clinician.pk}/reactiver/")
    clinician.refresh_from_db()
    assert clinician.is_active


def test_it_keeps_managers_away_from_other_hospitals_users_and_their_own_access(
        manager_client, world):
    assert manager_client.get(f"/gestion/utilisateurs/{world['other_manager'].pk}/").status_code == 404
    assert manager_client.post(
        f"/gestion/utilisateurs/{world['other_manager'].pk}/desactiver/").status_code == 404
    own = f"/gestion/utilisateurs/{world['manager'].pk}/"
    assert manager_client.post(own, {f"site_{world['a1'].pk}": "referent"}).status_code == 403
    assert manager_client.post(f"{own}desactiver/").status_code == 403
    assert not SiteMembership.objects.filter(user=world["manager"]).exists()
