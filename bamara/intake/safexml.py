"""Reading untrusted XML: size, encoding, no DTD, no entities, no network, bounded depth.

A CDA document has no business carrying a DOCTYPE: refusing any DTD at all closes XXE,
entity expansion ("billion laughs") and external fetches in one rule, before lxml sees the
bytes; the parser is hardened as well in case the check is ever bypassed.
"""

from __future__ import annotations

import codecs
import re

from django.conf import settings
from lxml import etree

from .ack import Rejected

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


def max_bytes() -> int:
    return int(getattr(settings, "INTAKE_MAX_DOCUMENT_BYTES", DEFAULT_MAX_BYTES))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
    )


def check_bytes(data: bytes, limit: int | None = None) -> bytes:
    """The document as UTF-8 bytes without BOM, or Rejected (size, encoding, DTD)."""
    limit = max_bytes() if limit is None else limit
    if len(data) > limit:
        raise Rejected("too_large", f"Le document dépasse la taille maximale ({len(data)} octets pour {limit} permis).")
    if not data.strip():
        raise Rejected("empty", "Le document est vide.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise Rejected("encoding", "Le document n'est pas encodé en UTF-8 (UTF-16/32 détecté) : le CI-SIS impose UTF-8.")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    declared = _DECLARATION.match(data.lstrip()[:200])
    if declared and declared.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise Rejected("encoding", f"Encodage déclaré « {declared.group(1).decode('ascii')} » : le CI-SIS impose UTF-8.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("encoding", f"Le document n'est pas de l'UTF-8 valide (octet {exc.start}).") from None
    if any(marker in data for marker in _FORBIDDEN):
        raise Rejected("doctype", "Le document contient une déclaration DOCTYPE ou ENTITY : refusée (XXE, expansion d'entités).")
    return data


def parse(data: bytes, limit: int | None = None) -> etree._Element:
    """The root element of a well-formed document, or Rejected with the parser's reason."""
    data = check_bytes(data, limit)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = f" (ligne {exc.lineno})" if exc.lineno else ""
        raise Rejected("not_xml", f"XML mal formé ou tronqué{line} : {str(exc.msg)[:200]}") from None
    except (ValueError, MemoryError) as exc:  # lxml refuses some inputs with ValueError
        raise Rejected("not_xml", f"XML illisible : {str(exc)[:200]}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Rejected("doctype", "Le document contient une DTD : refusée.")
    for _ in root.iter(etree.Entity):  # unresolved entity references: never expected in CDA
        raise Rejected("doctype", "Le document contient des références d'entités : refusées.")
    return root
