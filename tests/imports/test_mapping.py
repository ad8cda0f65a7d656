from __future__ import annotations

import pytest

from bamara.imports import mapping

VALID = """
name: essai
source_id: {column: ID}
patient:
  birth_name: {column: NOM}
  birth_date: {column: DDN}
  sex: {column: SEXE, codes: {1: M, 2: F}}
episode:
  inclusion_date: {column: INCL}
"""


def test_it_loads_the_bundled_cemara_mapping():
    cemara = mapping.load("cemara")
    assert cemara.name == "cemara"
    assert "ORPHA_2" in cemara.columns() and "TYPE_ACTIVITE_3" in cemara.columns()
    assert mapping.bundled() == ["cemara"]


def test_it_reads_numeric_source_codes_as_text():
    spec = mapping.parse(VALID).spec
    assert spec.patient["sex"].codes == {"1": "M", "2": "F"}


def test_it_lists_every_problem_in_french():
    bad = VALID.replace("codes: {1: M, 2: F}", "codes: {1: H}").replace(
        "  birth_date: {column: DDN}\n", "  taille: {column: T}\n")
    with pytest.raises(mapping.MappingError) as caught:
        mapping.parse(bad)
    errors = "\n".join(caught.value.errors)
    assert "patient.taille : cible inconnue" in errors
    assert "code(s) H absent(s) du jeu de valeurs de l'élément sexe" in errors
    assert "patient.birth_date : élément obligatoire du SDM-MR (date_naissance) sans colonne" in errors


def test_it_requires_the_n_placeholder_in_repeated_columns():
    with pytest.raises(mapping.MappingError, match=r"doit contenir \{n\}"):
        mapping.parse(VALID + "activities:\n  repeat: 2\n  fields:\n"
                              "    date: {column: DATE}\n    context: {column: CTX}\n")


def test_it_rejects_unreadable_yaml_and_bad_date_formats():
    with pytest.raises(mapping.MappingError, match="YAML illisible"):
        mapping.parse("name: [")
    with pytest.raises(mapping.MappingError, match="format de date"):
        mapping.parse(VALID + "date_formats: ['%Y']\n")
    with pytest.raises(mapping.MappingError, match="illisible"):
        mapping.load("/nonexistent/mapping.yaml")
