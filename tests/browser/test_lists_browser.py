"""The patient list in a real browser: filter by an ORPHA group, download the XLSX, reopen it
and find the expected rows and the variables sheet. Each step leaves a screenshot."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from bamara.audit.models import AuditEvent
from bamara.lists.filters import _orpha_codes
from tests.factories import make_patient, make_world


@pytest.fixture
def app(live_server, transactional_db):
    world = make_world()
    call_command("load_orphanet", verbosity=0)  # the real bundled nomenclature and classifications
    _orpha_codes.cache_clear()  # per-process cache of the classifications, filled by other tests
    # Another patient of the site, with a disease outside the group (ORPHA:48, not a respiratory disease).
    other = make_patient("BERNARD", [world.own], given="Anne")
    other.diagnoses.update(disease_code="48")
    return world, live_server.url


def test_it_filters_by_an_orpha_group_and_downloads_the_xlsx(app, new_page, shots, log_in, tmp_path):
    world, base = app
    page = new_page("lists")
    log_in(page, base, world.users["saisie"])

    page.get_by_role("link", name="Listes de patients").click()
    page.wait_for_selector("#list-results >> text=BERNARD")
    shots(page, "liste")

    # ORPHA:97955 « Maladie respiratoire rare » is a group: cystic fibrosis (586) is under it.
    page.get_by_label(re.compile("Maladie ou groupe ORPHA")).fill("ORPHA:97955")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_selector("#list-results >> text=1 patient")
    assert page.locator("#list-results").get_by_text("BERNARD").count() == 0
    assert "ORPHA:586 Mucoviscidose" in page.locator("#list-results").inner_text()
    shots(page, "filtre-groupe-orpha")

    with page.expect_download() as info:
        page.get_by_role("link", name="XLSX nominatif").click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert re.fullmatch(r"bamara-patients-S9001-\d{8}\.xlsx", download.suggested_filename)

    book = load_workbook(path, read_only=True)
    rows = list(book["patients"].iter_rows(values_only=True))
    patients = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(p["nom_naissance"], p["premier_prenom_naissance"]) for p in patients] == [("LEFEVRE", "Léa")]
    rows = list(book["diagnostics"].iter_rows(values_only=True))
    diagnoses = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [d["diagnostic_code.disease_code"] for d in diagnoses] == ["586"]
    variables = list(book["variables"].iter_rows(values_only=True))
    assert variables[0][:4] == ("feuille", "colonne", "item", "libelle")
    assert ("patients", "nom_naissance", "nom_naissance") in {v[:3] for v in variables}
    event = AuditEvent.objects.get(action="export")
    assert event.changes["filtres"]["orpha"] == "97955" and event.changes["lignes"]["patients"] == 1
    shots(page, "apres-telechargement")


def test_it_turns_pages_without_reloading_the_filters(app, new_page, shots, log_in, monkeypatch):
    world, base = app
    monkeypatch.setattr("bamara.lists.views.PAGE_SIZE", 1)  # the live server runs in this process
    page = new_page("lists-pages")
    log_in(page, base, world.users["saisie"])
    page.goto(f"{base}/listes/patients/")
    page.get_by_label(re.compile("Maladie ou groupe ORPHA")).fill("typed, not submitted")
    first = page.locator("#list-results tbody").inner_text()
    page.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r"page=2"))
    page.wait_for_selector("#list-results >> text=Page 2 sur")
    assert page.locator("#list-results tbody").inner_text() != first
    # Only the results were swapped: what was typed in the filter form is still there.
    assert page.get_by_label(re.compile("Maladie ou groupe ORPHA")).input_value() == "typed, not submitted"
    shots(page, "page-suivante")
