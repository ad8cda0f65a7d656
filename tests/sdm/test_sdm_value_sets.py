"""ANS value sets (IHE SVS files of the 2.41 and 3.0 kits) and local value sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from bamara.sdm import concepts, definition, oids
from bamara.sdm.registry import KIT_FOLDERS, VALUE_SETS_DIR, SdmRegistry
from bamara.sdm.svs import SvsError, parse_bytes

SVS = "{urn:ihe:iti:svs:2008}"
STATUS = "1.2.250.1.213.1.1.5.45"
AGE = "1.2.250.1.213.1.1.5.43"


def _direct_parse(path: Path) -> tuple[str, list[tuple[str, str, str, str, str]]]:
    """An independent, minimal reading of an SVS file (to compare with the loader)."""
    root = etree.parse(
        str(path), etree.XMLParser(resolve_entities=False, no_network=True)
    ).getroot()
    value_set = root.find(f"{SVS}ValueSet")
    concepts_ = [
        (
            c.get("code"),
            c.get("codeSystem"),
            c.get("displayName"),
            c.get("dateValid") or "",
            c.get("dateFin") or "",
        )
        for c in value_set.iter(f"{SVS}Concept")
    ]
    return value_set.get("id").strip(), concepts_


def _svs_day(text: str) -> dt.date | None:
    return dt.datetime.strptime(text[:8], "%Y%m%d").date() if text else None


@pytest.mark.shared
def test_it_loads_every_shared_value_set_file_with_all_its_codes(
    ans_value_sets_dir: Path, registry
) -> None:
    files = sorted(ans_value_sets_dir.glob("*/*.xml"))
    assert len(files) == 29
    for path in files:
        kit = {folder: kit for kit, folder in KIT_FOLDERS.items()}[path.parent.name]
        oid, expected = _direct_parse(path)
        loaded = registry.files[(kit, oid)]
        assert loaded.filename == path.name
        assert len(loaded.concepts) == len(expected), path.name
        assert [
            (c.code, c.code_system, c.display_name, c.date_valid, c.date_fin)
            for c in loaded.concepts
        ] == [
            # the loader trims surrounding spaces (one ANS label ends with a space)
            (code, system, label.strip(), _svs_day(valid), _svs_day(fin))
            for code, system, label, valid, fin in expected
        ], path.name


@pytest.mark.shared
def test_it_bundles_byte_identical_copies_of_the_shared_files(ans_value_sets_dir: Path) -> None:
    shared = {
        p.relative_to(ans_value_sets_dir): p.read_bytes()
        for p in ans_value_sets_dir.glob("*/*.xml")
    }
    bundled = {
        p.relative_to(VALUE_SETS_DIR): p.read_bytes() for p in VALUE_SETS_DIR.glob("*/*.xml")
    }
    assert bundled == shared


def test_it_works_from_the_bundled_files_alone(registry) -> None:
    assert registry.value_sets_dir == VALUE_SETS_DIR
    assert len(registry.files) == 29
    assert {kit for kit, _ in registry.files} == {"2.41", "3.0"}
    # OIDs padded with spaces in the 2.41 files are read trimmed
    assert ("2.41", "1.2.250.1.213.1.1.5.40") in registry.files
    assert ("2.41", "1.2.250.1.213.1.1.5.38") in registry.files


def test_it_reads_validity_and_revision_dates(registry) -> None:
    status = registry.files[("3.0", STATUS)]
    assert status.revision_date == dt.datetime.fromisoformat("2024-10-11T00:00:00+01:00")
    refuted = next(c for c in status.concepts if c.code == "723511001")
    assert refuted.date_valid == dt.date(2024, 2, 7)
    assert refuted.date_fin is None
    old = registry.files[("2.41", STATUS)]
    unclassable = next(c for c in old.concepts if c.code == "GEN-022")
    assert unclassable.date_fin == dt.date(2020, 1, 20)
    assert not unclassable.valid_on(dt.date(2021, 1, 1))


def test_it_uses_the_241_kit_for_2021_and_the_30_kit_after() -> None:
    assert definition.get("2021.01").value_set(STATUS).kit == "2.41"
    assert definition.get("2022.01").value_set(STATUS).kit == "3.0"
    assert definition.get("2024.01").value_set(STATUS).kit == "3.0"
    # value sets missing from a kit come from the other one
    assert definition.get("2022.01").value_set(oids.HL7_CONDITION_VER_STATUS).kit == "2.41"
    assert definition.get("2021.01").value_set("2.16.840.1.113883.1.11.1").kit == "3.0"


def _codes(oid: str, version: str) -> set[str]:
    return {c.code for c in concepts.codes_for_version(oid, version)}


def test_it_rejects_codes_created_after_a_version() -> None:
    # réfuté (valid from 2024-02-07) and porteur sain (2024-08-06) are 2024.01 codes
    assert "723511001" not in _codes(STATUS, "2022.01")
    assert "24800002" not in _codes(STATUS, "2022.01")
    assert {"723511001", "24800002"} <= _codes(STATUS, "2024.01")
    assert "MED-1288" not in _codes(AGE, "2022.01")  # « Aucun signe »
    assert "MED-1288" in _codes(AGE, "2024.01")
    assert "MED-1289" not in _codes("1.2.250.1.213.1.1.5.41", "2022.01")
    assert {"ORG-198", "ORG-199"}.isdisjoint(_codes("1.2.250.1.213.1.1.5.40", "2022.01"))
    current = definition.current()
    assert current.validate("statut_diagnostic", ("723511001", oids.SNOMED_CT)) == []
    assert definition.get("2022.01").validate("statut_diagnostic", ("723511001", oids.SNOMED_CT))


def test_it_keeps_recodings_of_older_concepts_in_2022() -> None:
    # recoded after the 2022.01 reference date, but the same concepts as 2.41 codes
    assert "2667000" in _codes("1.2.250.1.213.1.1.5.44", "2022.01")  # absent (MED-426), 2024-03-15
    assert "255401001" in _codes("1.2.250.1.213.1.1.5.46", "2022.01")  # familial (PAT-017)
    assert "GEN-092.04.17" in _codes("1.2.250.1.213.1.1.5.48", "2022.01")  # autre technique
    assert {"312", "326", "329"} <= _codes("1.2.250.1.213.1.1.5.42", "2022.01")


def test_it_keeps_concepts_withdrawn_later_in_the_versions_that_had_them() -> None:
    # « probable » (2931005) left the ANS file in 2024; RCP (ORG-113) was split in 2024
    assert "2931005" in _codes(STATUS, "2022.01")
    assert "2931005" not in _codes(STATUS, "2024.01")
    assert "ORG-113" in _codes("1.2.250.1.213.1.1.5.40", "2022.01")
    assert "ORG-113" not in _codes("1.2.250.1.213.1.1.5.40", "2024.01")


def test_it_gives_2021_its_own_codes() -> None:
    assert _codes(STATUS, "2021.01") == {
        "G-2002",
        "GEN-021",
        "GEN-034",
        "GEN-035",
    }  # GEN-022 ended 2020
    professions = _codes("1.2.250.1.213.1.1.5.42", "2021.01")
    assert "ORG-050" not in professions  # ended 2021-08-26
    assert {"41", "93", "97", "51"} <= professions


def test_it_declares_every_value_set_once(registry) -> None:
    file_oids = {oid for _, oid in registry.files}
    assert set(registry.value_set_specs.ans) == file_oids
    assert all(oid.startswith("bamara:") for oid in registry.value_set_specs.local)
    for oid in list(file_oids) + list(registry.value_set_specs.local):
        assert registry.name_of(oid)


@pytest.mark.parametrize(
    ("oid", "codes"),
    [
        ("bamara:consanguinite", {"oui", "non", "inconnu"}),
        ("bamara:statut-vital", {"vivant", "decede", "inconnu"}),
        ("bamara:deces-lie-mr", {"oui", "non", "inconnu"}),
        ("bamara:statut-ins", {"provisoire", "recuperee", "validee", "qualifiee"}),
        ("bamara:mode-recueil", {"autonome", "connecte", "reprise"}),
        ("bamara:mode-transmission", {"SPO", "AD", "AR", "XLR", "XLD", "MI", "INC"}),
        ("bamara:type-interruption", {"IMG", "ISG", "INUTERO", "PERPARTUM"}),
        ("bamara:classe-acmg", {"1", "2", "3", "4", "5"}),
        ("bamara:type-site", {"CRMR_COO", "CRMR_CST", "CCMR", "CRC"}),
        ("bamara:mode-deploiement", {"autonome", "connecte"}),
    ],
)
def test_it_defines_local_value_sets_without_ans_file(oid: str, codes: set[str], current) -> None:
    value_set = current.value_set(oid)
    assert value_set.origin == "local"
    assert {c.code for c in value_set.codes} == codes
    assert all(c.system == oid for c in value_set.codes)


def test_it_says_what_a_boolean_column_holds_for_a_local_code(current) -> None:
    vital = current.value_set("bamara:statut-vital")
    assert [(c.code, c.stored_value) for c in vital.codes] == [
        ("vivant", False),
        ("decede", True),
        ("inconnu", None),
    ]
    assert current.value_set("bamara:consanguinite").get("oui").stored_value == "oui"


def test_it_parses_without_expanding_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>
<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1.2.3" displayName="x">
<ConceptList><Concept code="A" codeSystem="1.2" displayName="&xxe;" dateValid="20100101000000" dateFin=""/>
</ConceptList></ValueSet></RetrieveValueSetResponse>""".encode()
    try:
        value_set = parse_bytes(xml, filename="evil.xml")
    except SvsError as exc:  # lxml refuses the external entity: fine
        assert "TOP-SECRET" not in str(exc)
        return
    assert "TOP-SECRET" not in value_set.concepts[0].display_name


def test_it_reports_unreadable_value_set_files(tmp_path: Path) -> None:
    with pytest.raises(SvsError, match="ValueSet"):
        parse_bytes(b"<RetrieveValueSetResponse xmlns='urn:other'/>", filename="x.xml")
    with pytest.raises(SvsError, match="XML invalide"):
        parse_bytes(b"<not xml", filename="x.xml")
    with pytest.raises(SvsError, match="date"):
        parse_bytes(
            b"<ValueSet xmlns='urn:ihe:iti:svs:2008' id='1.2'><ConceptList>"
            b"<Concept code='A' codeSystem='1.2' dateValid='2010-01-01'/></ConceptList></ValueSet>"
        )


def test_it_refuses_a_value_set_file_not_declared(tmp_path: Path, definitions_copy: Path) -> None:
    import shutil

    value_sets = tmp_path / "value_sets"
    shutil.copytree(VALUE_SETS_DIR, value_sets)
    (value_sets / "TestContenuCDA-3-0" / "JDV_Extra.xml").write_bytes(
        b"<RetrieveValueSetResponse xmlns='urn:ihe:iti:svs:2008'><ValueSet id='9.9.9'><ConceptList>"
        b"<Concept code='A' codeSystem='1.2' displayName='a'/></ConceptList></ValueSet></RetrieveValueSetResponse>"
    )
    from bamara.sdm.registry import DefinitionError

    with pytest.raises(DefinitionError, match=r"9\.9\.9"):
        SdmRegistry(definitions_copy, value_sets)
