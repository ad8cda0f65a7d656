"""The record page: one page per patient, the SDM-MR chapters as sections, behind the wall."""

from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.records.models import Activity, Foetus, Pregnancy, RegistryConsent
from bamara.records.sdm_forms import SECTIONS

OUTSIDERS = ["voisin", "lointain", "national", "filiere"]


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


@pytest.fixture
def urls(world):
    """Every URL of the record pages for the `own` patient, with the method to call it."""
    patient = world.patients["own"]
    pregnancy = Pregnancy.objects.create(patient=patient)
    foetus = Foetus.objects.create(pregnancy=pregnancy, mother=patient)
    consent = RegistryConsent.objects.create(patient=patient, registry="ERN")
    rows = {"diagnostics": patient.diagnoses.get().pk, "activites": Activity.objects.get(patient=patient).pk,
            "parcours": patient.care_episodes.get().pk, "grossesses": pregnancy.pk, "foetus": foetus.pk,
            "consentements-ern": consent.pk}
    base = f"/patients/{patient.pk}"
    found = [("get", f"{base}/"), ("post", f"{base}/foetus/{foetus.pk}/dossier/")]
    for section in SECTIONS:
        found.append(("get", f"{base}/dossier/{section.key}/"))
        if section.rows:
            found += [("get", f"{base}/dossier/{section.key}/ajouter/"),
                      ("post", f"{base}/dossier/{section.key}/ajouter/")]
        else:
            found += [("get", f"{base}/dossier/{section.key}/modifier/"),
                      ("post", f"{base}/dossier/{section.key}/modifier/")]
        if section.key in rows:
            row = f"{base}/dossier/{section.key}/{rows[section.key]}"
            found += [("get", f"{row}/modifier/"), ("post", f"{row}/modifier/"),
                      ("get", f"{row}/supprimer/"), ("post", f"{row}/supprimer/")]
    return found


def test_it_shows_one_section_per_chapter_and_audits_one_view(saisie, world):
    patient = world.patients["own"]
    before = AuditEvent.objects.count()
    response = saisie.get(f"/patients/{patient.pk}/")
    html = unescape(response.content.decode())
    assert response.status_code == 200
    for title in ("Opposition, réglementaire", "Identification patient", "Informations administratives",
                  "Informations familiales", "Statut vital", "Parcours de soins", "Activité de soins",
                  "Diagnostics : histoire de la maladie, diagnostic, confirmation", "Anté et néonatal",
                  "Recherche", "Statut fonctionnel (CIF)", "SDM-G (cartouche génomique)"):
        assert f">{title}</h2>" in html, title
    assert "Traitement</h2>" not in html  # retired in 2024.01 and empty
    assert "ORPHA:586" in html and "diagnostic définitif" in html
    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert [(e.action, e.patient_id, e.user_id) for e in events] == [("view", patient.pk, world.users["saisie"].pk)]


def test_it_is_accessible_to_keyboard_and_screen_reader_users(saisie, world):
    html = saisie.get(f"/patients/{world.patients['own'].pk}/").content.decode()
    assert 'aria-live="polite"' in html and 'id="record-status"' in html
    assert 'aria-labelledby="h-diagnostics"' in html and 'tabindex="-1"' in html
    assert f'href="/patients/{world.patients["own"].pk}/dossier/statut-vital/modifier/"' in html  # works without JS
    assert "records/record.js" in html


def test_it_shows_a_retired_chapter_only_when_it_holds_values(saisie, world):
    from bamara.records.models import Treatment

    patient = world.patients["own"]
    Treatment.objects.create(patient=patient, label="Ivacaftor", atc_code="R07AX02", atc_system="2.16.840.1.113883.6.73")
    html = unescape(saisie.get(f"/patients/{patient.pk}/").content.decode())
    assert "Traitement</h2>" in html and "Ivacaftor" in html and "donnée retirée" in html
    assert f"/patients/{patient.pk}/dossier/traitement/ajouter/" not in html
    assert saisie.get(f"/patients/{patient.pk}/dossier/traitement/ajouter/").status_code == 404


def test_it_edits_a_treatment_of_a_2022_record(saisie, world):
    patient = world.patients["own"]
    patient.sdm_version = "2022.01"
    patient.save()
    response = saisie.post(f"/patients/{patient.pk}/dossier/traitement/ajouter/",
                           {"label": "Ivacaftor", "atc": "r07ax02", "start": "2020"})
    assert response.status_code == 302
    treatment = patient.treatments.get()
    assert (treatment.atc_code, treatment.start_partial.isoformat()) == ("R07AX02", "2020")


def test_it_hides_other_sites_data(saisie, world):
    html = saisie.get(f"/patients/{world.patients['own'].pk}/").content.decode()
    assert world.sibling.code not in html and world.far.code not in html


@pytest.mark.parametrize("user", OUTSIDERS)
def test_it_answers_404_to_users_outside_the_wall_on_every_url(client, world, urls, user):
    client.force_login(world.users[user])
    patient = world.patients["own"]
    before = AuditEvent.objects.filter(patient_id=patient.pk).count()
    for method, url in urls:
        response = getattr(client, method)(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 404, (method, url)
    assert AuditEvent.objects.filter(patient_id=patient.pk).count() == before
    assert Pregnancy.objects.filter(patient=patient).count() == 1 and Foetus.objects.get().record is None


def test_it_sends_anonymous_users_to_the_login_page(client, world, urls):
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/connexion/" in response.url, url


def test_it_answers_404_to_an_unknown_section(saisie, world):
    assert saisie.get(f"/patients/{world.patients['own'].pk}/dossier/inconnue/modifier/").status_code == 404



def test_it_keeps_other_sites_out_of_the_completeness_and_the_checks(saisie, world):
    from bamara.records.models import CareEpisode

    patient = world.patients["own"]
    CareEpisode.objects.create(patient=patient, site=world.sibling)
    Activity.objects.create(patient=patient, site=world.sibling, date="2014-01-09", context_code="ORG-030",
                            context_system="1.2.250.1.213.1.1.4.322")  # before birth: an error of the other site
    html = unescape(saisie.get(f"/patients/{patient.pk}/").content.decode())
    assert world.sibling.code not in html and "09/01/2014" not in html
    assert html.count("Au moins un « patient adressé par » est obligatoire.") == 1

