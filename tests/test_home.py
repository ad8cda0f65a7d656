import pytest


@pytest.mark.django_db
def test_it_shows_the_french_home_page_in_the_state_design_system(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "fr-header" in html and "dsfr" in html
    assert "Données maladies rares" in html


@pytest.mark.django_db
def test_it_answers_in_french_whatever_the_browser_prefers(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="fr"' in response.content.decode()


@pytest.mark.django_db
def test_it_switches_to_english_on_request(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    response = client.get("/")
    assert '<html lang="en"' in response.content.decode()
