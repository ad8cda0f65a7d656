"""A world with more patients at the own site, and the slice of the real Orphanet and HPO
reference data the list filters need (hand-made from the 2023 nomenclature pack: the rare
respiratory diseases classification, 97955 > 101944 > 586)."""

from __future__ import annotations

import datetime as dt

import pytest

from bamara.records.models import Activity, ClinicalSign, Diagnosis
from bamara.sdm import oids
from bamara.terminologies.models import (
    HpoTerm,
    OrphaClassification,
    OrphaClassificationEdge,
    OrphaConcept,
)
from tests.factories import make_patient, make_world

CONCEPTS = [
    (97955, "Maladie respiratoire rare", "Rare respiratory disease", "group", "Category"),
    (101944, "Maladie pulmonaire rare", "Rare pulmonary disease", "group", "Category"),
    (586, "Mucoviscidose", "Cystic fibrosis", "disorder", "Disease"),
    (48, "Absence congénitale bilatérale des canaux déférents", "Congenital bilateral absence of vas deferens",
     "disorder", "Morphological anomaly"),
]


def load_terms() -> None:
    for code, fr, en, level, kind in CONCEPTS:
        OrphaConcept.objects.create(code=code, name_fr=fr, name_en=en, level=level, disorder_type=kind,
                                    status="active", flag_value=1)
    tree = OrphaClassification.objects.create(id=184, orpha_number=162655, root_code=97955,
                                              name="Orphanet classification of rare respiratory diseases")
    OrphaClassificationEdge.objects.create(classification=tree, parent_id=97955, child_id=101944)
    OrphaClassificationEdge.objects.create(classification=tree, parent_id=101944, child_id=586)
    HpoTerm.objects.create(id="HP:0002110", name="Bronchiectasis")


@pytest.fixture
def listed(db):
    """make_world plus, at the own site: BERNARD (ORPHA:48, deceased) and ROUX (CIM-10 E84.0,
    born 1980, objects, lives in Lyon, bronchiectasis). LEFEVRE has ORPHA:586."""
    load_terms()
    world = make_world()
    bernard = make_patient("BERNARD", [world.own], given="Anne", born="2001-06-30")
    bernard.deceased = True
    bernard.save()
    bernard.diagnoses.update(disease_code="48")
    roux = make_patient("ROUX", [world.own], given="Marc", born="1980-02", sex="M")
    roux.opposition = True
    roux.residence_commune = "69123"
    roux.address_line = "12 rue de la République"
    roux.save()
    diagnosis = roux.diagnoses.get()
    diagnosis.disease_code, diagnosis.disease_system = "E84.0", oids.CIM10
    diagnosis.save()
    ClinicalSign.objects.create(diagnosis=diagnosis, sign_code="HP:0002110", sign_system=oids.HPO)
    Activity.objects.create(patient=roux, site=world.own, date=dt.date(2025, 9, 1),
                            context_code="MED-096", context_system=oids.TA_ASIP)
    world.patients["bernard"] = bernard
    world.patients["roux"] = roux
    assert Diagnosis.objects.filter(patient=world.patients["own"], disease_code="586").exists()
    return world


@pytest.fixture(autouse=True)
def fresh_orpha_cache():
    # Each test builds its own classifications: the per-process cache must not outlive them.
    from bamara.lists.filters import _orpha_codes

    _orpha_codes.cache_clear()
    yield
    _orpha_codes.cache_clear()
