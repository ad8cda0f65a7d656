"""A new user's first day, in a real browser: register, be activated by the hospital account
manager, log in, search, create a patient (seeing the duplicate warning), add two diagnoses
through the ORPHA autocomplete, three activities, an objection, log out. Then another site's
user cannot see or find that patient by any route. Each step leaves a screenshot."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bamara.audit.models import AuditEvent
from bamara.records.models import Activity, Patient
from tests.factories import make_world

PASSWORD = "Un mot de passe tres solide 2026"


@pytest.fixture
def app(live_server, transactional_db):
    world = make_world()
    for key in ("gestionnaire", "lointain"):
        world.users[key].set_password(PASSWORD)
        world.users[key].save()
    # The real bundled terminologies, as `make run` loads them.
    call_command("load_orphanet", verbosity=0)
    call_command("load_hpo", verbosity=0)
    return world, live_server.url


def login(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Se connecter").click()


def logout(page) -> None:
    page.get_by_role("button", name="Se déconnecter").first.click()


def test_it_takes_a_new_user_from_registration_to_a_complete_record(app, new_page, shots):
    world, base = app
    page = new_page("newcomer")

    # 1. Register.
    page.goto(f"{base}/inscription/")
    page.fill("#id_first_name", "Camille")
    page.fill("#id_last_name", "Durand")
    page.fill("#id_email", "camille.durand@chu.test")
    page.select_option("#id_profession", "medecin")
    page.fill("#id_rpps", "81012345678")
    page.select_option("#id_hospital", str(world.hospital.pk))
    page.get_by_label(re.compile(world.own.name)).check(force=True)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    shots(page, "inscription")
    page.get_by_role("button", name=re.compile("Envoyer")).click()
    page.wait_for_url(re.compile("/inscription/envoyee/"))
    shots(page, "inscription-envoyee")
    bodies = "\n".join(message.body for message in mail.outbox)
    link = re.search(r"https?://\S+/inscription/confirmer/\S+/", bodies).group(0)
    page.goto(link)
    shots(page, "adresse-confirmee")

    # 2. The account manager (TOTP required) activates the account with a role on our site.
    manager = new_page("manager")
    login(manager, base, world.users["gestionnaire"].email)
    manager.wait_for_url(re.compile("/compte/2fa/"))
    device = TOTPDevice.objects.get(user=world.users["gestionnaire"])
    manager.fill("#id_token", f"{totp(device.bin_key):06d}")
    manager.get_by_role("button", name="Activer").click()
    manager.goto(f"{base}/gestion/demandes/")
    shots(manager, "gestionnaire-demandes")
    manager.get_by_role("link", name=re.compile("Camille|Durand")).first.click()
    manager.get_by_label(re.compile(f"Rôle sur le site {world.own.name}")).select_option("saisie")
    manager.get_by_role("button", name="Activer le compte avec ces accès").click()
    shots(manager, "gestionnaire-activation")

    # 3. The new user logs in and searches a patient.
    login(page, base, "camille.durand@chu.test")
    page.wait_for_url(re.compile("/tableau-de-bord/"))
    shots(page, "tableau-de-bord")
    page.fill("#search-q", "lefebvre")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_selector("#results >> text=LEFEVRE")
    shots(page, "recherche")

    # 4. Create a patient: the near-identical name is flagged first.
    page.get_by_role("link", name="Ajouter un patient").first.click()
    page.fill("#id_birth_name", "Lefèbvre")
    page.fill("#id_first_birth_given_name", "Léa")
    page.select_option("#id_sex", "F")
    page.fill("#id_birth_date", "12/03/2015")
    page.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_selector("text=Ce patient existe peut-être déjà")
    shots(page, "doublon-possible")
    page.fill("#id_first_birth_given_name", "Chloé")
    page.get_by_role("button", name="Créer quand même un nouveau dossier").click()
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    patient = Patient.objects.get(birth_name="LEFÈBVRE", first_birth_given_name="Chloé")
    shots(page, "dossier-cree")

    # 5. Two diagnoses through the ORPHA autocomplete.
    add_diagnosis(page, orpha="mucovi", pick="ORPHA:586", status="255545003")
    shots(page, "diagnostic-confirme")
    add_diagnosis(page, orpha=None, pick=None, status="42425007", hpo="Hypotonia")
    shots(page, "diagnostic-indetermine")
    statuses = sorted(patient.diagnoses.values_list("status_code", flat=True))
    assert statuses == ["255545003", "42425007"]
    assert patient.diagnoses.get(status_code="255545003").disease_code == "586"
    assert patient.diagnoses.get(status_code="42425007").signs.filter(sign_code__startswith="HP:").exists()

    # 6. Three activities.
    for count, day in enumerate(("2026-09-02", "2026-10-15", "2026-11-20"), start=1):
        add_activity(page, day)
        assert Activity.objects.filter(patient=patient, site=world.own).count() == count
    shots(page, "activites")
    assert Activity.objects.filter(patient=patient, site=world.own).count() == 3

    # 7. Record an objection.
    page.locator("#section-opposition").get_by_role("link", name="Modifier").click()
    form = page.locator("#section-opposition form")
    form.locator("#id_opposition_0").check(force=True)
    form.locator("#id_opposition_on").fill("2026-11-27")
    form.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("#section-opposition >> text=Modifier")
    shots(page, "opposition")
    patient.refresh_from_db()
    assert patient.opposition is True

    logout(page)
    shots(page, "deconnexion")
    assert AuditEvent.objects.filter(patient_id=patient.pk, user_email="camille.durand@chu.test").exists()

    # 8. Another hospital's user cannot see or find the patient by any route.
    stranger = new_page("stranger")
    login(stranger, base, world.users["lointain"].email)
    stranger.goto(f"{base}/patients/recherche/?q=lefebvre")
    assert "LEFÈBVRE" not in stranger.content()
    for path in (f"/patients/{patient.pk}/", f"/patients/{patient.pk}/dossier/diagnostics/",
                 "/autocompletion/orpha/?q=lefebvre"):
        response = stranger.goto(f"{base}{path}")
        assert response.status in (200, 404) and "Chloé" not in stranger.content()
    assert stranger.goto(f"{base}/patients/{patient.pk}/").status == 404
    shots(stranger, "autre-site-404")


def add_diagnosis(page, *, orpha: str | None, pick: str | None, status: str, hpo: str | None = None):
    page.locator("#section-diagnostics").get_by_role("link", name=re.compile("Ajouter")).click()
    form = page.locator("#section-diagnostics form")
    form.wait_for()
    if orpha:
        pick_suggestion(form, "id_disease", orpha, pick)
    form.locator("#id_status").select_option(status)
    for age, value in (("onset_age", "2"), ("clinical_diagnosis_age", "5")):
        form.locator(f"#id_{age}").select_option("767023003")  # postnatal life, in years
        form.locator(f"#id_{age}_value").fill(value)
        form.locator(f"#id_{age}_unit").select_option("a")
    form.locator("#id_genetic_diagnosis_age").select_option("373068000")  # undetermined
    form.locator("#id_date").fill("11/2026")
    if hpo:
        pick_suggestion(form, "id_signs", hpo, "HP:")
    form.get_by_role("button", name="Enregistrer").click()
    try:
        page.wait_for_selector("#section-diagnostics form", state="detached")
    except Exception:
        errors = page.locator("#section-diagnostics .fr-error-text").all_inner_texts()
        raise AssertionError(f"diagnosis rejected: {errors}") from None


def pick_suggestion(form, field_id: str, text: str, expected: str) -> None:
    """Type into a combobox and choose the first suggestion matching `expected`; types again
    once if the suggestions did not come (the debounced request can be lost under load)."""
    field = form.locator(f"#{field_id}")
    option = form.locator(f"#{field_id}-listbox [role=option]").filter(has_text=re.compile(expected)).first
    for attempt in range(2):
        field.fill("")
        field.press_sequentially(text, delay=40)
        try:
            option.wait_for(state="visible", timeout=20_000)
            break
        except Exception:
            if attempt:
                raise
    option.click()


def add_activity(page, day: str):
    quick = page.locator("#section-activites form.bamara-quick")
    quick.locator("[name=date]").fill(day)
    quick.locator("[name=context]").select_option("11429006")
    quick.get_by_label("Suivi", exact=True).check(force=True)
    quick.get_by_role("button", name="Ajouter l'activité").click()
    year, month, date = day.split("-")
    page.wait_for_selector(f"#section-activites >> text={date}/{month}/{year}")
