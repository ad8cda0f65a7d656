"""bamara sdm_items, sdm_valuesets and sdm_guide."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_it_prints_the_items_with_the_exact_header() -> None:
    text = _run("sdm_items")
    assert (
        text.splitlines()[0] == "item_id,chapter,label_fr,type,cardinality,mandatory,value_set_oid"
    )
    rows = {row["item_id"]: row for row in _rows(text)}
    assert rows["statut_diagnostic"] == {
        "item_id": "statut_diagnostic",
        "chapter": "C09 Diagnostic",
        "label_fr": "Statut actuel du diagnostic",
        "type": "code",
        "cardinality": "1..1",
        "mandatory": "yes",
        "value_set_oid": "1.2.250.1.213.1.1.5.45",
    }
    assert rows["adresse_par"]["cardinality"] == "1..*"
    assert rows["date_deces"]["mandatory"] == "conditional"
    assert rows["ins"]["mandatory"] == "recommended"
    assert rows["nom_utilise"]["mandatory"] == "no"
    assert {row["mandatory"] for row in rows.values()} == {
        "yes",
        "no",
        "recommended",
        "conditional",
    }


@pytest.mark.shared
def test_it_prints_every_item_of_the_data_dictionary(shared_items) -> None:
    printed = {row["item_id"] for row in _rows(_run("sdm_items"))}
    missing = {row["item_id"] for row in shared_items} - printed
    assert not missing
    # items retired in 2024.01 are still printed (kept to read older records)
    assert {"investigations_realisees", "traitement_mr", "certitude_2022"} <= printed


def test_it_prints_an_older_version_and_can_omit_retired_items() -> None:
    old = {row["item_id"] for row in _rows(_run("sdm_items", "--version", "2022.01"))}
    assert "age_diag_genetique" not in old
    assert "certitude_2022" in old
    active = {row["item_id"] for row in _rows(_run("sdm_items", "--active-only"))}
    assert "traitement_mr" not in active and "score_cif" in active


def test_it_rejects_an_unknown_version() -> None:
    with pytest.raises(CommandError, match=r"2019\.01"):
        _run("sdm_items", "--version", "2019.01")


def test_it_lists_value_sets_with_their_number_of_codes() -> None:
    rows = _rows(_run("sdm_valuesets"))
    by_oid = {row["oid"]: row for row in rows}
    assert by_oid["1.2.250.1.213.1.1.5.45"]["codes"] == "5"
    assert by_oid["1.2.250.1.213.1.1.5.45"]["version"] == "2024.01"
    assert by_oid["bamara:consanguinite"]["origin"] == "local"
    old = {row["oid"]: row for row in _rows(_run("sdm_valuesets", "--version", "2022.01"))}
    assert old["1.2.250.1.213.1.1.5.45"]["codes"] == "4"
    every = _rows(_run("sdm_valuesets", "--all-versions"))
    assert len(every) == 3 * len(rows)
    codes = _rows(_run("sdm_valuesets", "--codes"))
    assert {"oid": "1.2.250.1.213.1.1.5.45", "code": "723511001"}.items() <= next(
        row for row in codes if row["code"] == "723511001"
    ).items()


def test_it_generates_the_variables_guide_in_markdown() -> None:
    text = _run("sdm_guide", "--format", "md")
    assert text.startswith("# Guide des variables")
    assert "## C09 — Diagnostic" in text
    assert "### Statut actuel du diagnostic (`statut_diagnostic`)" in text
    assert "| 723511001 | réfuté | SNOMED CT |" in text
    assert "retiré en 2024.01" in text  # retired items are listed, flagged
    assert "de 0 à 8000 g" in text


def test_it_generates_the_variables_guide_in_html(tmp_path: Path) -> None:
    target = tmp_path / "guide.html"
    call_command("sdm_guide", "--format", "html", "--output", str(target), stderr=io.StringIO())
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<h2 id="C09">C09 — Diagnostic</h2>' in html
    assert "porteur(-euse) sain(e)" in html
    assert (
        "Précision de l&#x27;âge au diagnostic" in html
        or "Précision de l'âge au diagnostic" in html
    )


def test_it_generates_the_guide_of_an_older_version() -> None:
    text = _run("sdm_guide", "--version", "2021.01")
    assert "2021.01" in text.splitlines()[0]
    assert "| GEN-034 | en cours | TA_ASIP |" in text
