"""Small readers of CDA R2 data types (II, CD, TS, PQ, BL, ST, names, addresses)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from bamara.records.fields import PartialDate

H = "urn:hl7-org:v3"
SDTC = "urn:hl7-org:sdtc"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
NS = {"h": H, "sdtc": SDTC, "xsi": XSI}


@functools.cache
def q(name: str) -> str:
    return f"{{{H}}}{name}"


@functools.cache
def sq(name: str) -> str:
    return f"{{{SDTC}}}{name}"


def local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if element is None else element.findall(q(name))


def child(element: etree._Element | None, *names: str) -> etree._Element | None:
    """The first element down a path of child names (None if any step is missing)."""
    for name in names:
        if element is None:
            return None
        element = element.find(q(name))
    return element


def clean(text: str | None) -> str:
    """Text with its whitespace collapsed (CDA files are pretty-printed)."""
    return " ".join(text.split()) if text else ""


def text_of(element: etree._Element | None) -> str:
    return clean("".join(element.itertext())) if element is not None else ""


@dataclass(frozen=True)
class II:
    root: str
    extension: str

    @property
    def text(self) -> str:
        """One string for both parts (root^extension, the HL7 v2 CX habit)."""
        return f"{self.root}^{self.extension}" if self.extension else self.root


def ii(element: etree._Element | None) -> II | None:
    if element is None or element.get("nullFlavor"):
        return None
    root, extension = clean(element.get("root")), clean(element.get("extension"))
    return II(root, extension) if root or extension else None


@dataclass(frozen=True)
class CD:
    code: str
    system: str
    display: str
    element: etree._Element


def cd(element: etree._Element | None) -> CD | None:
    """A coded value, None when absent or nullFlavor. Codes are trimmed (some files pad them)."""
    if element is None:
        return None
    code = clean(element.get("code"))
    if not code:
        return None
    return CD(code, clean(element.get("codeSystem")), clean(element.get("displayName")), element)


_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


class BadValue(ValueError):
    pass


def ts(value: str | None) -> PartialDate | None:
    """A TS read as a partial date (time and zone dropped); BadValue if unreadable."""
    if value is None:
        return None
    value = value.strip()
    match = _TS.match(value)
    if not match:
        raise BadValue(f"date « {value[:40]} » illisible (AAAA[MM[JJ[hhmmss]]][±zzzz] attendu)")
    year, month, day = (int(part) if part else None for part in match.groups()[:3])
    try:
        return PartialDate(year, month, day)  # type: ignore[arg-type]
    except ValueError:
        raise BadValue(f"date « {value[:40]} » impossible") from None


def ts_datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    match = _TS.match(value.strip())
    if not match:
        raise BadValue(f"horodatage « {value[:40]} » illisible")
    parts = [int(part) if part else 0 for part in match.groups()[:6]]
    parts[1], parts[2] = parts[1] or 1, parts[2] or 1
    zone = match.group(7)
    tzinfo = dt.UTC
    if zone:
        sign = -1 if zone[0] == "-" else 1
        tzinfo = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
    try:
        return dt.datetime(*parts, tzinfo=tzinfo)  # type: ignore[misc]
    except ValueError:
        raise BadValue(f"horodatage « {value[:40]} » impossible") from None


def time_value(element: etree._Element | None) -> str | None:
    """The @value of an effectiveTime, or of its low when it is an interval."""
    if element is None:
        return None
    if element.get("value"):
        return element.get("value")
    low = element.find(q("low"))
    return low.get("value") if low is not None else None


def pq(element: etree._Element | None) -> tuple[Decimal, str] | None:
    if element is None or element.get("nullFlavor"):
        return None
    raw = (element.get("value") or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadValue(f"quantité « {raw[:40]} » illisible") from None
    if not value.is_finite():
        raise BadValue(f"quantité « {raw[:40]} » illisible")
    return value, (element.get("unit") or "").strip()


def bl(element: etree._Element | None) -> bool | None:
    if element is None or element.get("nullFlavor"):
        return None
    raw = (element.get("value") or "").strip()
    if raw in ("true", "false"):
        return raw == "true"
    raise BadValue(f"booléen « {raw[:40]} » illisible (true ou false attendu)")


def integer(element: etree._Element | None) -> int | None:
    if element is None or element.get("nullFlavor"):
        return None
    raw = (element.get("value") or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[+-]?\d{1,9}", raw):
        raise BadValue(f"entier « {raw[:40]} » illisible")
    return int(raw)


@dataclass
class Name:
    """The parts of a PN by qualifier: BR (birth), CL (used), SP (spouse), "" (none)."""

    family: dict[str, str]
    given: dict[str, str]

    def get(self, kind: str, *qualifiers: str) -> str:
        parts = self.family if kind == "family" else self.given
        return next((parts[q] for q in qualifiers if parts.get(q)), "")


def name(element: etree._Element | None) -> Name:
    family: dict[str, str] = {}
    given: dict[str, str] = {}
    if element is not None:
        for part in element:
            kind = local(part)
            if kind not in ("family", "given"):
                continue
            qualifier = (part.get("qualifier") or "").strip()
            target = family if kind == "family" else given
            value = text_of(part)
            if value:
                target[qualifier] = f"{target[qualifier]} {value}" if qualifier in target else value
    return Name(family, given)


def person_name(element: etree._Element | None) -> str:
    """A practitioner's name as one line: given names then family name (no titles)."""
    parts = Name({}, {}) if element is None else name(element)
    given = parts.given.get("BR") or parts.given.get("") or parts.given.get("CL") or ""
    family = parts.family.get("BR") or parts.family.get("") or parts.family.get("CL") or ""
    return " ".join(p for p in (given, family) if p)


@dataclass
class Address:
    line: str = ""
    postal_code: str = ""
    commune: str = ""  # county: INSEE code
    country: str = ""  # state: ISO 3166 alpha-2
    city: str = ""


def address(element: etree._Element | None) -> Address:
    result = Address()
    if element is None or element.get("nullFlavor"):
        return result
    parts: dict[str, list[str]] = {}
    for part in element:
        value = text_of(part)
        if value:
            parts.setdefault(local(part), []).append(value)
    street = " ".join(p for p in (*parts.get("houseNumber", []), *parts.get("streetName", [])) if p)
    lines = parts.get("streetAddressLine", [])
    line = street or ", ".join(lines)
    for unit in parts.get("unitID", []):
        line = f"{line}, {unit}" if line else unit
    result.line = line
    result.postal_code = (parts.get("postalCode") or [""])[0]
    result.commune = (parts.get("county") or [""])[0]
    result.country = (parts.get("state") or [""])[0]
    result.city = (parts.get("city") or [""])[0]
    return result


_STREET = re.compile(r"^(\d{1,5}[A-Za-z]{0,3}) (\S(?:.*\S)?)$")


def split_street(line: str) -> tuple[str, str, str] | None:
    """(house number, street name, unit) of an address line when writing them back as parts
    reads the very same line; None otherwise (then streetAddressLine is used)."""
    street, _, unit = line.partition(", ")
    match = _STREET.match(street)
    if not match:
        return None
    number, street_name = match.groups()
    rebuilt = f"{number} {street_name}" + (f", {unit}" if unit else "")
    return (number, street_name, unit) if rebuilt == line and clean(line) == line else None


def element_path(element: etree._Element) -> str:
    """A short readable location: local names with an index when siblings share the name,
    and the code of coded elements (e.g. section[46241-6]/entry[2]/observation[MED-072])."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None and isinstance(node.tag, str):
        tag = local(node)
        code = node.find(q("code"))
        label = code.get("code") if code is not None and code.get("code") else None
        parent = node.getparent()
        if label:
            tag = f"{tag}[{label}]"
        elif parent is not None:
            same = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(same) > 1:
                tag = f"{tag}[{same.index(node) + 1}]"
        if parent is not None and local(node) != "structuredBody":
            steps.append(tag)  # the root (ClinicalDocument) is implied
        node = parent
    steps.reverse()
    # Keep the meaningful tail: "component/section" pairs add nothing.
    return "/".join(step for step in steps if step != "component")[:250]
