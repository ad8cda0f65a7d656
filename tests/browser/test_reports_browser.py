"""The activity dashboard in a real browser (headless chromium): charts drawn, period changed
with the keyboard; screenshots kept in test-artefacts/."""

from __future__ import annotations

import pytest

from tests.reports.conftest import build_year


@pytest.fixture
def page(browser, live_server, transactional_db, client):
    world = build_year()
    client.force_login(world.users["saisie"])
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.base = live_server.url
    yield page
    context.close()


def test_it_draws_the_dashboard_and_changes_the_period_with_the_keyboard(page, shots):
    page.goto(f"{page.base}/chiffres/")
    assert page.url.endswith("/chiffres/site/S9001/")
    page.fill("#id_annee", "")
    page.focus("#id_annee")
    page.keyboard.type("2025")
    page.keyboard.press("Enter")
    page.wait_for_url("**annee=2025**")
    assert page.text_content("#figure-file_active").strip() == "7"
    charts = page.locator("svg[role=img]")
    assert charts.count() == 5
    for index in range(5):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 60
    assert page.locator("#chart-pyramid-t").text_content() == "Pyramide des âges de la file active"
    assert page.locator("svg rect").count() > 20
    shots(page, "tableau-de-bord-activite")
    page.click("text=Items PIRAMIG")
    page.wait_for_selector("#piramig")
    assert "File active" in page.text_content("#piramig-file_active")
    shots(page, "items-piramig")
