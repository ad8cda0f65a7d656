"""`bamara export_patients`: the same files as the downloads, for a site, from the shell."""

from __future__ import annotations

import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from bamara.audit.models import AuditEvent


def test_it_writes_the_xlsx_of_a_site(listed, tmp_path, capsys):
    out = tmp_path / "patients.xlsx"
    call_command("export_patients", "--site", "S9001", "--filter", "orpha=97955", "--out", str(out))
    book = load_workbook(out, read_only=True)
    rows = list(book["patients"].iter_rows(values_only=True))
    assert [dict(zip(rows[0], r, strict=True))["nom_naissance"] for r in rows[1:]] == ["LEFEVRE"]
    assert "variables" in book.sheetnames
    printed = json.loads(capsys.readouterr().out)
    assert printed["lignes"]["patients"] == 1
    event = AuditEvent.objects.get(action="export")
    assert event.channel == "commande" and event.changes["filtres"]["orpha"] == "97955"


def test_it_writes_the_pseudonymised_csv_zip(listed, tmp_path):
    out = tmp_path / "patients.zip"
    call_command("export_patients", "--site", "S9001", "--format", "csv", "--pseudonymised", "--out", str(out))
    archive = zipfile.ZipFile(out)
    patients = archive.read("patients.csv").decode("utf-8-sig")
    assert patients.startswith("idmr;") and patients.count("\n") == 4
    assert "LEFEVRE" not in patients and "BERNARD" not in patients


@pytest.mark.parametrize(("args", "error"), [
    (["--site", "S0000"], "site inconnu : S0000"),
    (["--site", "S9001", "--filter", "orpha=abc"], "n'est pas un code ORPHA"),
])
def test_it_reports_bad_input_as_json(listed, tmp_path, capsys, args, error):
    with pytest.raises(CommandError):
        call_command("export_patients", *args, "--out", str(tmp_path / "x.xlsx"))
    assert error in json.dumps(json.loads(capsys.readouterr().err), ensure_ascii=False)
    assert not (tmp_path / "x.xlsx").exists()
