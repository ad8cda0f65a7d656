"""Fixtures of the demo-data tests: one 300-patient load per test module, rolled back after."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import lzma
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from bamara.demo import value_sets
from bamara.demo.loader import load_demo

AS_OF = dt.date(2026, 11, 27)
SHARED = Path(settings.SHARED_DIR) / "data"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _value_sets_available() -> bool:
    try:
        value_sets.find_file("JDV_Age_CISIS")
    except FileNotFoundError:
        return False
    return True


requires_value_sets = pytest.mark.skipif(
    not _value_sets_available(), reason="jeux de valeurs ANS introuvables (../shared absent)"
)
requires_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared absent")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """300 demo patients (seed 7), loaded once for the module inside a transaction that is
    rolled back at the end, so nothing leaks into other tests."""
    if not _value_sets_available():
        pytest.skip("jeux de valeurs ANS introuvables")
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        result = load_demo(300, 7, as_of=AS_OF, progress=False)
        yield result
        transaction.set_rollback(True)


# --- the real reference files, read straight from ../shared ------------------------------
def _tsv(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="session")
def nomenclature() -> dict[str, dict[str, str]]:
    path = SHARED / "orphanet" / "orpha_nomenclature_2023.tsv.gz"
    if not path.exists():
        pytest.skip("../shared absent")
    return {row["orpha_code"]: row for row in _tsv(path)}


@pytest.fixture(scope="session")
def hpo_terms() -> dict[str, bool]:
    """HP id -> obsolete?"""
    path = SHARED / "hpo" / "hp.obo.xz"
    if not path.exists():
        pytest.skip("../shared absent")
    terms: dict[str, bool] = {}
    current = None
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("id: HP:"):
                current = line[4:].strip()
                terms[current] = False
            elif line.startswith("is_obsolete: true") and current:
                terms[current] = True
    return terms


@pytest.fixture(scope="session")
def communes() -> set[str]:
    path = SHARED / "geo_fr" / "communes_2026.tsv.gz"
    if not path.exists():
        pytest.skip("../shared absent")
    return {row["code_insee"] for row in _tsv(path)}


@pytest.fixture(scope="session")
def finess() -> dict[str, dict[str, str]]:
    path = SHARED / "finess" / "finess_hopitaux_2025.tsv.gz"
    if not path.exists():
        pytest.skip("../shared absent")
    return {row["finess_et"]: row for row in _tsv(path)}


@pytest.fixture(scope="session")
def jdv():
    """(code, system) pairs of an ANS value set, read from the shared XML file."""
    folder = SHARED / "ans-sdm-mr" / "value-sets" / "TestContenuCDA-3-0"
    if not folder.is_dir():
        pytest.skip("../shared absent")

    def concepts(name: str) -> set[tuple[str, str]]:
        root = ET.parse(folder / f"{name}.xml").getroot()
        return {
            (c.get("code"), c.get("codeSystem"))
            for c in root.iter("{urn:ihe:iti:svs:2008}Concept")
        }

    return concepts


@pytest.fixture(autouse=True)
def fast_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS
