"""One stored concept across versions: normalise, label, equivalences."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bamara.sdm import concepts, definition, oids
from bamara.sdm.registry import DefinitionError, SdmRegistry, UnknownCodeError

STATUS = "1.2.250.1.213.1.1.5.45"
AGE = "1.2.250.1.213.1.1.5.43"
CONTEXT = "1.2.250.1.213.1.1.5.40"
INVESTIGATIONS = "1.2.250.1.213.1.1.5.47"
OUTCOME = "1.2.250.1.213.1.1.5.731"
OLD_OUTCOME = "1.2.250.1.213.1.1.4.2.289.1"
SCT = oids.SNOMED_CT


@pytest.mark.parametrize(
    ("value_set", "old_code", "old_system", "new_code", "new_system"),
    [
        (STATUS, "GEN-034", oids.TA_ASIP, "385651009", SCT),  # en cours
        (STATUS, "G-2002", oids.SNOMED_35, "2931005", SCT),  # probable
        (STATUS, "GEN-021", oids.TA_ASIP, "42425007", SCT),  # indéterminé
        (STATUS, "GEN-035", oids.TA_ASIP, "255545003", SCT),  # confirmé
        (AGE, "GEN-021", oids.TA_ASIP, "373068000", SCT),  # same old code, other value set
        (AGE, "GEN-020", oids.TA_ASIP, "767023003", SCT),
        (CONTEXT, "ORG-187", oids.TA_ASIP, "11429006", SCT),  # consultation (2023 code)
        (CONTEXT, "P2-00130", oids.SNOMED_35, "11429006", SCT),  # consultation (2.41)
        (CONTEXT, "ORG-044", oids.TA_ASIP, "29", "1.2.250.1.213.3.3.13"),
        (INVESTIGATIONS, "GEN-036", oids.TA_ASIP, "363679005", SCT),
        (INVESTIGATIONS, "MED-101", oids.TA_ASIP, "116148004", SCT),
        (INVESTIGATIONS, "MED-102", oids.TA_ASIP, "73735000", SCT),
        (INVESTIGATIONS, "MED-477", oids.TA_ASIP, "12894003", SCT),
        (INVESTIGATIONS, "MED-478", oids.TA_ASIP, "108257001", SCT),
        (OLD_OUTCOME, "OBS_101", oids.OBSTETRIC_OUTCOME_2021, "236973005", SCT),
        (OLD_OUTCOME, "D8-04100", oids.SNOMED_35, "O03", oids.CIM10),
        ("1.2.250.1.213.1.1.5.42", "ORG-052", oids.TA_ASIP, "329", "1.2.250.1.213.1.6.1.107"),
        (
            "1.2.250.1.213.1.1.5.42",
            "97",
            "1.2.250.1.213.1.6.1.109",
            "329",
            "1.2.250.1.213.1.6.1.107",
        ),
    ],
)
def test_it_normalises_old_codes_to_one_stored_concept(
    value_set: str, old_code: str, old_system: str, new_code: str, new_system: str
) -> None:
    concept = concepts.normalise(value_set, old_code, old_system)
    assert (concept.code, concept.system) == (new_code, new_system)
    assert (old_code, old_system) in concept.previous
    # the canonical form is a fixed point
    assert concepts.normalise(value_set, new_code, new_system) == concept


def test_it_returns_the_concept_of_the_newest_value_set() -> None:
    concept = concepts.normalise(OLD_OUTCOME, "OBS_103", oids.OBSTETRIC_OUTCOME_2021)
    assert concept.value_set == OUTCOME
    assert (concept.code, concept.system) == ("O04", oids.CIM10)
    assert concepts.lookup(OLD_OUTCOME, "OBS_103", oids.OBSTETRIC_OUTCOME_2021).kind == "broader"
    assert not concepts.lookup(OLD_OUTCOME, "OBS_103", oids.OBSTETRIC_OUTCOME_2021).exact


def test_it_marks_retired_concepts_and_keeps_them_readable() -> None:
    probable = concepts.normalise(STATUS, "G-2002", oids.SNOMED_35)
    assert not probable.current and probable.retired_in == "2024.01"
    rcp = concepts.lookup(CONTEXT, "ORG-113", oids.TA_ASIP)
    assert rcp.kind == "retired"
    assert (rcp.concept.code, rcp.concept.label_fr, rcp.concept.current) == (
        "ORG-113",
        "RCP",
        False,
    )
    assert "ORG-198" in rcp.concept.note
    unclassable = concepts.normalise(STATUS, "GEN-022", oids.TA_ASIP)
    assert unclassable.code == "GEN-022" and not unclassable.current
    confirmed = concepts.normalise(STATUS, "GEN-035", oids.TA_ASIP)
    assert confirmed.current


def test_it_reads_labels_of_any_code_of_any_version() -> None:
    assert concepts.label("G-2002", oids.SNOMED_35) == "probable"
    assert concepts.label("GEN-034", oids.TA_ASIP) == "en cours"
    assert concepts.label("385651009", SCT) == "en cours d'exécution"
    assert concepts.label("2931005", SCT) == "diagnostic probable"  # in no bundled file
    assert concepts.label("ORG-187", oids.TA_ASIP) == "Consultation"  # in no bundled file
    assert concepts.label("CDA_004", oids.HEALTH_STATUS_2021) == "Malade chronique"
    assert concepts.label("oui", "bamara:consanguinite") == "Oui"
    assert concepts.label("MED-082", oids.TA_ASIP) == "ACPA"  # newest label wins (2.41: Array-CGH)
    with pytest.raises(UnknownCodeError):
        concepts.label("XYZ", SCT)
    assert concepts.label("XYZ", SCT, default="?") == "?"


def test_it_refuses_unknown_or_ambiguous_codes() -> None:
    with pytest.raises(UnknownCodeError, match="GEN-999"):
        concepts.normalise(STATUS, "GEN-999", oids.TA_ASIP)
    with pytest.raises(UnknownCodeError):
        concepts.normalise(STATUS, "GEN-034", SCT)  # right code, wrong system
    with pytest.raises(definition.UnknownValueSetError):
        concepts.normalise("1.2.3", "A", "1.2")
    # without a system, a code is accepted when unambiguous
    assert concepts.normalise(STATUS, "GEN-034").code == "385651009"


@pytest.mark.shared
def test_it_maps_every_old_code_of_the_241_files(ans_value_sets_dir: Path, registry) -> None:
    """Each 2.41 code maps to a current concept, or is declared retired, and stays readable."""
    svs = "{urn:ihe:iti:svs:2008}"
    files = sorted((ans_value_sets_dir / "TestContenuCDA-2-41").glob("*.xml"))
    assert len(files) == 13
    checked = 0
    for path in files:
        value_set = etree.parse(str(path)).getroot().find(f"{svs}ValueSet")
        oid = value_set.get("id").strip()
        for element in value_set.iter(f"{svs}Concept"):
            code, system = element.get("code"), element.get("codeSystem")
            mapping = concepts.lookup(oid, code, system)
            concept = mapping.concept
            assert concept.current or concept.retired_in, (path.name, code)
            if mapping.kind == "retired":
                assert concept.note, (path.name, code)
            assert concepts.label(code, system), (path.name, code)
            checked += 1
    assert checked == 102


def test_it_makes_the_newest_code_canonical(registry) -> None:
    for family, table in registry.mappings.items():
        if registry.is_local(family):
            continue
        current_codes = {(c.code, c.system) for c in concepts.codes_for_version(family, "2024.01")}
        for mapping in table.values():
            concept = mapping.concept
            if concept.current:
                assert concept.key in current_codes, (family, concept.code)
            else:
                assert concept.retired_in is not None, (family, concept.code)


def test_it_lists_every_concept_of_a_value_set() -> None:
    status = {c.code: c.current for c in concepts.all_concepts(STATUS)}
    assert status == {
        "385651009": True,
        "42425007": True,
        "255545003": True,
        "24800002": True,
        "723511001": True,
        "2931005": False,
        "GEN-022": False,
    }


def test_it_refuses_an_old_code_left_unmapped(definitions_copy: Path) -> None:
    path = definitions_copy / "concepts.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "        previous: [{code: MED-478, system: TA_ASIP}]\n", "        previous: []\n", 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="MED-478"):
        SdmRegistry(definitions_copy)


def test_it_refuses_a_historical_code_without_label(definitions_copy: Path) -> None:
    path = definitions_copy / "concepts.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "{code: ORG-187, system: TA_ASIP, label_fr: Consultation}",
        "{code: ORG-187, system: TA_ASIP}",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="ORG-187"):
        SdmRegistry(definitions_copy)


@pytest.mark.shared
def test_it_accepts_the_codes_of_the_ans_examples_in_their_version(
    ans_examples_dir: Path, registry
) -> None:
    """Coded values of the official examples belong to the value sets of their version."""
    checked = 0
    for path in sorted(ans_examples_dir.glob("SDM-MR_*.xml")):
        version = path.stem.split("_")[1]
        sdm = definition.get(version)
        families = set()
        for item in sdm.active_items():
            for oid in [item.value_set, *item.component_value_sets.values()]:
                if oid and not registry.is_local(oid):
                    families.add(registry.family(oid))
        root = etree.parse(str(path)).getroot()
        for element in root.iter():
            code, system = element.get("code"), element.get("codeSystem")
            if not code or not system:
                continue
            holders = [f for f in families if (code, system) in registry.mappings[f]]
            if not holders:
                continue
            allowed = any(
                (code, system) in {(c.code, c.system) for c in sdm.value_set(f).codes}
                for f in holders
            )
            assert allowed, (path.name, code, system)
            checked += 1
    assert checked >= 100
