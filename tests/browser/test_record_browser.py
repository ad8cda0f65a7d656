"""The record page in a real browser (headless chromium): htmx swaps and the keyboard combobox.

The browser comes from tests/browser/conftest.py (one Playwright instance per session)."""

from __future__ import annotations

import pytest

from bamara.records.models import Patient
from bamara.terminologies.loaders import orphanet as orphanet_loader
from bamara.terminologies.loaders.common import store
from bamara.terminologies.models import OrphaConcept
from tests.factories import make_world


@pytest.fixture
def page(browser, live_server, transactional_db, client):
    world = make_world()
    orpha = orphanet_loader.Orphanet(version="test")
    for code, name, level in ((586, "Mucoviscidose", "disorder"), (98006, "Maladie neurologique rare", "group")):
        orpha.concepts[code] = OrphaConcept(code=code, name_fr=name, name_en=name, disorder_type="Disease",
                                            level=level, status="active", flag_value=1, aggregation_codes=[])
    dataset = orphanet_loader.dataset(orpha, [])
    dataset.sha256 = "browser-test"
    store(dataset)
    client.force_login(world.users["saisie"])
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.world = world
    page.base = live_server.url
    yield page
    context.close()


def test_it_swaps_a_section_for_its_form_and_back(page):
    patient = page.world.patients["own"]
    page.goto(f"{page.base}/patients/{patient.pk}/")
    url = page.url
    page.click("#section-recherche >> text=Modifier")
    page.wait_for_selector("#section-recherche form")
    assert page.url == url  # swapped in place, no navigation
    assert page.evaluate("document.activeElement.closest('#section-recherche') !== null")
    page.fill("#id_biobanks", "CRB Necker")
    page.click("#section-recherche >> text=Enregistrer")
    page.wait_for_selector("#section-recherche >> text=CRB Necker")
    assert page.locator("#section-recherche form").count() == 0
    assert "Section « Recherche » enregistrée." in page.text_content("#record-status")
    assert Patient.objects.get(pk=patient.pk).biobanks == "CRB Necker"


def test_it_completes_an_orpha_code_with_the_keyboard(page):
    patient = page.world.patients["own"]
    diagnosis = patient.diagnoses.get()
    page.goto(f"{page.base}/patients/{patient.pk}/dossier/diagnostics/{diagnosis.pk}/modifier/")
    field = page.locator("#id_disease")
    field.fill("")
    field.press_sequentially("mucovi", delay=30)
    page.wait_for_selector("#id_disease-listbox:not([hidden]) [role=option]")
    assert field.get_attribute("aria-expanded") == "true"
    field.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == "id_disease-listbox-1"
    field.press("Enter")
    assert field.input_value() == "ORPHA:586"
    assert field.get_attribute("aria-expanded") == "false"
    assert "Mucoviscidose" in page.text_content("#id_disease-choice")
