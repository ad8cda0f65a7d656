"""IHE XDM packages: read in METADATA.XML order, bounded against zip bombs."""

from __future__ import annotations

import io
import zipfile

import pytest

from bamara.intake import xdm
from bamara.intake.ack import Rejected


def test_it_reads_back_the_documents_it_packs_in_order():
    package = xdm.pack([("a.xml", b"<a/>"), ("b.xml", b"<b/>")])
    assert xdm.is_zip(package)
    assert [(m.name, m.data) for m in xdm.unpack(package)] == [
        ("IHE_XDM/SUBSET01/DOC0001.XML", b"<a/>"), ("IHE_XDM/SUBSET01/DOC0002.XML", b"<b/>")]


def zipped(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_it_lists_the_xml_files_of_a_package_without_metadata():
    package = zipped({"IHE_XDM/SUBSET01/DOC2.XML": b"<b/>", "IHE_XDM/SUBSET01/DOC1.XML": b"<a/>", "README.TXT": b"x"})
    assert [m.data for m in xdm.unpack(package)] == [b"<a/>", b"<b/>"]


@pytest.mark.parametrize(("files", "code"), [
    ({"IHE_XDM/SUBSET01/DOC1.XML": b"a" * 5_000_000}, "bad_zip"),  # 5 MB of "a": a bomb
    ({f"IHE_XDM/SUBSET01/D{i}.XML": b"<a/>" for i in range(xdm.MAX_ENTRIES + 1)}, "bad_zip"),
    ({"README.TXT": b"rien"}, "empty_package"),
], ids=["compression-bomb", "too-many-files", "no-document"])
def test_it_refuses_dangerous_or_empty_packages(files, code):
    with pytest.raises(Rejected) as caught:
        xdm.unpack(zipped(files))
    assert caught.value.messages[-1].code == code


def test_it_refuses_a_corrupted_zip_and_a_document_over_the_limit():
    with pytest.raises(Rejected):
        xdm.unpack(b"PK\x03\x04 corrompu")
    package = zipped({"IHE_XDM/SUBSET01/DOC1.XML": b"<a>" + b"x" * 2000 + b"</a>"}, zipfile.ZIP_STORED)
    with pytest.raises(Rejected) as caught:
        xdm.unpack(package, per_document_limit=1000)
    assert caught.value.messages[-1].code == "too_large"
