"""Orphanet API for the other apps: parse, look up and resolve ORPHA codes, walk the
classifications.

    from bamara.terminologies import orphanet
    orphanet.resolve(166068)      # [166063]: inactive code -> its active replacement(s)
    orphanet.descendants(98053)   # every code under "Rare genetic disease", all trees
"""

import re

from bamara.terminologies.graph import walk
from bamara.terminologies.models import OrphaClassificationEdge, OrphaConcept, OrphaRedirection

_CODE = re.compile(r"^\s*(?:orpha(?:code)?\s*[:_ -]?\s*)?(\d{1,7})\s*$", re.IGNORECASE)


def parse_code(value: int | str) -> int | None:
    """586, "586", "ORPHA:586", "orpha 586", "ORPHA586" -> 586; anything else -> None."""
    if isinstance(value, int):
        return value if value > 0 else None
    match = _CODE.match(str(value))
    return int(match.group(1)) if match else None


def _code(value: int | str) -> int:
    code = parse_code(value)
    if code is None:
        raise ValueError(f"Code ORPHA invalide : {value!r}")
    return code


def get(code: int | str) -> OrphaConcept | None:
    return OrphaConcept.objects.filter(code=_code(code)).first()


def resolve(code: int | str) -> list[int]:
    """The active code(s) standing for `code`: itself when active, else the targets of its
    redirections ("Moved to", "Referred to"), followed until active codes. Empty for an
    unknown code or an inactive one without replacement (e.g. "non rare in Europe")."""
    start = _code(code)
    statuses = dict(OrphaConcept.objects.filter(code=start).values_list("code", "status"))
    if not statuses:
        return []
    if statuses[start] == OrphaConcept.Status.ACTIVE:
        return [start]
    found: set[int] = set()
    seen, todo = {start}, [start]
    while todo:
        targets = set(
            OrphaRedirection.objects.filter(source__in=todo).values_list("target_id", flat=True)
        )
        todo = []
        for target, status in OrphaConcept.objects.filter(code__in=targets - seen).values_list(
            "code", "status"
        ):
            seen.add(target)
            if status == OrphaConcept.Status.ACTIVE:
                found.add(target)
            else:
                todo.append(target)
    return sorted(found)


def descendants(code: int | str, classification: int | None = None) -> set[int]:
    """Every code below `code` in all Orphanet classifications (or in one)."""
    where = {"classification": classification} if classification else None
    return walk(OrphaClassificationEdge, _code(code), down=True, where=where)


def ancestors(code: int | str, classification: int | None = None) -> set[int]:
    """Every code above `code` in all Orphanet classifications (or in one)."""
    where = {"classification": classification} if classification else None
    return walk(OrphaClassificationEdge, _code(code), down=False, where=where)


def children(code: int | str) -> set[int]:
    return set(
        OrphaClassificationEdge.objects.filter(parent=_code(code)).values_list(
            "child_id", flat=True
        )
    )


def parents(code: int | str) -> set[int]:
    return set(
        OrphaClassificationEdge.objects.filter(child=_code(code)).values_list(
            "parent_id", flat=True
        )
    )
