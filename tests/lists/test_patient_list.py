"""The patient list page: filters, sorting, pagination, errors, the wall and the audit."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from bamara.accounts.testing import login_verified
from bamara.audit.models import AuditEvent
from bamara.lists import filters
from bamara.records.models import Diagnosis
from tests.factories import make_patient

URL = reverse("lists:patients")


@pytest.fixture
def saisie(client, listed):
    client.force_login(listed.users["saisie"])
    return client


def names(response) -> list[str]:
    return [row["patient"].birth_name for row in response.context["rows"]]


def test_it_lists_the_patients_of_the_current_site_only(saisie, listed):
    response = saisie.get(URL)
    assert response.status_code == 200
    assert names(response) == ["BERNARD", "LEFEVRE", "ROUX"]
    assert "DUPONT" not in response.content.decode() and "MARTIN" not in response.content.decode()


@pytest.mark.parametrize(("query", "expected"), [
    ({"orpha": "ORPHA:97955"}, ["LEFEVRE"]),  # group: every disorder under it, all classifications
    ({"orpha": "101944"}, ["LEFEVRE"]),
    ({"orpha": "48"}, ["BERNARD"]),
    ({"cim10": "E84"}, ["ROUX"]),
    ({"cim10": "E84.0"}, ["ROUX"]),
    ({"hpo": "HP:0002110"}, ["ROUX"]),
    ({"statut": "255545003"}, ["BERNARD", "LEFEVRE", "ROUX"]),
    ({"statut": "723511001"}, []),
    ({"sexe": "M"}, ["ROUX"]),
    ({"vital": "decede"}, ["BERNARD"]),
    ({"vital": "inconnu"}, ["LEFEVRE", "ROUX"]),
    ({"departement": "69"}, ["ROUX"]),
    ({"opposition": "oui"}, ["ROUX"]),
    ({"opposition": "non"}, ["BERNARD", "LEFEVRE"]),
    ({"age_min": "40"}, ["ROUX"]),
    ({"age_max": "30"}, ["BERNARD", "LEFEVRE"]),
    ({"activite_du": "2025-01-01"}, ["ROUX"]),
    ({"contexte": "MED-096"}, ["ROUX"]),
    ({"activite_du": "2024-05-02", "activite_au": "2024-05-02", "contexte": "11429006"}, ["BERNARD", "LEFEVRE", "ROUX"]),
    ({"inclusion_du": "2020-01-16"}, []),
    ({"inclusion_au": "2020-01-15"}, ["BERNARD", "LEFEVRE", "ROUX"]),
    ({"orpha": "97955", "statut": "723511001"}, []),  # diagnosis criteria hold on one diagnosis
])
def test_it_filters(saisie, query, expected):
    response = saisie.get(URL, query)
    assert response.status_code == 200
    assert names(response) == expected


def test_it_applies_every_diagnosis_criterion_to_the_same_diagnosis(saisie, listed):
    lefevre = listed.patients["own"]
    Diagnosis.objects.create(patient=lefevre, disease_code="48", disease_system="1.2.250.1.213.2.49.1",
                             status_code="723511001", status_system="2.16.840.1.113883.6.96")
    assert names(saisie.get(URL, {"orpha": "48", "statut": "723511001"})) == ["LEFEVRE"]
    assert names(saisie.get(URL, {"orpha": "586", "statut": "723511001"})) == []


def test_it_filters_on_completeness(saisie, listed):
    everyone = {row["patient"].birth_name: row["completeness"] for row in saisie.get(URL).context["rows"]}
    low = min(everyone.values())
    response = saisie.get(URL, {"completude_max": str(low)})
    assert set(names(response)) == {name for name, value in everyone.items() if value <= low}
    assert names(saisie.get(URL, {"completude_min": "101"})) == []  # refused: above 100


def test_it_asks_for_other_filters_before_computing_completeness_of_too_many(saisie, monkeypatch):
    monkeypatch.setattr(filters, "COMPLETENESS_LIMIT", 2)
    response = saisie.get(URL, {"completude_min": "10"})
    assert response.context["error"] and not response.context["rows"]
    assert "précisez d&#x27;autres filtres" in response.content.decode()


@pytest.mark.parametrize(("query", "message"), [
    ({"orpha": "cystic"}, "n'est pas un code ORPHA"),
    ({"orpha": "999999"}, "inconnu de la nomenclature"),
    ({"cim10": "ZZ"}, "n'est pas un code CIM-10"),
    ({"hpo": "HP:9999999"}, "n'est pas un terme HPO connu"),
    ({"departement": "20"}, "n'est pas un code de département"),
    ({"age_min": "50", "age_max": "10"}, "L'âge minimum dépasse"),
    ({"activite_du": "2025-02-01", "activite_au": "2025-01-01"}, "se termine avant de commencer"),
    ({"activite_du": "hier"}, "Saisissez une date valide"),
])
def test_it_explains_bad_filters_in_french(saisie, query, message):
    response = saisie.get(URL, query)
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert response.context["page"] is None


def test_it_sorts_and_paginates(saisie, listed):
    for index in range(filters.PAGE_SIZE):
        make_patient(f"ZZ{index:02d}", [listed.own])
    first = saisie.get(URL, {"tri": "-nom"})
    assert names(first)[:2] == ["ZZ24", "ZZ23"]
    assert first.context["page"].paginator.count == filters.PAGE_SIZE + 3
    second = saisie.get(URL, {"tri": "-nom", "page": "2"})
    assert names(second) == ["ROUX", "LEFEVRE", "BERNARD"]
    assert names(saisie.get(URL, {"tri": "naissance"}))[0] == "ROUX"


def test_it_lists_several_of_the_users_sites_but_no_other(client, listed):
    from bamara.organisations.models import SiteMembership

    user = listed.users["saisie"]
    SiteMembership.objects.create(user=user, site=listed.sibling, role="saisie")
    client.force_login(user)
    both = client.get(URL, {"sites": [listed.own.pk, listed.sibling.pk]})
    assert "DUPONT" in names(both) and "LEFEVRE" in names(both)
    far = client.get(URL, {"sites": [listed.far.pk]})
    assert far.context["page"] is None and "MARTIN" not in far.content.decode()


def test_it_answers_htmx_with_the_results_only(saisie):
    response = saisie.get(URL, {"sexe": "M"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="list-results"' in body and "<html" not in body and "ROUX" in body


def test_it_audits_each_patient_shown(saisie, listed):
    saisie.get(URL, {"sexe": "M"})
    events = AuditEvent.objects.filter(action="view", detail="liste de patients")
    assert list(events.values_list("patient_id", flat=True)) == [listed.patients["roux"].pk]


@pytest.mark.parametrize("role", ["national", "gestionnaire", "filiere"])
def test_it_has_no_list_for_users_without_a_site(client, listed, role):
    login_verified(client, listed.users[role])
    assert client.get(URL).status_code == 404


@pytest.mark.parametrize("query", [{"orpha": "97955"}, {"orpha": "48"}, {"orpha": "97955", "statut": "723511001"}])
def test_it_filters_the_same_with_a_stored_code_set(saisie, monkeypatch, query):
    from bamara.lists import filters
    from bamara.lists.models import CodeSet

    literal = names(saisie.get(URL, query))
    monkeypatch.setattr(filters, "LARGE_SET", 0)
    assert names(saisie.get(URL, query)) == literal
    assert CodeSet.objects.exists()


def test_it_pages_a_few_matches_in_order(saisie, monkeypatch):
    from bamara.lists import filters

    few = names(saisie.get(URL, {"statut": "255545003", "tri": "-nom"}))  # found, then sorted
    monkeypatch.setattr(filters, "FEW", 0)  # walked in index order
    assert names(saisie.get(URL, {"statut": "255545003", "tri": "-nom"})) == few == ["ROUX", "LEFEVRE", "BERNARD"]


def test_it_answers_a_history_restore_with_the_whole_page(saisie):
    response = saisie.get(URL, {"sexe": "M"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_it_pages_through_htmx_swapping_the_results_only(saisie, monkeypatch):
    monkeypatch.setattr("bamara.lists.views.PAGE_SIZE", 1)
    body = saisie.get(URL).content.decode()
    nav = body[body.index('class="fr-pagination"'):]
    assert 'hx-boost="true"' in nav[:200] and 'hx-target="#list-results"' in nav[:200]
    second = saisie.get(URL, {"page": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert "<html" not in second.content.decode() and second.context["page"].number == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL seulement")
def test_it_plans_the_count_and_the_page_without_parallel_workers(saisie):
    with CaptureQueriesContext(connection) as queries:
        saisie.get(URL, {"sexe": "M"})
    sql = [q["sql"] for q in queries.captured_queries]
    serial = sql.index("SET LOCAL max_parallel_workers_per_gather = 0")
    count = next(i for i, text in enumerate(sql) if text.startswith('SELECT COUNT(*) AS "__count" FROM "lists_entry"'))
    assert serial < count


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL seulement")
def test_it_vacuums_the_list_table_often(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'lists_entry'")
        assert "autovacuum_vacuum_scale_factor=0.01" in cursor.fetchone()[0]
