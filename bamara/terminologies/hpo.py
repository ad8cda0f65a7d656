"""HPO API for the other apps: resolve ids, walk the is_a hierarchy.

from bamara.terminologies import hpo
hpo.resolve("HP:0001425")     # "HP:0000005" (alternative id -> primary id)
"""

import re

from bamara.terminologies.graph import walk
from bamara.terminologies.models import HpoIsA, HpoTerm, SearchTerm, Terminology
from bamara.terminologies.text import normalize

_ID = re.compile(r"^\s*(?:hp\s*[:_ ]?\s*)?(\d{1,7})\s*$", re.IGNORECASE)


def parse_id(value: str) -> str | None:
    """ "HP:0001250", "hp_0001250", "0001250", "1250" -> "HP:0001250"; else None."""
    match = _ID.match(str(value))
    return f"HP:{int(match.group(1)):07d}" if match else None


def resolve(value: str) -> str | None:
    """The current term for an id: itself, the term it is an alternative id of, or for an
    obsolete term its replaced_by (followed). None when unknown or obsolete without
    replacement."""
    term_id = parse_id(value)
    seen: set[str] = set()
    while term_id and term_id not in seen:
        seen.add(term_id)
        term = HpoTerm.objects.filter(id=term_id).first()
        if term is None:
            alias = SearchTerm.objects.filter(
                terminology=Terminology.HPO, kind=SearchTerm.Kind.CODE, key=normalize(term_id)
            ).first()
            term_id = alias.code if alias else None
        elif term.is_obsolete:
            term_id = term.replaced_by or None
        else:
            return term.id
    return None


def ancestors(term_id: str) -> set[str]:
    return walk(HpoIsA, parse_id(term_id), down=False)


def descendants(term_id: str) -> set[str]:
    return walk(HpoIsA, parse_id(term_id), down=True)
