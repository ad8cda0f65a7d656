"""The activity dashboard, the PIRAMIG page and the files, per role."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bamara.accounts.testing import login_verified
from bamara.audit.models import Action, AuditEvent
from bamara.organisations.models import FiliereReferent
from bamara.reports import indicators as ind

pytestmark = pytest.mark.django_db
OWN = reverse("reports:activity", args=["site", "S9001"])


def cell(html: str, key: str) -> str:
    match = re.search(rf'<tr id="row-{key}"><th scope="row">[^<]*</th><td[^>]*>([^<]*)</td>', html)
    assert match, key
    return match.group(1)


def test_it_shows_a_member_every_figure_with_its_definition(client, year):
    client.force_login(year.users["saisie"])
    html = client.get(OWN, {"annee": 2025}).content.decode()
    assert cell(html, "file_active") == "7" and cell(html, "new_patients") == "3"
    assert cell(html, "activities_per_patient") == "1,57" and cell(html, "rcp_attended") == "2"
    for indicator in ind.INDICATORS:
        assert str(indicator.definition).replace("'", "&#x27;") in html, indicator.key
    assert html.count("<svg") == 5 and 'role="img"' in html
    assert "< 10" not in html and "&lt; 10" not in html
    for name in ("ALPHA", "BETA", "GAMMA", "LEFEVRE"):
        assert name not in html  # aggregates only


def test_it_masks_small_numbers_for_the_filiere_and_the_national_team(client, year):
    for role in ("filiere", "national", "gestionnaire"):
        login_verified(client, year.users[role])
        html = client.get(OWN, {"annee": 2025}).content.decode()
        assert cell(html, "file_active") == "&lt; 10", role
        assert cell(html, "activities_per_patient") == "&lt; 10", role
        assert cell(html, "teleconsultations") == "0", role  # zero reveals nobody
        assert "ORPHA:586" not in html  # a diagnosis of fewer than 10 patients is dropped


def test_it_refuses_scopes_beyond_the_role(client, year):
    client.force_login(year.users["saisie"])
    assert client.get(reverse("reports:activity", args=["site", "S9002"])).status_code == 404
    assert client.get(reverse("reports:activity", args=["etablissement", "750100208"])).status_code == 404
    assert client.get(reverse("reports:activity", args=["national", "france"])).status_code == 404
    assert client.get(reverse("reports:activity", args=["site", "INCONNU"])).status_code == 404
    login_verified(client, year.users["gestionnaire"])
    assert client.get(reverse("reports:activity", args=["etablissement", "750100208"])).status_code == 200
    assert client.get(reverse("reports:activity", args=["etablissement", "690783154"])).status_code == 404
    assert client.get(reverse("reports:activity", args=["filiere", "MUCO-CFTR"])).status_code == 404
    login_verified(client, year.users["filiere"])
    assert client.get(reverse("reports:activity", args=["filiere", "MUCO-CFTR"])).status_code == 200
    assert client.get(reverse("reports:activity", args=["national", "france"])).status_code == 404
    login_verified(client, year.users["national"])
    response = client.get(reverse("reports:activity", args=["national", "france"]), {"annee": 2025})
    assert response.status_code == 200


def test_it_explains_a_wrong_period_in_french_and_keeps_working(client, year):
    client.force_login(year.users["saisie"])
    response = client.get(OWN, {"du": "2025-12-31", "au": "2025-01-01"})
    assert response.status_code == 200
    assert "La date de début doit précéder la date de fin." in response.content.decode()
    response = client.get(OWN, {"annee": "deux-mille"})
    assert response.status_code == 200 and "fr-error-text" in response.content.decode()
    html = client.get(OWN, {"du": "2025-01-01", "au": "2025-01-01"}).content.decode()
    assert cell(html, "file_active") == "1"


def test_it_lists_only_the_piramig_items_with_their_definitions(client, year):
    client.force_login(year.users["referent"])
    html = client.get(reverse("reports:piramig", args=["site", "S9001"]), {"annee": 2025}).content.decode()
    for indicator in ind.INDICATORS:
        assert (f'id="piramig-{indicator.key}"' in html) == indicator.piramig
    assert re.search(r'id="piramig-file_active"><th scope="row">File active</th><td[^>]*>7<', html)


def test_it_exports_the_same_figures_to_xlsx_and_pdf_with_a_trace(client, year):
    client.force_login(year.users["saisie"])
    url = reverse("reports:export", args=["site", "S9001", "xlsx"])
    response = client.get(url, {"annee": 2025})
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["File active"] == 7 and rows["Nouveaux patients"] == 3 and rows["RCP organisées"] == 1
    pdf = client.get(reverse("reports:export", args=["site", "S9001", "pdf"]), {"annee": 2025})
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"
    events = AuditEvent.objects.filter(action=Action.EXPORT, user_id=year.users["saisie"].pk)
    assert events.count() == 2 and "S9001" in events.first().detail
    assert client.get(reverse("reports:export", args=["site", "S9001", "csv"])).status_code == 404


def test_it_masks_the_files_of_the_filiere_too(client, year):
    login_verified(client, year.users["filiere"])
    response = client.get(reverse("reports:export", args=["filiere", "MUCO-CFTR", "xlsx"]), {"annee": 2025})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["File active"] == "< 10" and rows["Téléconsultations"] == "< 10"


def test_it_opens_the_only_scope_directly_or_lists_several(client, year):
    client.force_login(year.users["saisie"])
    assert client.get(reverse("reports:index")).url == OWN
    login_verified(client, year.users["national"])
    assert client.get(reverse("reports:index")).url == reverse("reports:activity", args=["national", "france"])
    FiliereReferent.objects.create(user=year.users["saisie"], filiere=year.filiere)
    client.force_login(year.users["saisie"])
    html = client.get(reverse("reports:index")).content.decode()
    assert "Site — S9001" in html and "Filière — MUCO-CFTR" in html
    login_verified(client, year.users["lointain"])
    assert client.get(reverse("reports:index")).url == reverse("reports:activity", args=["site", "S9003"])
