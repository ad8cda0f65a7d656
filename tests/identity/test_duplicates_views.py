"""The duplicate review queue of the site referent: list, compare, merge, reject, unmerge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bamara.accounts.testing import login_verified
from bamara.audit.models import Action, AuditEvent
from bamara.identity.models import CandidateStatus, DuplicateCandidate, Merge
from bamara.records.models import Activity, Patient
from bamara.sdm import oids
from tests.factories import make_patient
from tests.identity.duplicates import candidate_for


@pytest.fixture
def pair(world):
    """LEFEVRE (own site) and a second record of her followed at the sibling site only."""
    other = make_patient("LEFEBVRE", [world.sibling], born="2015-12-03")
    return candidate_for(world, "own", other), world.patients["own"], other


def test_it_lists_the_pairs_of_the_referents_sites_with_identity_traits(client, world, pair):
    _candidate, own, other = pair
    client.force_login(world.users["referent"])
    response = client.get(reverse("identity:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "LEFEVRE" in body and "LEFEBVRE" in body and "nom : identique" in body
    assert "Doublons" in body  # the menu entry
    viewed = set(AuditEvent.objects.filter(action=Action.VIEW).values_list("patient_id", flat=True))
    assert viewed == {own.pk, other.pk}


def test_it_keeps_other_users_out(client, world, pair):
    candidate, _own, _other = pair
    for role in ("saisie", "voisin", "gestionnaire", "national"):
        login_verified(client, world.users[role])
        assert client.get(reverse("identity:queue")).status_code == 403
        assert client.get(reverse("identity:candidate", args=[candidate.pk])).status_code == 404
        assert "Doublons" not in client.get(reverse("records:dashboard")).content.decode()


def test_it_hides_pairs_without_a_record_at_the_referents_sites(client, world):
    first = make_patient("DUPONT", [world.sibling], given="Paul", sex="M", born="2001-01-01")
    hidden = candidate_for(world, "sibling", first)
    client.force_login(world.users["referent"])
    assert client.get(reverse("identity:candidate", args=[hidden.pk])).status_code == 404
    assert "DUPONT" not in client.get(reverse("identity:queue")).content.decode()


def test_it_shows_both_records_identity_but_no_medical_data(client, world, pair):
    candidate, _own, _other = pair
    client.force_login(world.users["referent"])
    body = client.get(reverse("identity:candidate", args=[candidate.pk])).content.decode()
    assert "LEFEVRE" in body and "LEFEBVRE" in body and "S9002" in body
    assert "586" not in body and "ORPHA" not in body  # the diagnosis of each record
    assert 'for="keep-a"' in body and 'for="keep-b"' in body  # labelled choices


def test_it_merges_the_pair_keeping_the_chosen_record(client, world, pair):
    candidate, own, other = pair
    client.force_login(world.users["referent"])
    keep = "a" if candidate.patient_a == own.pk else "b"
    response = client.post(reverse("identity:merge", args=[candidate.pk]), {"keep": keep})
    done = Merge.objects.get()
    assert response.status_code == 302 and response.url == reverse("identity:merge_detail", args=[done.pk])
    assert done.kept == own.pk and not Patient.objects.filter(pk=other.pk).exists()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.MERGED
    assert AuditEvent.objects.filter(action=Action.MERGE, user_id=world.users["referent"].pk).count() == 2
    page = client.get(response.url).content.decode()
    assert "LEFEBVRE" in page and "Annuler la fusion" in page


def test_it_asks_which_record_to_keep(client, world, pair):
    candidate, _own, _other = pair
    client.force_login(world.users["referent"])
    response = client.post(reverse("identity:merge", args=[candidate.pk]), {}, follow=True)
    assert "Choisissez le dossier à conserver" in response.content.decode()
    assert not Merge.objects.exists()


def test_it_rejects_a_pair_of_two_people(client, world, pair):
    candidate, _own, _other = pair
    client.force_login(world.users["referent"])
    response = client.post(reverse("identity:reject", args=[candidate.pk]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.REJECTED and candidate.decided_by == world.users["referent"]
    assert "Aucun doublon potentiel" in client.get(reverse("identity:queue")).content.decode()


def test_it_undoes_a_merge_from_the_history(client, world, pair):
    candidate, own, other = pair
    client.force_login(world.users["referent"])
    keep = "a" if candidate.patient_a == own.pk else "b"
    client.post(reverse("identity:merge", args=[candidate.pk]), {"keep": keep})
    done = Merge.objects.get()
    assert "LEFEVRE" in client.get(reverse("identity:merges")).content.decode()
    response = client.post(reverse("identity:unmerge", args=[done.pk]))
    assert response.status_code == 302
    assert Patient.objects.filter(pk=other.pk).exists()
    assert DuplicateCandidate.objects.get().status == CandidateStatus.PENDING
    assert AuditEvent.objects.filter(action=Action.UNMERGE).count() == 2


def test_it_explains_why_a_merge_cannot_be_undone(client, world, pair):
    candidate, own, other = pair
    client.force_login(world.users["referent"])
    keep = "a" if candidate.patient_a == own.pk else "b"
    client.post(reverse("identity:merge", args=[candidate.pk]), {"keep": keep})
    done = Merge.objects.get()
    Activity.objects.create(patient=own, site=world.own, date=dt.date(2025, 3, 1),
                            context_code="11429006", context_system=oids.SNOMED_CT)
    response = client.post(reverse("identity:unmerge", args=[done.pk]), follow=True)
    assert "modifié depuis la fusion" in response.content.decode()
    assert not Patient.objects.filter(pk=other.pk).exists()
