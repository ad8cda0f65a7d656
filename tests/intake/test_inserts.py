"""The intake's INSERTs built without the ORM compiler (bamara.records.inserts) write exactly
what bulk_create and save() wrote: same documents through both paths, same stored rows."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from bamara.audit.models import AuditEvent
from bamara.intake import service
from bamara.intake.models import ReceivedDocument, Status
from bamara.records import inserts
from bamara.records.models import ActivityObjective, Patient

from .conftest import (
    AFTER_PREGNANCY,
    NEWBORN,
    PREGNANT,
    V2021,
    V2022,
    example,
    ingest,
    requires_examples,
)
from .test_reconciliation import version
from .test_throughput import rename

pytestmark = requires_examples

SKIPPED = {"id", "created_at", "updated_at", "received_at", "at", "duration_ms"}


def orm_insert(model: type[models.Model], objects: list[models.Model], *, returning: bool = False) -> None:
    model._default_manager.bulk_create(objects)


class OrmBatch:
    def __init__(self) -> None:
        self.pending: list[tuple[type[models.Model], list[models.Model]]] = []

    def add(self, model: type[models.Model], objects: list[models.Model], *, returning: bool = False) -> None:
        self.pending.append((model, objects))

    def flush(self) -> None:
        for model, objects in self.pending:
            if objects:
                model._default_manager.bulk_create(objects)
        self.pending = []


def other_objective(root) -> None:
    from bamara.intake.cda import q

    for observation in root.iter(q("observation")):
        code = observation.find(q("code"))
        if code is not None and code.get("code") == "ORG-034":
            observation.find(q("value")).set("code", "ORG-046")
            return


def documents() -> list[bytes]:
    """Every official example, with new versions of one (unchanged, renamed, a list changed)
    before the later example of its series; the 2022 example is refused (its IPP is the 2021
    example's, another person)."""
    return [example(V2021), example(NEWBORN), example(PREGNANT), version(example(PREGNANT), 2),
            version(example(PREGNANT), 3, lambda root: rename(root, "NESSIA")),
            version(example(PREGNANT), 4, other_objective), example(AFTER_PREGNANCY), example(V2022)]


def _identity(row: models.Model | None) -> Any:
    """A stored row as its path, independent of the ids the database gave."""
    if row is None:
        return None
    if hasattr(row, "uuid"):
        return (row._meta.label, str(row.uuid))
    parents = [f for f in row._meta.concrete_fields if f.is_relation]
    return (row._meta.label, tuple(_identity(getattr(row, f.name)) for f in parents))


def dump(events_after: int = 0) -> dict[str, list[tuple]]:
    """Every row written by the intake, without ids and timestamps (foreign keys as paths);
    the audit events after ``events_after`` (the trail is append-only)."""
    result = {}
    for model in [*apps.get_app_config("records").get_models(), ReceivedDocument, AuditEvent]:
        rows = []
        query = model._default_manager.filter(pk__gt=events_after) if model is AuditEvent else model._default_manager.all()
        for row in query:
            values = []
            for f in row._meta.concrete_fields:
                if f.attname in SKIPPED:
                    continue
                if f.is_relation:
                    values.append((f.name, _identity(getattr(row, f.name))))
                elif model is AuditEvent and f.attname in ("object_id", "patient_id"):  # ids of records
                    pk = getattr(row, f.attname)
                    values.append((f.name, _identity(Patient.objects.filter(pk=pk).first() if pk else None)))
                else:
                    values.append((f.name, repr(getattr(row, f.attname))))
            rows.append(tuple(values))
        result[model._meta.label] = sorted(rows, key=repr)
    return result


def ingest_all(hospital) -> list[str]:
    return [str(ingest(data, hospital).status) for data in documents()]


def test_it_writes_what_the_orm_wrote(debre, monkeypatch):
    raw_statuses = ingest_all(debre)
    raw = dump()
    for model in [*apps.get_app_config("records").get_models(), ReceivedDocument]:
        model._default_manager.all().delete()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    monkeypatch.setattr(inserts, "insert", orm_insert)
    monkeypatch.setattr(inserts, "Batch", OrmBatch)
    orm_statuses = ingest_all(debre)
    assert raw_statuses == orm_statuses
    assert raw_statuses == [Status.WARNINGS] * 7 + [Status.REJECTED]
    orm = dump(events_after=last_event)
    assert raw.keys() == orm.keys()
    for label in raw:
        assert raw[label] == orm[label], label
    assert any(raw[label] for label in raw if label.startswith("records.") and label != "records.Patient")
    monkeypatch.undo()
    # Timestamps are set (reports.facts catch_up follows updated_at).
    assert ActivityObjective.objects.exists()
    for model in apps.get_app_config("records").get_models():
        if any(f.attname == "updated_at" for f in model._meta.concrete_fields):
            assert not model._default_manager.filter(updated_at__isnull=True).exists(), model


def test_inserted_rows_get_their_ids_timestamps_and_json(debre):
    before = timezone.now()
    received = ReceivedDocument(hospital=debre, channel="cli", sha256="0" * 64, size=1, content=b"x",
                                acknowledgement={"status": "accepted", "messages": []})
    inserts.insert(ReceivedDocument, [received], returning=True)
    assert received.pk is not None and not received._state.adding
    stored = ReceivedDocument.objects.get(pk=received.pk)
    assert stored.acknowledgement == {"status": "accepted", "messages": []}
    assert stored.received_at >= before - dt.timedelta(seconds=1)
    events = [AuditEvent(action="intake", changes={}, channel="cda", detail="a"),
              AuditEvent(action="intake", changes={"x": [None, 1]}, channel="cda", detail="b")]
    batch = inserts.Batch()
    batch.add(AuditEvent, events)
    batch.add(AuditEvent, [AuditEvent(action="intake", channel="cda", detail="c")])
    assert not AuditEvent.objects.exists()
    kept = ReceivedDocument(hospital=debre, channel="cli", sha256="1" * 64, size=1, content=b"y")
    batch.add(ReceivedDocument, [kept], returning=True)
    assert kept.pk is None
    batch.flush()
    assert sorted(AuditEvent.objects.values_list("detail", "changes")) == [("a", {}), ("b", {"x": [None, 1]}), ("c", {})]
    assert not batch.pending and kept.pk is not None and not kept._state.adding
    assert ReceivedDocument.objects.get(pk=kept.pk).sha256 == "1" * 64
    alone = ReceivedDocument(hospital=debre, channel="cli", sha256="2" * 64, size=1, content=b"z")
    batch.add(ReceivedDocument, [alone], returning=True)
    with pytest.raises(ValueError):
        batch.add(ReceivedDocument, [alone], returning=True)
    batch.flush()  # the returning statement alone
    assert ReceivedDocument.objects.get(pk=alone.pk).sha256 == "2" * 64


@pytest.mark.parametrize("rows", [1, 3])
def test_many_rows_are_split_below_the_parameter_limit(debre, monkeypatch, rows):
    monkeypatch.setattr(inserts, "MAX_PARAMS", 15)  # a few rows per statement
    events = [AuditEvent(action="intake", channel="cda", detail=str(uuid.uuid4())) for _ in range(rows * 5)]
    # PostgreSQL: one array per column, one statement whatever the number of rows
    assert len(inserts.statements(AuditEvent, events)) == (1 if connection.vendor == "postgresql" else rows * 5)
    inserts.insert(AuditEvent, events, returning=True)
    assert len({e.pk for e in events}) == len(events)
    assert AuditEvent.objects.count() == len(events)


def test_a_batch_of_documents_still_uses_the_fast_path(debre):
    acks = service.receive_batch([(data, "") for data in documents()[:3]], hospital=debre, channel="cli")
    assert all(ack.received_id for ack in acks)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: statements prepared on the server")
def test_it_sends_one_prepared_statement_text_whatever_the_number_of_rows(debre):
    """Several rows: UNNEST, one array per column, the same text for 2 or 30 rows."""
    texts = set()
    for rows in (1, 7, 1, 30, 2, 5, 3):
        events = [AuditEvent(action="intake", channel="cda", detail=f"{rows}-{n}") for n in range(rows)]
        (sql, _), = inserts.statements(AuditEvent, events)
        if rows > 1:  # one row: VALUES, its own prepared text
            texts.add(sql)
        inserts.insert(AuditEvent, events, returning=True)
        assert [e.detail for e in AuditEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")] == \
            [e.detail for e in events]
    assert len(texts) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['INSERT INTO "audit_auditevent"%UNNEST%'])
        assert cursor.fetchone()[0] >= 1  # prepared once per connection


def test_a_constraint_violation_is_djangos_integrity_error(debre):
    """service.receive_document retries a document on django.db.IntegrityError (a row id
    already taken): it must still be that exception, from insert and from a batch."""
    first = Patient(hospital=debre, birth_name="A")
    inserts.insert(Patient, [first], returning=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        inserts.insert(Patient, [Patient(hospital=debre, birth_name="B", uuid=first.uuid)])
    batch = inserts.Batch()
    batch.add(AuditEvent, [AuditEvent(action="intake", channel="cda", detail="x")])
    batch.add(Patient, [Patient(hospital=debre, birth_name="C", uuid=first.uuid)], returning=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.flush()
    assert list(Patient.objects.values_list("birth_name", flat=True)) == ["A"]
    assert not AuditEvent.objects.filter(detail="x").exists()
