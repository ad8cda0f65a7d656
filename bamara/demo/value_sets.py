"""Read the ANS SDM-MR value sets (JDV_*_CISIS.xml, IHE SVS format) used by the demo generator.

The codes are never retyped here: the generator names the codes it wants with a weight, and
``weighted()`` checks each one against the value-set file, taking the code system from it.
Files are looked up in the copies bundled by the sdm app (bamara/sdm/value_sets/), then in the
shared reference data (settings.SHARED_DIR/data/ans-sdm-mr/value-sets/TestContenuCDA-3-0).
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SVS = "{urn:ihe:iti:svs:2008}"


@dataclass(frozen=True)
class Concept:
    code: str
    system: str
    display: str


def search_dirs() -> list[Path]:
    sdm_bundle = Path(__file__).resolve().parent.parent / "sdm" / "value_sets"
    shared = Path(settings.SHARED_DIR) / "data" / "ans-sdm-mr" / "value-sets" / "TestContenuCDA-3-0"
    return [sdm_bundle, shared]


def find_file(name: str) -> Path:
    for folder in search_dirs():
        if folder.is_dir():
            found = sorted(folder.rglob(f"{name}.xml"))
            # Prefer the 3.0 kit copy when the sdm bundle keeps several kits.
            found.sort(key=lambda p: "3-0" not in str(p))
            if found:
                return found[0]
    places = ", ".join(str(d) for d in search_dirs())
    raise FileNotFoundError(f"Jeu de valeurs {name} introuvable (cherché dans : {places})")


@functools.cache
def load(name: str) -> dict[str, Concept]:
    """Concepts of one value set (e.g. ``JDV_ContexteActivite_CISIS``), by code."""
    root = ET.parse(find_file(name)).getroot()
    concepts: dict[str, Concept] = {}
    for node in root.iter(f"{SVS}Concept"):
        if node.get("dateFin"):  # retired codes are kept readable elsewhere, never generated
            continue
        code = node.get("code", "")
        concepts[code] = Concept(code, node.get("codeSystem", ""), node.get("displayName", ""))
    return concepts


def weighted(name: str, weights: dict[str, float]) -> list[tuple[Concept, float]]:
    """Pair each wanted code with its concept from the file; unknown codes are an error."""
    concepts = load(name)
    missing = sorted(set(weights) - set(concepts))
    if missing:
        raise ValueError(f"Codes absents du jeu de valeurs {name} : {', '.join(missing)}")
    return [(concepts[code], weight) for code, weight in weights.items()]
