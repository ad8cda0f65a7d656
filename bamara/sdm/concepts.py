"""One stored concept across SDM-MR versions.

Codes change between versions (TA_ASIP and SNOMED 3.5 codes replaced by SNOMED CT in
2022-2024); ``definitions/concepts.yaml`` says which codes are the same concept. The
database stores the canonical form: the newest code and its code-system OID.

    from bamara.sdm import concepts

    concepts.normalise("1.2.250.1.213.1.1.5.45", "GEN-034", oids.TA_ASIP)
    # Concept(code="385651009", system=SNOMED_CT, label_fr="en cours d'exécution", current=True)
    concepts.label("G-2002", oids.SNOMED_35)        # "probable" (any code of any version)
    concepts.codes_for_version("1.2.250.1.213.1.1.5.45", "2022.01")
"""

from __future__ import annotations

from .definition import registry
from .schema import Concept, Mapping, ValueSetCode

__all__ = [
    "Concept",
    "Mapping",
    "all_concepts",
    "codes_for_version",
    "label",
    "lookup",
    "normalise",
]


def normalise(value_set_oid: str, code: str, code_system: str | None = None) -> Concept:
    """The canonical concept (code + system to store) of a code read from any version.

    ``value_set_oid`` may be an older value set replaced by a newer one. ``code_system`` may
    be omitted when the code alone is unambiguous in the value set. Raises
    ``UnknownCodeError`` for a code that no version of the value set knows.
    """
    return registry().normalise(value_set_oid, code, code_system)


def lookup(value_set_oid: str, code: str, code_system: str | None = None) -> Mapping:
    """Like ``normalise`` but also says how the code maps (identity, same, broader, retired)."""
    return registry().lookup(value_set_oid, code, code_system)


def label(code: str, code_system: str, default: str | None = None) -> str:
    """French label of any value-set code of any version (old codes included)."""
    return registry().label(code, code_system, default)


def codes_for_version(value_set_oid: str, version: str) -> tuple[ValueSetCode, ...]:
    """Codes of a value set allowed in one SDM-MR version."""
    return registry().codes_for_version(value_set_oid, version)


def all_concepts(value_set_oid: str) -> list[Concept]:
    """Every canonical concept of a value set, current and retired."""
    return registry().concepts(value_set_oid)
