"""`bamara activity_report`: the page's figures from the command line."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from tests.reports.conftest import EXPECTED_OWN_2025

pytestmark = pytest.mark.django_db


def run(*args: str, capsys=None) -> dict:
    out = io.StringIO()
    call_command("activity_report", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_prints_a_sites_year_as_json(year):
    data = run("--site", "S9001", "--year", "2025", "--format", "json")
    assert data["indicateurs"] == EXPECTED_OWN_2025
    assert data["periode"] == {"debut": "2025-01-01", "fin": "2025-12-31"}
    assert data["patients_par_statut"]["aucun"] == 1 and data["activites_par_mois"]["2025-09"] == 2
    assert "file_active" in data["definitions"] and not data["petits_effectifs_masques"]


@pytest.mark.parametrize(("option", "value", "file_active"), [
    ("--hospital", "750100208", 7), ("--filiere", "MUCO-CFTR", 8), ("--all", None, 8)])
def test_it_covers_hospital_filiere_and_instance(year, option, value, file_active):
    args = [option] + ([value] if value else []) + ["--year", "2025"]
    assert run(*args)["indicateurs"]["file_active"] == file_active


def test_it_applies_the_small_number_rule_on_demand(year):
    data = run("--all", "--year", "2025", "--suppress")
    assert data["indicateurs"]["file_active"] == "< 10" and data["indicateurs"]["full_stays"] == "< 10"
    assert data["petits_effectifs_masques"] is True


def test_it_writes_xlsx_and_accepts_any_period(year, tmp_path):
    target = tmp_path / "s9001.xlsx"
    call_command("activity_report", "--site", "S9001", "--from", "2025-12-31", "--to", "2026-01-01",
                 "--format", "xlsx", "--output", str(target), stderr=io.StringIO())
    rows = {r[0]: r[1] for r in load_workbook(target).active.iter_rows(values_only=True) if r and r[0]}
    assert rows["File active"] == 1 and rows["Activités (toutes)"] == 2  # ALPHA, both edges


@pytest.mark.parametrize(("args", "option"), [
    (["--site", "S0000", "--year", "2025"], "--site"),
    (["--year", "2025"], "--site"),
    (["--all", "--year", "25"], "--year"),
    (["--all", "--from", "2025-02-30", "--to", "2025-03-01"], "--from"),
    (["--all", "--year", "2025", "--format", "xlsx"], "--output"),
])
def test_it_reports_errors_as_json_on_stderr(year, capsys, args, option):
    with pytest.raises(SystemExit) as exit_info:
        call_command("activity_report", *args)
    assert exit_info.value.code == 2
    error = json.loads(capsys.readouterr().err)
    assert error["option"] == option and error["erreur"]
