"""Successive documents are versions of one record: the EHR owns what it sends, the web keeps
what it typed, older and repeated versions change nothing."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from bamara.audit.models import Action, AuditEvent
from bamara.intake import provenance
from bamara.intake.cda import q
from bamara.intake.models import ReceivedDocument, Status
from bamara.records.fields import Code
from bamara.records.models import Activity, CareEpisode, Diagnosis, Foetus, Patient, Source
from bamara.sdm import oids

from .conftest import (
    AFTER_PREGNANCY,
    NEWBORN,
    PREGNANT,
    errors,
    example,
    ingest,
    record,
    requires_examples,
)

pytestmark = requires_examples


def version(data: bytes, number: int, change=None) -> bytes:
    """The document as another version of the same record (same setId)."""
    root = etree.fromstring(data)
    root.find(q("versionNumber")).set("value", str(number))
    root.find(q("id")).set("root", f"{root.find(q('id')).get('root')}.{number}")
    if change:
        change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def research_flag(root, code: str, value: str) -> None:
    for observation in root.iter(q("observation")):
        if observation.find(q("code")) is not None and observation.find(q("code")).get("code") == code:
            observation.find(q("value")).set("value", value)


def drop_activity(root, activity_id: str) -> None:
    for encounter in root.iter(q("encounter")):
        if encounter.find(q("id")).get("root") == activity_id:
            entry = encounter.getparent()
            entry.getparent().remove(entry)
            return
    raise AssertionError(activity_id)


def drop_section(root, code: str) -> None:
    for section in root.iter(q("section")):
        if section.find(q("code")).get("code") == code:
            component = section.getparent()
            component.getparent().remove(component)
            return
    raise AssertionError(code)


def test_it_ignores_the_same_document_sent_twice(debre):
    first = ingest(example(PREGNANT), debre)
    again = ingest(example(PREGNANT), debre)
    assert first.status == Status.WARNINGS and again.status == Status.IGNORED
    assert [m.code for m in again.messages if m.level == "info"][-1] == "duplicate"
    assert Patient.objects.count() == 1 and again.patient == first.patient
    assert ReceivedDocument.objects.filter(status=Status.IGNORED).count() == 1
    assert AuditEvent.objects.filter(action=Action.INTAKE, patient_id__isnull=False).count() == 1


def test_it_keeps_the_newest_data_when_an_older_version_comes_after(debre):
    v1 = example(PREGNANT)  # version 1
    v3 = version(v1, 3, lambda root: research_flag(root, "MED-065", "true"))
    assert ingest(v3, debre).status == Status.WARNINGS
    late = ingest(v1, debre)
    assert late.status == Status.IGNORED and "older_version" in [m.code for m in late.messages]
    patient = Patient.objects.get()
    assert (patient.cda_version, patient.sample_for_research) == (3, True)


def test_it_replaces_what_the_ehr_sent_before_and_keeps_what_was_typed_on_the_web(debre):
    patient = record(ingest(example(PREGNANT), debre))
    site = CareEpisode.objects.get().site
    web_activity = Activity.objects.create(patient=patient, site=site, date=dt.date(2024, 3, 1),
                                           context_code="MED-096", context_system=oids.TA_ASIP, source=Source.WEB)
    web_diagnosis = Diagnosis.objects.create(patient=patient, disease_code="586", disease_system=oids.ORPHA,
                                             status_code="42425007", status_system=oids.SNOMED_CT, source=Source.WEB)
    # A field the EHR sent, then corrected on the web: later documents leave it alone.
    patient.sample_for_molecular_diagnosis = False
    provenance.record_web_edit(patient, ["sample_for_molecular_diagnosis"])
    # A field the EHR never sent, typed on the web.
    patient.patient_informed = True
    patient.save()

    def v2(root):
        drop_activity(root, "C38D726B-6DE0-43A0-B309-96FF1D524834")
        research_flag(root, "MED-065", "true")
        drop_section(root, "GEN-369")  # no research section at all: EHR-owned research flags are cleared

    ack = ingest(version(example(PREGNANT), 2, v2), debre)
    assert ack.status == Status.WARNINGS, errors(ack)
    patient.refresh_from_db()
    activities = set(Activity.objects.filter(patient=patient).values_list("uuid", flat=True))
    assert web_activity.uuid in activities and len(activities) == 2  # EHR activity removed, web one kept
    assert Diagnosis.objects.filter(pk=web_diagnosis.pk).exists()
    assert Diagnosis.objects.filter(patient=patient, source=Source.EHR).count() == 1
    assert patient.sample_for_molecular_diagnosis is False  # web override kept
    assert "web_kept" not in [m.code for m in ack.messages]  # the document no longer sends it
    assert patient.research_contact_agreement is None and patient.biobanks == ""  # EHR-owned, no longer sent
    assert patient.patient_informed is True  # never sent by the EHR
    assert patient.cda_version == 2 and patient.source_ref.endswith("#v2")


def test_it_does_not_overwrite_a_web_correction_with_a_newer_document(debre):
    patient = record(ingest(example(PREGNANT), debre))
    patient.sample_for_research = True
    provenance.record_web_edit(patient, ["sample_for_research"])
    patient.save()
    ack = ingest(version(example(PREGNANT), 2), debre)  # still says MED-065 = false
    patient.refresh_from_db()
    assert patient.sample_for_research is True
    assert "web_kept" in [m.code for m in ack.messages]


def test_it_marks_the_identity_fed_by_the_ehr_with_its_source(debre):
    patient = record(ingest(example(NEWBORN), debre))
    identity = provenance.ehr_identity(patient)
    assert identity["birth_name"] == identity["ins"] == "1.2.250.1.213.1.1.1.30.2024.1.1#v2"
    assert provenance.owner(patient, "patient_informed").startswith("dpi:")  # row created by the EHR
    patient.birth_name = "DE COURCY"
    provenance.record_web_edit(patient, ["birth_name"])
    assert "birth_name" not in provenance.ehr_identity(patient)


def test_it_gives_an_existing_web_record_its_ehr_series_through_the_ipp(debre):
    web = Patient.objects.create(hospital=debre, birth_name="NESSI", first_birth_given_name="Ruth",
                                 sex_code="F", sex_system=oids.HL7_GENDER, ipp="1234567890121",
                                 gp_name="Dr Web", biobanks="typé sur le web")
    web.birth_date_partial = "1977-07-14"
    web.save()
    ack = ingest(example(PREGNANT), debre)
    assert "adopted" in [m.code for m in ack.messages]
    patient = Patient.objects.get()
    assert patient.pk == web.pk and patient.source == Source.WEB
    assert patient.cda_set_id == "1.2.250.1.213.1.1.1.30.2024.2"
    assert patient.gp_name == "Stéphane MEDIONI"  # sent by the EHR: it takes the field
    assert patient.field_sources["gp_name"].startswith("dpi:")
    assert patient.biobanks == "(texte libre)"


def test_it_refuses_an_ipp_that_belongs_to_another_person(debre):
    other = Patient.objects.create(hospital=debre, birth_name="MARTIN", first_birth_given_name="Jules",
                                   sex_code="M", sex_system=oids.HL7_GENDER, ipp="1234567890121")
    ack = ingest(example(PREGNANT), debre)
    assert ack.status == Status.REJECTED and "ipp_conflict" in errors(ack)
    assert list(Patient.objects.all()) == [other] and not Activity.objects.exists()


def test_it_ignores_late_documents_of_a_series_the_record_has_left(debre):
    ingest(example(PREGNANT), debre)  # setId ….2024.2 v1, IPP 1234567890121
    ack = ingest(example(AFTER_PREGNANCY), debre)  # setId ….2024.3, same IPP and person
    assert "new_series" in [m.code for m in ack.messages]
    late = ingest(version(example(PREGNANT), 5), debre)
    assert late.status == Status.IGNORED
    patient = Patient.objects.get()
    assert (patient.cda_set_id, patient.deceased) == ("1.2.250.1.213.1.1.1.30.2024.3", True)


def test_it_links_a_newborn_to_its_mother_through_the_foetus_id(debre):
    mother = record(ingest(example(AFTER_PREGNANCY), debre))
    newborn = record(ingest(example(NEWBORN), debre))
    foetus = Foetus.objects.get(local_id="8ec5518caaab70961082")
    assert foetus.record_id == newborn.pk and foetus.mother_id == mother.pk
    assert Patient.objects.get(pk=newborn.pk).mother_id == mother.pk


def test_it_audits_every_write_of_a_document(debre):
    ack = ingest(example(NEWBORN), debre)
    event = AuditEvent.objects.get(action=Action.INTAKE, patient_id__isnull=False)
    assert event.channel == "cda" and event.patient_id == record(ack).pk
    assert event.changes["created"] is True and event.changes["rows"]["activity"] == {"created": 1}
    assert event.changes["patient"]["birth_name"] == ["", "DECOURCY"]


def test_it_updates_rows_in_place_across_versions(debre):
    ingest(example(NEWBORN), debre)
    diagnosis = Diagnosis.objects.get()

    def new_status(root):
        for observation in root.iter(q("observation")):
            code = observation.find(q("code"))
            if code is not None and code.get("code") == "MED-072":
                observation.find(q("value")).attrib.update({"code": "255545003", "displayName": "diagnostic définitif"})

    ingest(version(example(NEWBORN), 3, new_status), debre)
    updated = Diagnosis.objects.get()
    assert updated.pk == diagnosis.pk and updated.status == Code("255545003", oids.SNOMED_CT)
    assert updated.source_ref.endswith("#v3")


def test_it_never_lifts_an_objection_recorded_on_the_web(debre):
    web = Patient.objects.create(hospital=debre, birth_name="NESSI", first_birth_given_name="Ruth",
                                 sex_code="F", sex_system=oids.HL7_GENDER, ipp="1234567890121", opposition=True)
    ack = ingest(example("SDM-MR_2022.01.xml").replace(b"PAT-TROIS", b"NESSI").replace(b"DOMINIQUE", b"Ruth")
                 .replace(b"19790328", b"19770714"), debre)  # 2022.01: "non-opposition"
    assert "opposition_kept" in [m.code for m in ack.messages]
    assert Patient.objects.get(pk=web.pk).opposition is True


def other_series(root) -> None:
    """Another EHR record of the same person: its own setId and IPP (a duplicate in the EHR)."""
    root.find(q("setId")).set("root", "1.2.250.1.213.1.1.1.30.999")
    for identifier in root.find(q("recordTarget")).find(q("patientRole")).findall(q("id")):
        if not identifier.get("root", "").startswith("1.2.250.1.213.1.4."):  # the IPP, not an INS
            identifier.set("extension", "IPP-DOUBLON")


def test_it_sends_the_series_of_a_merged_record_to_the_record_that_kept_it(debre):
    from bamara.identity.merge import merge

    web = Patient.objects.create(hospital=debre, birth_name="NESSI", first_birth_given_name="Ruth",
                                 sex_code="F", sex_system=oids.HL7_GENDER, ipp="IPP-WEB", gp_name="Dr Web")
    ehr = record(ingest(example(PREGNANT), debre))  # IPP 1234567890121: another record
    merge(web, ehr, None)
    assert list(Patient.objects.all()) == [web]
    ack = ingest(version(example(PREGNANT), 2), debre)
    assert ack.status != Status.REJECTED and "merged_series_adopted" in [m.code for m in ack.messages]
    patient = Patient.objects.get()  # not a new record: the duplicate stays merged
    assert patient.pk == web.pk and ack.patient == str(web.uuid)
    assert (patient.cda_set_id, patient.cda_version) == ("1.2.250.1.213.1.1.1.30.2024.2", 2)
    assert patient.gp_name == "Stéphane MEDIONI"
    assert ingest(version(example(PREGNANT), 3), debre).status != Status.IGNORED  # now its own series


def test_it_ignores_the_series_of_a_merged_record_when_the_kept_one_follows_another(debre):
    from bamara.identity.merge import merge

    kept = record(ingest(example(PREGNANT), debre))
    other = record(ingest(version(example(PREGNANT), 1, other_series), debre))
    assert kept.pk != other.pk
    merge(kept, other, None)
    ack = ingest(version(example(PREGNANT), 2, other_series), debre)
    assert ack.status == Status.IGNORED and "merged_series" in [m.code for m in ack.messages]
    assert ack.patient == str(kept.uuid)
    patient = Patient.objects.get()
    assert (patient.pk, patient.cda_set_id, patient.cda_version) == (kept.pk, "1.2.250.1.213.1.1.1.30.2024.2", 1)
    assert ReceivedDocument.objects.filter(status=Status.IGNORED, patient=kept).count() == 1
