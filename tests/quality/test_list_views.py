"""The follow-up list pages of a site: members only, exact lists, one VIEW event per patient
shown naming the list and its count, links to the record page, French errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bamara.audit.models import Action, AuditEvent
from bamara.quality import views
from bamara.quality.models import RecordIssue
from tests.quality.conftest import TODAY


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


def get(client, user, name: str, code: str = "S9001", **params):
    client.force_login(user)
    return client.get(reverse(f"quality:{name}", args=[code]), params)


def test_it_lists_the_inactive_patients_with_links_and_audits_each_one(client, world, edges):
    response = get(client, world.users["referent"], "inactive")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 12 and response.context["page"].paginator.count == 12
    html = response.content.decode()
    assert reverse("records:patient", args=[edges["UNJOURDEPLUS"].pk]) in html
    assert "EXACTEMENT" not in html and "DECEDE" not in html
    events = AuditEvent.objects.filter(action=Action.VIEW, user_id=world.users["referent"].pk)
    assert sorted(events.values_list("patient_id", flat=True)) == sorted(r.patient.pk for r in rows)
    assert all("sans activité depuis plus de 12 mois" in e.detail and "12 dossiers" in e.detail for e in events)


def test_it_takes_the_number_of_months_and_explains_a_bad_one(client, world, edges):
    # Only JAMAISVU (no activity, included 15/01/2020) is older than 36 months.
    assert [r.patient.birth_name for r in get(client, world.users["saisie"], "inactive", mois="36").context["rows"]] == [
        "JAMAISVU"]
    response = get(client, world.users["saisie"], "inactive", mois="douze")
    assert response.status_code == 200
    assert "Le nombre de mois doit être un entier de 1 à 120" in response.content.decode()
    assert response.context["months"] == 12


def test_it_lists_the_dead_ends(client, world, edges):
    response = get(client, world.users["saisie"], "dead_end")
    names = [r.patient.birth_name for r in response.context["rows"]]
    assert names == ["ANCIENCODE", "MOISSEUL", "DEUXANSUNJOUR"]
    assert "premiers signes au plus tard le 27/11/2024" in response.content.decode()


def test_it_lists_the_inactive_codes_with_their_replacement(client, world, edges, orphanet):
    response = get(client, world.users["saisie"], "inactive_codes")
    html = response.content.decode()
    assert [r.patient.birth_name for r in response.context["rows"]] == ["OBSOLETE", "SIGNEINACTIF"]
    assert "ORPHA:166068" in html and "remplacer par ORPHA:166063" in html
    assert "VOISINOBSOLETE" not in html


def test_it_lists_the_incomplete_records_with_what_is_missing(client, world, edges):
    from bamara.records.completeness import completeness

    response = get(client, world.users["saisie"], "missing")
    expected = {p.birth_name for p in edges.values() if world.own in [e.site for e in p.care_episodes.all()]
                and completeness(p, sites=[world.own]).missing_mandatory} | {"LEFEVRE"}
    assert {r.patient.birth_name for r in response.context["rows"]} == expected
    assert all(r.details for r in response.context["rows"])


def test_it_lists_the_records_to_fix_with_live_messages(client, world, edges):
    RecordIssue.objects.create(site=world.own, patient=edges["OBSOLETE"], checked_on=TODAY, errors=1,
                               rules=["required"])
    RecordIssue.objects.create(site=world.sibling, patient=edges["VOISINOBSOLETE"], checked_on=TODAY, errors=1)
    response = get(client, world.users["saisie"], "to_fix")
    rows = response.context["rows"]
    assert [r.patient.birth_name for r in rows] == ["OBSOLETE"]
    assert "VOISINOBSOLETE" not in response.content.decode()


@pytest.mark.parametrize("name", ["inactive", "dead_end", "missing", "inactive_codes", "to_fix"])
def test_it_answers_404_outside_the_users_sites(client, world, edges, name):
    assert get(client, world.users["voisin"], name).status_code == 404
    assert get(client, world.users["voisin"], name, code="S9002").status_code == 200
    assert not AuditEvent.objects.filter(patient_id__in=[p.pk for p in edges.values() if p.birth_name != "DEUXSITES"
                                                         and p.birth_name != "VOISINOBSOLETE"]).exists()


def test_it_paginates(client, world, edges, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 5)
    first = get(client, world.users["saisie"], "inactive")
    third = get(client, world.users["saisie"], "inactive", page="3")
    assert len(first.context["rows"]) == 5 and len(third.context["rows"]) == 2
    assert "mois=12&amp;page=2" in first.content.decode()
