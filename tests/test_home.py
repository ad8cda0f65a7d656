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
def test_it_switches_to_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en"' in response.content.decode()
