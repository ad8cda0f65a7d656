"""The site referent's history of each value: who, when, old → new, source."""

import datetime as dt
import re

import pytest

from bamara.accounts.testing import login_verified
from bamara.audit import trail
from bamara.audit.models import Action, AuditEvent
from bamara.records.models import Activity

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def referent(client, world):
    login_verified(client, world.users["referent"])
    return client


def edit_as(client, world, role, url, data):
    client.logout()
    login_verified(client, world.users[role])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:1500]


def test_it_shows_each_change_of_a_field_with_who_when_and_source(client, world):
    patient = world.patients["own"]
    url = f"/patients/{patient.pk}/dossier/recherche/modifier/"
    edit_as(client, world, "saisie", url, {"biobanks": "CRB Necker"})
    edit_as(client, world, "referent", url, {"biobanks": "CRB Lyon"})
    # A CDA document wrote the same record (bamara.intake.service's event).
    trail.record(None, Action.INTAKE, patient=patient, obj=patient, channel="cda",
                 changes={"patient": {"used_name": ["", "DURAND"]}, "rows": {"diagnosis": {"updated": 1}}},
                 detail="CDA 2024.01 1.2.3.4 v2 : accepted")
    response = client.get(f"/patients/{patient.pk}/historique/", {"section": "recherche", "champ": "biobanks"})
    assert response.status_code == 200
    html = response.content.decode()
    rows = [r for r in html.split("<tr>") if "CRB" in r]
    assert "<td>CRB Necker</td><td>CRB Lyon</td>" in rows[0]  # newest first, old → new
    assert "<td>—</td><td>CRB Necker</td>" in rows[1]
    assert "saisie@test.bamara.fr" in html and "referent@test.bamara.fr" in html
    assert "Saisie web" in html and "DURAND" not in html  # another field
    everything = client.get(f"/patients/{patient.pk}/historique/").content.decode()
    assert "DURAND" in everything and "DPI — document 1.2.3.4, version 2" in everything
    assert "1 modifiée(s)" in everything  # the document's diagnoses, under their section


def test_it_shows_the_history_of_one_row_created_changed_and_deleted(client, world):
    patient = world.patients["own"]
    login_verified(client, world.users["referent"])
    response = client.post(f"/patients/{patient.pk}/dossier/sdm-g/ajouter/", {"hgvs": "NM_000492.4:c.1521_1523del"})
    assert response.status_code == 302, response.content.decode()[:1500]
    event = AuditEvent.objects.filter(action="create").latest("id")
    row_id = event.object_id
    client.post(f"/patients/{patient.pk}/dossier/sdm-g/{row_id}/supprimer/")
    html = client.get(f"/patients/{patient.pk}/historique/", {"section": "sdm-g", "ligne": row_id}).content.decode()
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)[1:]
    assert len(rows) == 2
    assert "suppression" in rows[0] and "<td>NM_000492.4:c.1521_1523del</td><td>—</td>" in rows[0]
    assert "création" in rows[1] and "<td>—</td><td>NM_000492.4:c.1521_1523del</td>" in rows[1]


def test_it_hides_the_activities_of_sites_the_referent_does_not_see(referent, world):
    patient = world.patients["own"]
    other = Activity.objects.create(patient=patient, site=world.far, performer_name="Dr Caché", date=dt.date(2024, 1, 3),
                                    context_code="11429006", context_system="2.16.840.1.113883.6.96")
    trail.record(None, Action.UPDATE, patient=patient, obj=other, changes={"performer_name": ["", "Dr Caché"]},
                 channel="web")
    mine = patient.activities.get(site=world.own)
    trail.record(None, Action.UPDATE, patient=patient, obj=mine, changes={"performer_name": ["", "Dr Visible"]},
                 channel="web")
    html = referent.get(f"/patients/{patient.pk}/historique/", {"section": "activites"}).content.decode()
    assert "Dr Visible" in html and "Dr Caché" not in html


def test_it_audits_the_reading_of_the_history(referent, world):
    patient = world.patients["own"]
    before = AuditEvent.objects.count()
    referent.get(f"/patients/{patient.pk}/historique/", {"section": "statut-vital"})
    event = AuditEvent.objects.get(pk__gt=AuditEvent.objects.order_by("id")[before - 1].pk) if before else \
        AuditEvent.objects.get()
    assert (event.action, event.patient_id, event.user_id) == ("view", patient.pk, world.users["referent"].pk)


def test_it_links_the_history_from_the_record_page_for_the_referent_only(client, world):
    patient = world.patients["own"]
    login_verified(client, world.users["referent"])
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    assert f"/patients/{patient.pk}/historique/?section=diagnostics&amp;ligne=" in html
    assert f"/patients/{patient.pk}/acces/" in html
    client.logout()
    login_verified(client, world.users["saisie"])
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "/historique/" not in html and "/acces/" not in html
    assert client.get(f"/patients/{patient.pk}/historique/").status_code == 403


@pytest.mark.parametrize("params", [{"section": "inconnue"}, {"section": "statut-vital", "ligne": "3"},
                                    {"section": "diagnostics", "ligne": "x"}])
def test_it_answers_404_to_a_bad_query(referent, world, params):
    assert referent.get(f"/patients/{world.patients['own'].pk}/historique/", params).status_code == 404
