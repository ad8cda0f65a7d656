"""The dashboard (records:dashboard): recent records and records to complete of the current site,
the search form on top."""

import pytest

from bamara.records.models import Diagnosis
from tests.factories import make_patient


@pytest.fixture
def client_saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def section(html: str, title: str) -> str:
    start = html.index(title)
    return html[start:html.index("</ul>", start)]


def test_it_lists_the_recent_records_of_the_site_newest_first(client_saisie, world):
    newer = make_patient("ROUSSEAU", [world.own])
    html = client_saisie.get("/tableau-de-bord/").content.decode()
    recent = section(html, "Dossiers récents")
    assert recent.index(f"/patients/{newer.pk}/") < recent.index(f'/patients/{world.patients["own"].pk}/')
    assert f'/patients/{world.patients["sibling"].pk}/' not in html
    assert f'/patients/{world.patients["far"].pk}/' not in html


def test_it_lists_records_without_a_complete_diagnosis(client_saisie, world):
    undiagnosed = make_patient("ROUSSEAU", [world.own])
    undiagnosed.diagnoses.all().delete()
    no_onset = make_patient("GIRARD", [world.own])
    Diagnosis.objects.filter(patient=no_onset).update(onset_age_code="")
    html = section(client_saisie.get("/tableau-de-bord/").content.decode(), "Dossiers à compléter")
    assert f"/patients/{undiagnosed.pk}/" in html and f"/patients/{no_onset.pk}/" in html
    complete = make_patient("BLANC", [world.own])
    Diagnosis.objects.filter(patient=complete).update(onset_age_code="410547009", status_code="255545003")
    html = section(client_saisie.get("/tableau-de-bord/").content.decode(), "Dossiers à compléter")
    assert f"/patients/{complete.pk}/" not in html


def test_it_reads_a_bounded_number_of_rows(client_saisie, world, django_assert_max_num_queries):
    for name in ("ROUSSEAU", "GIRARD", "BLANC", "FAURE"):
        make_patient(name, [world.own])
    client_saisie.get("/tableau-de-bord/")
    with django_assert_max_num_queries(25):  # no query per patient shown
        client_saisie.get("/tableau-de-bord/")
