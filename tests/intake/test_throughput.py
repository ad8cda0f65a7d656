"""What the faster intake path must keep: name keys and national identifier in step without
Patient.save(), unchanged lists left alone, batches of documents with one savepoint each."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from bamara.audit.models import Action, AuditEvent
from bamara.identity.models import FormerIdentifier
from bamara.intake import service
from bamara.intake.cda import q
from bamara.intake.models import Channel, ReceivedDocument, Status
from bamara.organisations.models import Site
from bamara.records.models import ActivityObjective, Patient, PatientName
from bamara.records.search import search

from .conftest import PREGNANT, example, ingest, requires_examples
from .test_reconciliation import version

pytestmark = requires_examples


def rename(root, family: str) -> None:
    for name in root.find(q("recordTarget")).iter(q("family")):
        if name.get("qualifier") == "BR":
            name.text = family


def other_site(root) -> None:
    """Every care episode and activity of the document at site S002 (another hospital)."""
    for identifier in root.iter(q("id")):
        if identifier.get("extension") == "S001":
            identifier.set("extension", "S002")


def test_it_gives_a_new_record_its_name_keys_at_the_sites_of_its_care_episodes(debre):
    ack = ingest(example(PREGNANT), debre)
    patient = Patient.objects.get(uuid=ack.patient)
    site = Site.objects.get(code="S001")
    keys = set(PatientName.objects.filter(patient=patient).values_list("site_id", "key"))
    assert (site.pk, "NESSI") in keys and (site.pk, "DECOURCY") in keys
    assert search(Patient.objects.all(), "nessi", sites=[site.pk]) == [patient]
    assert patient.national_id


def test_it_rebuilds_name_keys_and_the_national_identifier_when_the_birth_name_changes(debre):
    first = ingest(example(PREGNANT), debre)
    patient = Patient.objects.get(uuid=first.patient)
    former = patient.national_id
    ingest(version(example(PREGNANT), 2, lambda root: rename(root, "NESSIA")), debre)
    patient.refresh_from_db()
    assert patient.birth_name == "NESSIA"
    keys = set(PatientName.objects.filter(patient=patient).values_list("key", flat=True))
    assert "NESSIA" in keys and "NESSI" not in keys
    assert patient.national_id and patient.national_id != former
    assert FormerIdentifier.objects.filter(patient=patient, national_id=former).exists()


def test_it_rewrites_nothing_of_an_unchanged_record_but_its_version(debre):
    ingest(example(PREGNANT), debre)
    patient = Patient.objects.get()
    objectives = list(ActivityObjective.objects.filter(activity__patient=patient).values_list("pk", flat=True))
    assert objectives
    with CaptureQueriesContext(connection) as queries:
        ack = ingest(version(example(PREGNANT), 2), debre)
    assert ack.status != Status.REJECTED
    # statements sent together (records.inserts.Batch) are joined by ";\n"
    writes = [sql for query in queries.captured_queries for sql in query["sql"].split(";\n")
              if sql.startswith(("INSERT", "UPDATE", "DELETE"))]
    tables = {sql.split('"')[1] for sql in writes}
    assert tables == {"records_patient", "intake_receiveddocument", "audit_auditevent"}, writes
    assert list(ActivityObjective.objects.filter(activity__patient=patient).values_list("pk", flat=True)) == objectives
    patient.refresh_from_db()
    assert patient.cda_version == 2


def test_it_replaces_a_list_that_changed(debre):
    ingest(example(PREGNANT), debre)
    patient = Patient.objects.get()
    before = sorted(ActivityObjective.objects.filter(activity__patient=patient).values_list("activity_id", "objective_code"))
    assert [code for _, code in before] == ["ORG-047", "ORG-047"]

    def other_objective(root) -> None:  # the first activity's objective becomes "Diagnostic"
        for observation in root.iter(q("observation")):
            code = observation.find(q("code"))
            if code is not None and code.get("code") == "ORG-034":
                observation.find(q("value")).set("code", "ORG-046")
                return
        raise AssertionError("pas d'objectif")

    ack = ingest(version(example(PREGNANT), 2, other_objective), debre)
    assert ack.status != Status.REJECTED
    after = sorted(ActivityObjective.objects.filter(activity__patient=patient).values_list("activity_id", "objective_code"))
    assert sorted(code for _, code in after) == ["ORG-046", "ORG-047"]
    assert {activity for activity, _ in after} == {activity for activity, _ in before}


def test_it_stores_a_batch_in_savepoints_a_rejected_document_changing_nothing(debre):
    bad = version(example(PREGNANT), 1, other_site)
    bad_root = etree.fromstring(bad)
    bad_root.find(q("setId")).set("root", "1.2.250.1.213.1.1.1.30.999")
    for identifier in bad_root.find(q("recordTarget")).iter(q("id")):
        identifier.set("extension", "AUTRE-IPP")
    bad = etree.tostring(bad_root, xml_declaration=True, encoding="UTF-8")
    acks = service.receive_batch([(example(PREGNANT), "a.xml"), (bad, "b.xml"), (version(example(PREGNANT), 2), "c.xml")],
                                 hospital=debre, channel=Channel.CLI)
    assert [str(ack.status) for ack in acks] == [Status.WARNINGS, Status.REJECTED, Status.WARNINGS]
    assert "site_not_owned" in [m.code for m in acks[1].messages]
    assert Patient.objects.count() == 1 and Patient.objects.get().cda_version == 2
    assert ReceivedDocument.objects.count() == 3
    assert AuditEvent.objects.filter(action=Action.INTAKE).count() == 3
    assert AuditEvent.objects.filter(action=Action.INTAKE, patient_id__isnull=True).count() == 1


def test_it_ingests_files_by_batches_from_the_command_line(debre, tmp_path):
    import io
    import json

    from django.core.management import call_command

    first, second = tmp_path / "v1.xml", tmp_path / "v2.xml"
    first.write_bytes(example(PREGNANT))
    second.write_bytes(version(example(PREGNANT), 2))
    out = io.StringIO()
    call_command("ingest_cda", str(first), str(second), "--hospital", "750803454", "--batch", "2", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["version"] for line in lines] == [1, 2]
    assert [line["status"] for line in lines] == ["warnings", "warnings"]
    assert Patient.objects.get().cda_version == 2
