"""The per-patient access report: every access, filterable by period, CSV and PDF, audited."""

import csv
import datetime as dt
import io

import pytest

from bamara.accounts.testing import login_verified
from bamara.audit import trail
from bamara.audit.models import Action, AuditEvent


@pytest.fixture
def referent(client, world):
    login_verified(client, world.users["referent"])
    return client


def test_it_lists_every_access_to_the_patient_with_who_and_where(client, world):
    patient = world.patients["own"]
    login_verified(client, world.users["saisie"])
    client.get(f"/patients/{patient.pk}/", REMOTE_ADDR="10.0.0.7")
    client.logout()
    login_verified(client, world.users["referent"])
    trail.record(world.users["voisin"], Action.EXPORT, patient=world.patients["sibling"], detail="autre patient")
    html = client.get(f"/patients/{patient.pk}/acces/").content.decode()
    assert "Saisie &lt;saisie@test.bamara.fr&gt;" in html and "10.0.0.7" in html and "consultation" in html
    assert "autre patient" not in html
    # The report's own production is in the trail, with the referent and the patient.
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.patient_id, event.user_id) == ("view", patient.pk, world.users["referent"].pk)
    assert "rapport des accès" in event.detail


def test_it_filters_by_period(referent, world):
    patient = world.patients["own"]
    trail.record(world.users["saisie"], Action.UPDATE, patient=patient, detail="modification du jour")
    today = dt.date.today()
    html = referent.get(f"/patients/{patient.pk}/acces/", {"du": "2020-01-01", "au": "2020-12-31"}).content.decode()
    assert "modification du jour" not in html and "Aucun accès sur la période" in html
    html = referent.get(f"/patients/{patient.pk}/acces/", {"du": str(today - dt.timedelta(days=1))}).content.decode()
    assert "modification du jour" in html


def test_it_refuses_an_inverted_period_with_a_french_message(referent, world):
    response = referent.get(f"/patients/{world.patients['own'].pk}/acces/", {"du": "2025-02-01", "au": "2025-01-01"})
    assert response.status_code == 400
    assert "La date de début doit précéder la date de fin." in response.content.decode()


def test_it_downloads_csv_and_audits_the_export(referent, world):
    patient = world.patients["own"]
    trail.record(world.users["saisie"], Action.VIEW, patient=patient, detail="lecture test")
    response = referent.get(f"/patients/{patient.pk}/acces/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Date et heure", "Utilisateur", "Action"]
    assert any(r[1] == "Saisie <saisie@test.bamara.fr>" and r[4] == "lecture test" for r in rows[1:])
    exports = AuditEvent.objects.filter(action="export", patient_id=patient.pk, user_id=world.users["referent"].pk)
    assert exports.count() == 1 and "csv" in exports.get().detail
    assert any("rapport des accès csv" in r[4] for r in rows[1:])  # the export itself is in the report


def test_it_downloads_a_pdf(referent, world):
    patient = world.patients["own"]
    response = referent.get(f"/patients/{patient.pk}/acces/", {"format": "pdf", "du": "2024-01-01"})
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and len(response.content) > 1500
    assert AuditEvent.objects.filter(action="export", patient_id=patient.pk, detail__contains="pdf").count() == 1


def test_it_refuses_an_unknown_format(referent, world):
    assert referent.get(f"/patients/{world.patients['own'].pk}/acces/", {"format": "xls"}).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("saisie", 403), ("voisin", 404), ("filiere", 404), ("national", 404)])
def test_it_is_for_the_referent_of_the_patients_site_only(client, world, role, status):
    login_verified(client, world.users[role])
    assert client.get(f"/patients/{world.patients['own'].pk}/acces/", {"format": "csv"}).status_code == status
    assert not AuditEvent.objects.filter(action="export").exists()
