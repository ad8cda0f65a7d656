"""Each read and write of the autonomous-mode journey leaves exactly one audit entry, with the
right action, user and patient (one entry per patient shown, for lists and searches)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bamara.accounts.testing import login_verified
from bamara.audit.models import AuditEvent
from bamara.organisations.models import SiteAccessGrant
from bamara.records.models import Activity, Foetus, Patient, Pregnancy
from tests.records.test_activities import quick
from tests.records.test_record_diagnoses import diagnosis
from tests.records.test_record_external_review import review

HTMX = {"HTTP_HX_REQUEST": "true"}
IDENTITY = {"birth_name": "Nouveau", "first_birth_given_name": "Léa", "sex": "F", "birth_date": "05/2019",
            "birth_given_names": "", "used_name": "", "ipp": "", "ins": ""}


def new_events(action: Callable[[], object]) -> list[tuple[str, int | None, int | None]]:
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = action()
    assert getattr(response, "status_code", 200) < 400, getattr(response, "content", b"")[:2000]
    return list(AuditEvent.objects.filter(id__gt=last).order_by("id").values_list("action", "user_id", "patient_id"))


@pytest.fixture
def as_saisie(client, world):
    login_verified(client, world.users["saisie"])
    return client


def one(action: str, world, patient: Patient | int | None, role: str = "saisie") -> list[tuple]:
    pk = patient.pk if isinstance(patient, Patient) else patient
    return [(action, world.users[role].pk, pk)]


def test_it_audits_a_search_once_and_each_patient_shown_once(as_saisie, world):
    events = new_events(lambda: as_saisie.get("/patients/recherche/", {"q": "lefevre"}))
    assert events == [("search", world.users["saisie"].pk, None), *one("view", world, world.patients["own"])]


def test_it_audits_the_record_page_once(as_saisie, world):
    patient = world.patients["own"]
    assert new_events(lambda: as_saisie.get(f"/patients/{patient.pk}/")) == one("view", world, patient)


def test_it_audits_a_creation_once(as_saisie, world):
    events = new_events(lambda: as_saisie.post("/patients/nouveau/", IDENTITY))
    assert events == one("create", world, Patient.objects.get(birth_name="NOUVEAU"))


def test_it_audits_an_attachment_once(client, world):
    login_verified(client, world.users["voisin"])
    patient = world.patients["own"]
    events = new_events(lambda: client.post(f"/patients/{patient.pk}/rattacher/"))
    assert events == one("create", world, patient, "voisin")


@pytest.mark.parametrize("key", ["statut-vital", "opposition"])
def test_it_audits_a_section_form_and_its_save_once_each(as_saisie, world, key):
    patient = world.patients["own"]
    url = f"/patients/{patient.pk}/dossier/{key}/modifier/"
    assert new_events(lambda: as_saisie.get(url)) == one("view", world, patient)
    data = {"deceased": "vivant"} if key == "statut-vital" else {"opposition": "oui", "opposition_on": "2024-02-01",
                                                                   "patient_informed": "oui"}
    assert new_events(lambda: as_saisie.post(url, data)) == one("update", world, patient)
    if key == "opposition":
        assert Patient.objects.get(pk=patient.pk).opposition is True


def test_it_audits_a_refused_save_once(as_saisie, world):
    patient = world.patients["own"]
    url = f"/patients/{patient.pk}/dossier/diagnostics/ajouter/"
    assert new_events(lambda: as_saisie.post(url, diagnosis(disease="ORPHA:nimporte"))) == one("view", world, patient)


def test_it_audits_a_section_view_once(as_saisie, world):
    patient = world.patients["own"]
    events = new_events(lambda: as_saisie.get(f"/patients/{patient.pk}/dossier/statut-vital/", **HTMX))
    assert events == one("view", world, patient)


@pytest.mark.parametrize(("key", "data"), [
    ("diagnostics", lambda w: diagnosis()),
    ("activites", lambda w: quick(w, rapide="")),
])
def test_it_audits_each_step_of_a_row_once(as_saisie, world, key, data):
    patient = world.patients["own"]
    base = f"/patients/{patient.pk}/dossier/{key}/"
    assert new_events(lambda: as_saisie.get(base + "ajouter/")) == one("view", world, patient)
    before = set(patient.diagnoses.values_list("pk", flat=True)) | set(patient.activities.values_list("pk", flat=True))
    assert new_events(lambda: as_saisie.post(base + "ajouter/", data(world))) == one("create", world, patient)
    row = (patient.diagnoses if key == "diagnostics" else patient.activities).exclude(pk__in=before).get()
    assert new_events(lambda: as_saisie.get(f"{base}{row.pk}/modifier/")) == one("view", world, patient)
    changed = diagnosis(status="723511001") if key == "diagnostics" else quick(world, rapide="", context="MED-096")
    assert new_events(lambda: as_saisie.post(f"{base}{row.pk}/modifier/", changed)) == one("update", world, patient)
    assert new_events(lambda: as_saisie.get(f"{base}{row.pk}/supprimer/")) == one("view", world, patient)
    assert new_events(lambda: as_saisie.post(f"{base}{row.pk}/supprimer/")) == one("delete", world, patient)


def test_it_audits_a_quick_activity_once(as_saisie, world):
    patient = world.patients["own"]
    url = f"/patients/{patient.pk}/dossier/activites/ajouter/"
    assert new_events(lambda: as_saisie.post(url, quick(world), **HTMX)) == one("create", world, patient)


def test_it_audits_an_external_review_once(as_saisie, world):
    events = new_events(lambda: as_saisie.post("/avis-sur-dossier/nouveau/", review()))
    assert events == one("create", world, Patient.objects.get(birth_name="MOREAU"))


def test_it_audits_a_foetus_record_once(as_saisie, world):
    mother = world.patients["own"]
    pregnancy = Pregnancy.objects.create(patient=mother, foetus_count=1)
    foetus = Foetus.objects.create(pregnancy=pregnancy, mother=mother, rank=1, local_id="F1")
    events = new_events(lambda: as_saisie.post(f"/patients/{mother.pk}/foetus/{foetus.pk}/dossier/"))
    foetus.refresh_from_db()
    assert events == one("create", world, foetus.record_id)


def test_it_audits_the_day_list_once_per_patient_shown(as_saisie, world):
    patient = world.patients["own"]
    Activity.objects.create(patient=patient, site=world.own, date=dt.date(2024, 5, 2), context_code="MED-096",
                            context_system="1.2.250.1.213.1.1.4.322")
    events = new_events(lambda: as_saisie.get(f"/sites/{world.own.code}/activites/", {"date": "2024-05-02"}))
    assert events == one("view", world, patient)
    events = new_events(lambda: as_saisie.get(f"/sites/{world.own.code}/activites/patients/", {"q": "lefevre"}))
    assert events == [("search", world.users["saisie"].pk, None), *one("view", world, patient)]


def test_it_audits_the_referent_pages_once(client, world):
    login_verified(client, world.users["referent"])
    patient = world.patients["own"]
    assert new_events(lambda: client.get(f"/patients/{patient.pk}/historique/")) == one("view", world, patient, "referent")
    for output in ("", "csv", "pdf"):
        params = {"format": output} if output else {}
        events = new_events(lambda params=params: client.get(f"/patients/{patient.pk}/acces/", params))
        assert events == one("export" if output else "view", world, patient, "referent")
    url = f"/sites/{world.own.code}/acces-filiere/"
    assert new_events(lambda: client.post(url, {"user": world.users["filiere"].pk})) == one("grant", world, None, "referent")
    grant = SiteAccessGrant.objects.get()
    assert new_events(lambda: client.post(f"{url}{grant.pk}/revoquer/")) == one("revoke", world, None, "referent")
    assert new_events(lambda: client.get(url)) == []  # the list of grants is not nominative data


def test_it_audits_what_a_granted_filiere_referent_reads(client, world):
    SiteAccessGrant.objects.create(site=world.own, user=world.users["filiere"])
    login_verified(client, world.users["filiere"])
    patient = world.patients["own"]
    assert new_events(lambda: client.get(f"/patients/{patient.pk}/")) == one("view", world, patient, "filiere")


def test_it_audits_the_dashboard_once_per_patient_shown(as_saisie, world):
    events = new_events(lambda: as_saisie.get("/tableau-de-bord/"))
    assert events == one("view", world, world.patients["own"])
