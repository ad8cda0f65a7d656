"""Bad input is rejected with a clear reason and changes nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings
from lxml import etree

from bamara.intake import reconcile
from bamara.intake.cda import q
from bamara.intake.models import ReceivedDocument, Status
from bamara.records.models import Activity, CareEpisode, Diagnosis, Patient, Pregnancy

from .conftest import PREGNANT, errors, example, ingest, requires_examples

pytestmark = requires_examples

RECORD_TABLES = (Patient, CareEpisode, Activity, Diagnosis, Pregnancy)


def nothing_stored() -> bool:
    return not any(model.objects.exists() for model in RECORD_TABLES)


def assert_rejected(ack, code: str) -> None:
    assert ack.status == Status.REJECTED, ack.messages
    assert code in errors(ack), errors(ack)
    assert all(m.text for m in ack.messages)
    assert nothing_stored()
    kept = ReceivedDocument.objects.get(pk=ack.received_id)
    assert kept.status == Status.REJECTED and kept.acknowledgement["status"] == "rejected"


def replaced(old: bytes, new: bytes) -> bytes:
    data = example(PREGNANT)
    assert old in data
    return data.replace(old, new)


XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol3;</title></ClinicalDocument>"""


@pytest.mark.parametrize(("data", "code"), [
    (b"<ClinicalDocument xmlns='urn:hl7-org:v3'><title>", "not_xml"),
    (b"", "empty"),
    (b"pas du XML du tout", "not_xml"),
    (XXE, "doctype"),
    (LAUGHS, "doctype"),
    ("<?xml version='1.0' encoding='UTF-16'?><ClinicalDocument/>".encode("utf-16"), "encoding"),
    (b"<?xml version='1.0' encoding='ISO-8859-1'?><ClinicalDocument xmlns='urn:hl7-org:v3'/>", "encoding"),
    (b"<?xml version='1.0' encoding='UTF-8'?><ClinicalDocument xmlns='urn:hl7-org:v3'><title>\xe9t\xe9</title></ClinicalDocument>", "encoding"),
    (b"<?xml version='1.0'?><html><body/></html>", "not_cda"),
], ids=["malformed", "empty", "text", "xxe", "billion-laughs", "utf-16", "latin-1-declared", "latin-1-bytes", "not-cda"])
def test_it_rejects_unreadable_or_dangerous_xml(debre, data, code):
    assert_rejected(ingest(data, debre), code)


def test_it_rejects_a_truncated_document(debre):
    data = example(PREGNANT)
    assert_rejected(ingest(data[: len(data) * 2 // 3], debre), "not_xml")


@override_settings(INTAKE_MAX_DOCUMENT_BYTES=10_000)
def test_it_rejects_an_oversized_document(debre):
    ack = ingest(example(PREGNANT), debre)
    assert_rejected(ack, "too_large")
    assert ReceivedDocument.objects.get(pk=ack.received_id).size == len(example(PREGNANT))


@pytest.mark.parametrize(("old", "new", "code"), [
    (b'root="1.2.250.1.213.1.1.1.30" extension="2024.01"', b'root="1.2.250.1.213.1.1.1.99"', "not_sdm_mr"),
    (b'root="1.2.250.1.213.1.1.1.30" extension="2024.01"', b'root="1.2.250.1.213.1.1.1.30" extension="2030.01"', "unknown_version"),
    (b'<setId root="1.2.250.1.213.1.1.1.30.2024.2"/>', b"", "missing_set_id"),
    (b'<versionNumber value="1"/>', b'<versionNumber value="-3"/>', "bad_version_number"),
    (b'<birthTime value="19770714"/>', b'<birthTime value="19771314"/>', "invalid_value"),
    (b'<family qualifier="BR">NESSI</family>\n          <!--', b"<!--", "required"),
    (b'<id extension="S001" root="1.2.250.1.213.2.61"/>', b'<id extension="S002" root="1.2.250.1.213.2.61"/>', "site_not_owned"),
    (b'<id extension="S001" root="1.2.250.1.213.2.61"/>', b'<id extension="S999" root="1.2.250.1.213.2.61"/>', "unknown_site"),
    (b'<value xsi:type="PQ" value="2500" unit="g"/>', b'<value xsi:type="PQ" value="deux" unit="g"/>', "invalid_value"),
    (b'extension="1234567890121"', b'extension="' + b"9" * 80 + b'"', "invalid_text"),
], ids=["not-sdm-mr", "unknown-version", "no-setid", "bad-version", "impossible-date", "no-birth-name",
        "site-of-another-hospital", "unknown-site", "unreadable-quantity", "ipp-too-long"])
def test_it_rejects_an_invalid_document_and_says_why(debre, old, new, code):
    assert_rejected(ingest(replaced(old, new), debre), code)


def test_it_rejects_a_level_1_document(debre):
    root = etree.fromstring(example(PREGNANT))
    component = root.find(q("component"))
    component.remove(component.find(q("structuredBody")))
    etree.SubElement(component, q("nonXMLBody"))
    assert_rejected(ingest(etree.tostring(root), debre), "not_structured")


def test_it_writes_nothing_when_storing_fails_half_way(debre, monkeypatch, caplog):
    def broken(self, patient, created):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(reconcile._Writer, "write_diagnoses", broken)
    ack = ingest(example(PREGNANT), debre)
    assert_rejected(ack, "internal_error")
    assert "disque plein" not in " ".join(m.text for m in ack.messages)  # no internals leaked


def test_it_reports_unknown_elements_and_codes_instead_of_dropping_them(debre):
    data = replaced(b'<code code="MED-073" displayName="Cas sporadique ou familial"',
                    b'<code code="MED-9999" displayName="Inconnu"')
    data = data.replace(b"<realmCode", b"<custodianFlavour xmlns='urn:hl7-org:v3'/><realmCode", 1)
    ack = ingest(data, debre)
    assert ack.status == Status.WARNINGS
    unknown = [m for m in ack.messages if m.code == "unknown_element"]
    assert any("MED-9999" in m.text and "section[46241-6]" in m.path for m in unknown)
    assert any("custodianFlavour" in m.text for m in unknown)
    assert Diagnosis.objects.get().sporadic_or_familial is None
