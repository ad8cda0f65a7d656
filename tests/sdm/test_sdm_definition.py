"""The SDM-MR definition: versions, items, overrides, strict loading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bamara.sdm import definition, oids
from bamara.sdm.registry import DefinitionError, SdmRegistry
from bamara.sdm.schema import ItemType, RequirementLevel

ITEM_TYPES = {t.value for t in ItemType}


def test_it_knows_the_three_cda_versions_and_the_current_one() -> None:
    assert definition.versions() == ("2021.01", "2022.01", "2024.01")
    assert definition.current_version() == "2024.01"
    assert definition.current().version == "2024.01"
    assert definition.get("2022.01").version == "2022.01"


def test_it_caches_the_loaded_definition() -> None:
    assert definition.current() is definition.current()
    assert definition.registry() is definition.registry()


def test_it_raises_a_clear_error_for_an_unknown_version_or_item(current) -> None:
    with pytest.raises(definition.UnknownVersionError, match=r"2023\.01"):
        definition.get("2023.01")
    with pytest.raises(definition.UnknownItemError, match="no_such_item"):
        current.item("no_such_item")


@pytest.mark.shared
def test_it_defines_every_item_of_the_data_dictionary(current, shared_items) -> None:
    assert len(shared_items) == 123
    for row in shared_items:
        item = current.item(row["item_id"])
        assert item.chapter.code == row["chapter"].split()[0], row["item_id"]
        assert item.confidence == row["confidence"], row["item_id"]


@pytest.mark.shared
def test_it_keeps_the_dictionary_cardinalities(current, shared_items) -> None:
    """Same min..max as the dictionary (counted inside the item's group, e.g. per diagnosis).

    Only exception: an item whose dictionary cardinality depends on the version, for which
    the current definition keeps the current (2024.01) one.
    """
    per_version = {
        "investigations_realisees": "0..*"
    }  # 1..* until 2022.01, check removed in 2024.01
    for row in shared_items:
        expected = re.match(r"\d\.\.(\d|\*)", row["cardinality"].strip()).group(0)
        item = current.item(row["item_id"])
        assert str(item.cardinality) == per_version.get(item.id, expected), row["item_id"]


def test_it_describes_every_item_completely() -> None:
    for version in definition.versions():
        for item in definition.get(version).items:
            assert item.type.value in ITEM_TYPES
            assert item.label_fr and item.label_en and len(item.definition_fr) > 15, item
            assert item.sources, item
            assert item.confidence in {"confirmed", "inferred"}
            if item.requirement.level == RequirementLevel.CONDITIONAL:
                assert item.requirement.condition_fr, item
            if item.type in (ItemType.CODE, ItemType.AGE_CLASS):
                assert item.value_set, item
            if item.type == ItemType.CODED:
                assert item.terminologies, item
            assert bool(item.storage) != bool(item.not_stored), item


def test_it_binds_diagnoses_to_orpha_or_cim10_and_descriptions_to_three_terminologies(
    current,
) -> None:
    assert current.item("diagnostic_code").terminologies == (oids.ORPHA, oids.CIM10)
    assert set(current.item("description_clinique").terminologies) == {
        oids.ORPHA_GROUPS,
        oids.HPO,
        oids.CIM10,
    }
    status = current.item("statut_diagnostic")
    assert status.value_set == "1.2.250.1.213.1.1.5.45"
    assert (status.cda.code, status.cda.system) == ("MED-072", oids.TA_ASIP)


def test_it_states_the_plausibility_rules(current) -> None:
    def bounds(item_id: str) -> tuple[float | None, float | None, tuple[str, ...]]:
        rules = current.item(item_id).rules
        assert rules is not None
        return rules.min, rules.max, rules.allowed_units

    assert bounds("poids_naissance") == (0, 8000, ("g",))
    assert bounds("taille_naissance") == (2, 60, ("cm",))
    assert bounds("perimetre_cranien_naissance") == (5, 50, ("cm",))
    assert bounds("foetus_age_gestationnel") == (4, 45, ("wk",))
    assert bounds("age_gestationnel_naissance") == (4, 45, ("wk",))
    assert current.item("medecin_traitant").rules.pattern == "^[0-9]{11}$"
    assert current.item("ins").rules.max_length == 15


def test_it_validates_values_against_the_rules(current) -> None:
    assert current.validate("poids_naissance", 3200) == []
    assert current.validate("poids_naissance", 8001)
    assert current.validate("foetus_age_gestationnel", 3)
    assert current.validate("foetus_age_gestationnel", (30, "wk")) == []
    assert current.validate("foetus_age_gestationnel", (30, "cm"))
    assert current.validate("ins", "185057800608436") == []
    assert current.validate("ins", "18505780060843")  # 14 characters
    assert current.validate("medecin_traitant", "10001234567") == []
    assert current.validate("medecin_traitant", "1000123456")
    assert current.validate("diagnostic_code", ("558", oids.ORPHA)) == []
    assert current.validate("diagnostic_code", ("HP:0001250", oids.HPO))
    assert current.validate("statut_vital", "decede") == []
    assert current.validate("statut_vital", "mort")


def test_it_lists_version_specific_items() -> None:
    v2021, v2022, v2024 = (definition.get(v) for v in definition.versions())
    # new in 2024.01
    for item_id in (
        "age_diag_genetique",
        "description_clinique",
        "score_cif",
        "perdu_de_vue",
        "biobanques",
    ):
        assert not v2022.has_item(item_id)
        assert v2024.item(item_id).active
    # retired in 2024.01: active before, kept readable in the current definition
    for item_id in (
        "investigations_realisees",
        "traitement_mr",
        "participation_protocole",
        "sujet_apparemment_sain",
    ):
        assert v2022.item(item_id).active
        assert v2021.item(item_id).active
        assert not v2024.item(item_id).active
        assert v2024.item(item_id).status == "retired"
    assert not v2021.has_item("certitude_2022")
    assert v2022.item("certitude_2022").active


def test_it_applies_per_version_overrides() -> None:
    v2021, v2022, v2024 = (definition.get(v) for v in definition.versions())
    assert v2024.item("technique_genetique").cda.code == "MED-1286"
    assert v2022.item("technique_genetique").cda.code == "MED-068"
    assert v2021.item("technique_genetique").cda.code == "MED-068"
    assert v2024.item("age_diag_clinique").cda.code == "PAT-062"
    assert v2022.item("age_diag_clinique").cda.code == "PAT-015"
    assert v2022.item("age_diag_clinique").label_fr == "Âge au diagnostic"
    assert v2022.item("investigations_realisees").requirement.level == RequirementLevel.MANDATORY
    assert str(v2022.item("investigations_realisees").cardinality) == "1..*"
    assert v2024.item("opposition_bndmr").cda.code == "GEN-315"
    assert v2021.item("opposition_bndmr").cda.code == "64292-6"
    assert v2021.item("statut_clinique").value_set is None
    assert v2022.item("statut_clinique").value_set == "1.2.250.1.213.1.1.4.2.283.1"


def test_it_groups_items_by_chapter_in_bndmr_order(current) -> None:
    grouped = current.items_by_chapter()
    codes = [chapter.code for chapter in grouped]
    assert codes[:3] == ["C00", "C01", "C02"]
    assert codes[-5:] == ["X1", "X2", "X3", "X4", "X5"]
    assert sum(len(items) for items in grouped.values()) == len(current.items)
    assert [i.id for i in grouped[current.item("statut_diagnostic").chapter]][:3] == [
        "diagnostic_id",
        "diagnostic_date",
        "diagnostic_code",
    ]
    active = current.items_by_chapter(active_only=True)
    assert all(item.active for items in active.values() for item in items)


def test_it_dumps_a_version_as_json_ready_data(current) -> None:
    data = current.as_dict()
    assert data["version"] == "2024.01"
    assert {item["id"] for item in data["items"]} == {item.id for item in current.items}
    assert "1.2.250.1.213.1.1.5.45" in data["value_sets"]


# ------------------------------------------------------------------ strict loading


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_it_loads_a_copy_of_the_definition_files(definitions_copy: Path) -> None:
    registry = SdmRegistry(definitions_copy)
    assert len(registry.definition("2024.01").items) == len(definition.current().items)


def test_it_refuses_an_unknown_key(definitions_copy: Path) -> None:
    _replace(
        definitions_copy / "items.yaml",
        "    scope: diagnosis\n",
        "    scope: diagnosis\n    colour: blue\n",
    )
    with pytest.raises(DefinitionError, match="colour"):
        SdmRegistry(definitions_copy)


def test_it_refuses_an_item_pointing_at_an_unknown_value_set(definitions_copy: Path) -> None:
    _replace(
        definitions_copy / "items.yaml",
        'value_set: "1.2.250.1.213.1.1.5.45"',
        'value_set: "1.2.3.4"',
    )
    with pytest.raises(DefinitionError, match=r"statut_diagnostic.*1\.2\.3\.4"):
        SdmRegistry(definitions_copy)


def test_it_refuses_bad_types_and_values(definitions_copy: Path) -> None:
    items = definitions_copy / "items.yaml"
    original = items.read_text(encoding="utf-8")
    for old, new, message in [
        ('    cardinality: "1..1"\n', '    cardinality: "1..n"\n', "cardinalité"),
        ("    type: age_class\n", "    type: age\n", "type"),
        ('    since: "2024.01"\n', "    since: 2024.01\n", "since"),
        ("    requirement: mandatory\n", "    requirement: {level: conditional}\n", "condition"),
        ("    confidence: confirmed\n", "    confidence: sure\n", "confidence"),
        ("    chapter: C09\n", "    chapter: C99\n", "C99"),
        ("    storage: records.Diagnosis.comment\n", "", "storage"),
    ]:
        items.write_text(original.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(DefinitionError, match=message):
            SdmRegistry(definitions_copy)
    items.write_text(original, encoding="utf-8")
    SdmRegistry(definitions_copy)


def test_it_refuses_a_duplicate_item(definitions_copy: Path) -> None:
    _replace(
        definitions_copy / "items.yaml",
        "  - id: diagnostic_commentaire\n",
        "  - id: diagnostic_code\n",
    )
    with pytest.raises(DefinitionError, match="diagnostic_code en double"):
        SdmRegistry(definitions_copy)


def test_it_refuses_an_unknown_code_system_name(definitions_copy: Path) -> None:
    _replace(
        definitions_copy / "items.yaml",
        "terminologies: [ORPHA, CIM10]",
        "terminologies: [ORPHANET, CIM10]",
    )
    with pytest.raises(DefinitionError, match="ORPHANET"):
        SdmRegistry(definitions_copy)
