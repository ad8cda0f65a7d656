"""Reader for ANS value-set files in IHE SVS format (``RetrieveValueSetResponse``).

The parser is hardened: no DTD loading, no entity expansion, no network access, no huge
trees. Only the elements the SDM-MR needs are read: the ``ValueSet`` attributes and each
``Concept`` (code, codeSystem, displayName, dateValid, dateFin).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SVS_NS = "urn:ihe:iti:svs:2008"
_NS = {"svs": SVS_NS}


class SvsError(ValueError):
    """A value-set file cannot be read."""


@dataclass(frozen=True)
class SvsConcept:
    code: str
    code_system: str
    display_name: str
    date_valid: dt.date | None = None
    date_fin: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        """True if the concept is valid on ``day`` (dateValid <= day < dateFin)."""
        if self.date_valid and self.date_valid > day:
            return False
        return not (self.date_fin and self.date_fin <= day)


@dataclass(frozen=True)
class SvsValueSet:
    oid: str
    display_name: str
    version: str
    effective_date: dt.datetime | None
    revision_date: dt.datetime | None
    concepts: tuple[SvsConcept, ...]
    kit: str = ""
    filename: str = ""

    def codes(self) -> list[tuple[str, str]]:
        return [(c.code, c.code_system) for c in self.concepts]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _svs_date(value: str | None, where: str) -> dt.date | None:
    """SVS dates: ``YYYYMMDD`` optionally followed by ``hhmmss``; empty means none."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError as exc:
        raise SvsError(f"{where}: date illisible {value!r}") from exc


def _iso_datetime(value: str | None, where: str) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise SvsError(f"{where}: date illisible {value!r}") from exc


def parse_bytes(data: bytes, *, kit: str = "", filename: str = "") -> SvsValueSet:
    """Parse one ``RetrieveValueSetResponse`` document."""
    where = filename or "<value set>"
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise SvsError(f"{where}: XML invalide ({exc})") from exc
    value_set = root if root.tag == f"{{{SVS_NS}}}ValueSet" else root.find("svs:ValueSet", _NS)
    if value_set is None:
        raise SvsError(f"{where}: pas d'élément ValueSet dans l'espace de noms {SVS_NS}")
    oid = (value_set.get("id") or "").strip()  # some ANS files pad the OID with spaces
    if not oid:
        raise SvsError(f"{where}: ValueSet sans attribut id")
    concepts = []
    for element in value_set.iterfind("svs:ConceptList/svs:Concept", _NS):
        code = (element.get("code") or "").strip()
        system = (element.get("codeSystem") or "").strip()
        if not code or not system:
            raise SvsError(f"{where}: concept sans code ou sans codeSystem")
        concepts.append(
            SvsConcept(
                code=code,
                code_system=system,
                display_name=(element.get("displayName") or "").strip(),
                date_valid=_svs_date(element.get("dateValid"), f"{where} {code}"),
                date_fin=_svs_date(element.get("dateFin"), f"{where} {code}"),
            )
        )
    return SvsValueSet(
        oid=oid,
        display_name=(value_set.get("displayName") or "").strip(),
        version=(value_set.get("version") or "").strip(),
        effective_date=_iso_datetime(value_set.get("effectiveDate"), where),
        revision_date=_iso_datetime(value_set.get("revisionDate"), where),
        concepts=tuple(concepts),
        kit=kit,
        filename=filename,
    )


def parse_file(path: Path, *, kit: str = "") -> SvsValueSet:
    return parse_bytes(path.read_bytes(), kit=kit, filename=path.name)
