"""Orphanet (the real bundled nomenclature and redirections) and CEMARA-style exports."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from bamara.terminologies.models import OrphaConcept, OrphaRedirection

ORPHA_DIR = Path(__file__).resolve().parents[2] / "bamara" / "terminologies" / "data" / "orphanet"


def _rows(name: str):
    with gzip.open(ORPHA_DIR / name, "rt", encoding="utf-8") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


def _status(text: str) -> str:
    text = text.lower()
    if text == "active":
        return OrphaConcept.Status.ACTIVE
    if "non rare" in text:
        return OrphaConcept.Status.NON_RARE
    return OrphaConcept.Status.OBSOLETE if "obsolete" in text else OrphaConcept.Status.DEPRECATED


def load_orphanet() -> None:
    """Concepts and redirections only (the import needs nothing else), in a second."""
    OrphaConcept.objects.bulk_create([
        OrphaConcept(code=int(r["orpha_code"]), name_fr=r["name_fr"][:255], name_en=r["name_en"][:255],
                     disorder_type=r["disorder_type"][:80], level="disorder",
                     status=_status(r["status"]), flag_value=int(r["flag_value"] or 0))
        for r in _rows("nomenclature.tsv.gz")
    ], ignore_conflicts=True, batch_size=2000)
    known = set(OrphaConcept.objects.values_list("code", flat=True))
    OrphaRedirection.objects.bulk_create([
        OrphaRedirection(source_id=int(r["orpha_code"]), target_id=int(r["target_orpha_code"]),
                         association_type=r["association_type"])
        for r in _rows("redirections.tsv.gz")
        if int(r["orpha_code"]) in known and int(r["target_orpha_code"]) in known
    ], ignore_conflicts=True)


def code_lists(limit: int = 200) -> tuple[list[int], list[int]]:
    """Active disorders, and inactive codes with exactly one active replacement."""
    from bamara.terminologies import orphanet

    active = list(OrphaConcept.objects.filter(status=OrphaConcept.Status.ACTIVE)
                  .order_by("code").values_list("code", flat=True)[:limit])
    inactive = [code for code in OrphaRedirection.objects.order_by("source_id")
                .values_list("source_id", flat=True).distinct()
                if OrphaConcept.objects.get(code=code).status != OrphaConcept.Status.ACTIVE
                and len(orphanet.resolve(code)) == 1][:50]
    return active, inactive


@pytest.fixture
def orphanet_codes(db) -> tuple[list[int], list[int]]:
    load_orphanet()
    return code_lists()
