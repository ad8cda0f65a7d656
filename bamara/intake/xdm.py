"""IHE XDM zip packages (ITI-32 "Distribute Document Set on Media"), as MSSanté carries them.

    INDEX.HTM, README.TXT
    IHE_XDM/SUBSET01/METADATA.XML      ebXML SubmitObjectsRequest: one ExtrinsicObject per
    IHE_XDM/SUBSET01/DOC0001.XML       document, its file named by the "URI" slot

Untrusted input: entry count, sizes and compression ratio are bounded before anything is
inflated, encrypted entries are refused, nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import uuid
import zipfile
from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from . import safexml
from .ack import Rejected

MAX_ENTRIES = 1000
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_RATIO = 200  # a CDA compresses about 10:1; 200:1 is a bomb
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
CDA_FORMAT = "urn:ihe:iti:xds-sd:text:2008"


@dataclass(frozen=True)
class Member:
    name: str  # path inside the zip
    data: bytes


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def unpack(data: bytes, per_document_limit: int | None = None) -> list[Member]:
    """The documents of an XDM package, in METADATA.XML order; Rejected if unreadable."""
    limit = safexml.max_bytes() if per_document_limit is None else per_document_limit
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise Rejected("bad_zip", f"Archive XDM illisible : {str(exc)[:200]}") from None
    if len(infos) > MAX_ENTRIES:
        raise Rejected("bad_zip", f"Archive XDM : trop de fichiers ({len(infos)}).")
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise Rejected("too_large", "Archive XDM : contenu décompressé trop volumineux.")
    by_name = {info.filename: info for info in infos if not info.is_dir()}

    def read(info: zipfile.ZipInfo) -> bytes:
        if info.flag_bits & 0x1:
            raise Rejected("bad_zip", f"Archive XDM : fichier chiffré refusé ({info.filename}).")
        if info.file_size > limit:
            raise Rejected("too_large", f"Archive XDM : {info.filename} dépasse la taille maximale d'un document.")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise Rejected("bad_zip", f"Archive XDM : taux de compression suspect ({info.filename}).")
        try:
            with archive.open(info) as handle:
                content = handle.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise Rejected("bad_zip", f"Archive XDM : {info.filename} illisible ({str(exc)[:120]}).") from None
        if len(content) > limit:
            raise Rejected("too_large", f"Archive XDM : {info.filename} dépasse la taille maximale d'un document.")
        return content

    names = _documents_from_metadata(by_name, read)
    if not names:  # no (usable) metadata: every XML file of the submission sets
        names = sorted(
            name for name in by_name
            if name.upper().startswith("IHE_XDM/") and name.lower().endswith(".xml")
            and posixpath.basename(name).upper() != "METADATA.XML"
        )
    if not names:
        raise Rejected("empty_package", "Archive XDM sans document CDA (IHE_XDM/SUBSETxx/*.XML).")
    return [Member(name, read(by_name[name])) for name in names]


def _documents_from_metadata(by_name: dict[str, zipfile.ZipInfo], read) -> list[str]:
    names: list[str] = []
    for name, info in sorted(by_name.items()):
        if posixpath.basename(name).upper() != "METADATA.XML" or not name.upper().startswith("IHE_XDM/"):
            continue
        try:
            root = safexml.parse(read(info))
        except Rejected:
            continue  # the documents are still there: fall back to listing them
        folder = posixpath.dirname(name)
        for slot in root.iter(f"{{{RIM}}}Slot"):
            if slot.get("name") != "URI":
                continue
            values = [v.text or "" for v in slot.iter(f"{{{RIM}}}Value")]
            # A long URI may be split over several values prefixed "1|", "2|"...
            if len(values) > 1 and all("|" in v for v in values):
                uri = "".join(v.split("|", 1)[1] for v in sorted(values, key=lambda v: int(v.split("|", 1)[0] or 0)))
            else:
                uri = values[0] if values else ""
            path = posixpath.normpath(posixpath.join(folder, uri.strip()))
            match = next((n for n in by_name if n.upper() == path.upper()), None)
            if match and match not in names:
                names.append(match)
    return names


def pack(documents: list[tuple[str, bytes]], *, source_id: str = "1.2.250.1.213.1.1.1.30") -> bytes:
    """An XDM package of CDA documents (one submission set), e.g. for MSSanté or tests."""
    rim = ElementMaker(namespace=RIM, nsmap={"rim": RIM})
    objects = []
    for index, (_, data) in enumerate(documents, start=1):
        entry_id = f"urn:uuid:{uuid.uuid4()}"

        def slot(name: str, value: str):
            return rim.Slot(rim.ValueList(rim.Value(value)), name=name)

        objects.append(rim.ExtrinsicObject(
            slot("URI", f"DOC{index:04d}.XML"),
            slot("hash", hashlib.sha1(data).hexdigest()),  # XDS metadata requires SHA-1
            slot("size", str(len(data))),
            slot("languageCode", "fr-FR"),
            id=entry_id, mimeType="text/xml", objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1",
        ))
    objects.append(rim.RegistryPackage(
        rim.Slot(rim.ValueList(rim.Value(source_id)), name="sourceId"),
        id=f"urn:uuid:{uuid.uuid4()}",
    ))
    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    request.append(rim.RegistryObjectList(*objects))
    metadata = etree.tostring(request, xml_declaration=True, encoding="UTF-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", "<html><body>SDM-MR</body></html>")
        archive.writestr("README.TXT", "IHE XDM - documents CDA SDM-MR\r\n")
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata)
        for index, (_, data) in enumerate(documents, start=1):
            archive.writestr(f"IHE_XDM/SUBSET01/DOC{index:04d}.XML", data)
    return buffer.getvalue()
