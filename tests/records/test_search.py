import pytest

from bamara.audit.models import AuditEvent
from tests.factories import make_patient


@pytest.fixture
def client_saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


@pytest.mark.parametrize("query", [
    "lefevre", "LEFÈVRE", "Lefebvre", "lefe", "Léa Lefèvre", "12/03/2015", "03/12/2015",
    "2015-03-12 lefevre",
])
def test_it_finds_own_patients_by_name_variants_and_dates(client_saisie, world, query):
    response = client_saisie.get("/patients/recherche/", {"q": query})
    assert response.status_code == 200
    assert f'/patients/{world.patients["own"].pk}/' in response.content.decode()


def test_it_finds_by_ipp_and_sound_alike_names(client_saisie, world):
    p = make_patient("DUPOND", [world.own], given="Jean")
    p.ipp = "IPP-778899"
    p.save()
    for query in ["IPP-778899", "dupont"]:
        assert f"/patients/{p.pk}/" in client_saisie.get("/patients/recherche/", {"q": query}).content.decode()


@pytest.mark.parametrize("query", ["dupont", "martin", "Paul", "Jules"])
def test_it_never_finds_patients_of_other_sites(client_saisie, world, query):
    html = client_saisie.get("/patients/recherche/", {"q": query}).content.decode()
    assert f'/patients/{world.patients["sibling"].pk}/' not in html
    assert f'/patients/{world.patients["far"].pk}/' not in html


def test_it_audits_the_search_and_each_patient_shown(client_saisie, world):
    before = AuditEvent.objects.count()
    client_saisie.get("/patients/recherche/", {"q": "lefevre"})
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["search", "view"]
    assert events[1].patient_id == world.patients["own"].pk
    assert events[1].user_id == world.users["saisie"].pk


def test_it_returns_the_results_fragment_to_htmx(client_saisie, world):
    response = client_saisie.get("/patients/recherche/", {"q": "lefevre"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html


def test_it_finds_a_patient_once_followed_by_the_users_site(client_saisie, world):
    from bamara.records.models import CareEpisode

    sibling = world.patients["sibling"]
    url = f"/patients/{sibling.pk}/"
    assert url not in client_saisie.get("/patients/recherche/", {"q": "dupont"}).content.decode()
    episode = CareEpisode.objects.create(patient=sibling, site=world.own)
    assert url in client_saisie.get("/patients/recherche/", {"q": "dupont"}).content.decode()
    episode.delete()
    assert url not in client_saisie.get("/patients/recherche/", {"q": "dupont"}).content.decode()


def test_it_says_when_more_patients_match_than_it_shows(client_saisie, world, monkeypatch):
    from bamara.records import views

    monkeypatch.setattr(views, "SEARCH_LIMIT", 1)
    make_patient("LEFEVRE", [world.own], given="Anne")
    html = client_saisie.get("/patients/recherche/", {"q": "lefevre"}).content.decode()
    assert "Plus de 1 patients correspondent" in html and html.count("/patients/") - html.count("/patients/recherche") >= 1
    html = client_saisie.get("/patients/recherche/", {"q": "lefevre anne"}).content.decode()
    assert "Plus de" not in html


def test_it_reads_the_same_number_of_rows_whatever_the_number_of_results(client_saisie, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client_saisie.get("/patients/recherche/", {"q": "lefevre"})
        return len(ctx.captured_queries)

    queries()  # the first request after logging in refreshes the session (a write)
    one = queries()
    for given in ("Anne", "Berthe", "Claire"):
        make_patient("LEFEVRE", [world.own], given=given)
    assert queries() == one  # no query per patient shown
