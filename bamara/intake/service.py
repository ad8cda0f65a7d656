"""Receiving documents, whatever the channel: one transaction and one acknowledgement each.

    acks = receive(data, hospital=hospital, channel=Channel.HTTP, credential=credential)

``data`` is a CDA document or an IHE XDM zip (then each document is processed on its own).
A rejected document changes nothing in the records; every document is kept
(ReceivedDocument) with its acknowledgement, and every write is in the audit trail.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zlib

from django.db import DatabaseError, IntegrityError, transaction

from bamara.audit import trail
from bamara.audit.models import Action, AuditEvent
from bamara.organisations.models import Hospital
from bamara.records import inserts

from . import checking, parser, reconcile, safexml, xdm
from .ack import REJECTING, AckMessage, Acknowledgement, Rejected, status_for
from .models import Channel, HospitalSystemCredential, ReceivedDocument, Status

log = logging.getLogger(__name__)

# Parser findings that make the document unusable (on top of ack.REJECTING).
PARSER_REJECTING = frozenset({"invalid_value", "missing_site", "missing_diagnosis"})
KEEP_BYTES = 5 * 1024 * 1024  # what is kept of an oversized document (its head)


def receive(data: bytes, *, hospital: Hospital, channel: Channel | str,
            credential: HospitalSystemCredential | None = None, filename: str = "",
            message_id: str = "") -> list[Acknowledgement]:
    """Acknowledgements of a CDA document or of every document of an XDM zip."""
    if xdm.is_zip(data):
        try:
            members = xdm.unpack(data)
        except Rejected as exc:
            return [_reject_unparsed(data, exc, hospital, channel, credential, filename, message_id)]
        return [
            receive_document(member.data, hospital=hospital, channel=channel, credential=credential,
                             filename=f"{filename}!{member.name}" if filename else member.name,
                             message_id=message_id)
            for member in members
        ]
    return [receive_document(data, hospital=hospital, channel=channel, credential=credential,
                             filename=filename, message_id=message_id)]


def receive_batch(items: list[tuple[bytes, str]], *, hospital: Hospital, channel: Channel | str,
                  credential: HospitalSystemCredential | None = None, message_id: str = "") -> list[Acknowledgement]:
    """Several documents ``(data, filename)`` in one database transaction, each stored in its
    own savepoint: a rejected document changes nothing, the others are committed together (one
    commit instead of one per document). Acknowledgements hold once the call returns. The
    document locks are held until the end of the batch: two concurrent batches must not share
    series (split the work by setId). If the batch transaction itself fails, the documents are
    received again one by one."""
    try:
        with transaction.atomic():
            return [ack for data, filename in items
                    for ack in receive(data, hospital=hospital, channel=channel, credential=credential,
                                       filename=filename, message_id=message_id)]
    except DatabaseError:
        log.exception("CDA intake: batch failed, documents received one by one")
    return [ack for data, filename in items
            for ack in receive(data, hospital=hospital, channel=channel, credential=credential,
                               filename=filename, message_id=message_id)]


def _received(data: bytes, hospital: Hospital, channel: str, credential, filename: str, message_id: str) -> ReceivedDocument:
    kept = data[:KEEP_BYTES]
    return ReceivedDocument(
        hospital=hospital, credential=credential, channel=str(channel), filename=filename[:255],
        message_id=message_id[:255], sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        content=zlib.compress(kept, 1), content_truncated=len(kept) < len(data),
    )


def _reject_unparsed(data: bytes, exc: Rejected, hospital: Hospital, channel: str, credential,
                     filename: str, message_id: str) -> Acknowledgement:
    received = _received(data, hospital, channel, credential, filename, message_id)
    ack = Acknowledgement(Status.REJECTED, list(exc.messages), filename=filename)
    _save(received, ack, None, start=time.perf_counter())
    return ack


def receive_document(data: bytes, *, hospital: Hospital, channel: Channel | str,
                     credential: HospitalSystemCredential | None = None, filename: str = "",
                     message_id: str = "") -> Acknowledgement:
    start = time.perf_counter()
    received = _received(data, hospital, channel, credential, filename, message_id)
    ack = Acknowledgement(Status.REJECTED, filename=filename)
    try:
        root = safexml.parse(data)
        ack.document_id, ack.set_id, ack.version, ack.sdm_version = parser.header_info(root)
        parsed = parser.parse(root)
        ack.document_id, ack.set_id = parsed.document_id, parsed.set_id
        ack.version, ack.sdm_version = parsed.version_number, parsed.sdm_version
        messages = list(parsed.messages)
        messages += checking.check(parsed)
        if any(m.level == "error" and (m.code in REJECTING or m.code in PARSER_REJECTING) for m in messages):
            raise Rejected("invalid_document", "Document refusé : données illisibles ou obligatoires absentes "
                           "(voir les erreurs ci-dessus) ; rien n'a été enregistré.", messages=messages)
        # Other errors are the EHR's data as it is: stored, and reported to be corrected.
        messages = [AckMessage("warning", m.code, m.text, m.item_id, m.path) if m.level == "error" else m
                    for m in messages]
        try:
            _store(parsed, hospital, received, ack, messages, start, optimistic=True)
        except IntegrityError:  # a row id already taken: again, looking the ids up first
            received.pk = None
            _store(parsed, hospital, received, ack, messages, start, optimistic=False)
        return ack
    except Rejected as exc:
        ack.status = Status.REJECTED
        ack.messages = list(exc.messages)
        ack.patient = ""
    except DatabaseError as exc:  # a constraint the checks missed: nothing is half-written
        log.exception("CDA intake: database error")
        ack.status, ack.patient = Status.REJECTED, ""
        ack.messages = [AckMessage("error", "storage_error", f"Enregistrement impossible ({type(exc).__name__}) : rien n'a été enregistré.")]
    except Exception:  # a bug must not become a half-written record nor a server error
        log.exception("CDA intake: unexpected error")
        ack.status, ack.patient = Status.REJECTED, ""
        ack.messages = [AckMessage("error", "internal_error", "Erreur interne lors du traitement : rien n'a été enregistré ; l'équipe est prévenue.")]
    _save(received, ack, None, start=start)
    return ack


def _store(parsed, hospital: Hospital, received: ReceivedDocument, ack: Acknowledgement,
           messages: list[AckMessage], start: float, *, optimistic: bool) -> None:
    """One transaction (a savepoint inside receive_batch): the record, the kept document and
    the audit event, or nothing."""
    with transaction.atomic():
        # The record's code lists and name keys, the kept document and the audit event are
        # inserted together at the end (one round trip on PostgreSQL; see records.inserts).
        batch = inserts.Batch()
        outcome = reconcile.store(parsed, hospital, optimistic=optimistic, batch=batch)
        patient = outcome.patient
        ack.messages = messages + outcome.messages
        ack.status = Status.IGNORED if outcome.ignored else status_for(ack.messages)
        ack.patient = str(patient.uuid) if patient is not None else ""
        _save(received, ack, patient, start=start, batch=batch)
        if not outcome.ignored:  # as trail.record would write it
            batch.add(AuditEvent, [trail.new_event(
                None, Action.INTAKE, patient=patient, obj=patient, changes=outcome.changes,
                detail=f"CDA {parsed.sdm_version} {parsed.document_id} v{parsed.version_number} : {ack.status}",
                channel="cda")])
        batch.flush()
        ack.received_id = received.pk


def _save(received: ReceivedDocument, ack: Acknowledgement, patient, *, start: float,
          batch: inserts.Batch | None = None) -> None:
    """Keep the document with its acknowledgement; with ``batch``, its row is inserted when the
    batch is flushed (the caller then sets ack.received_id)."""
    received.document_id = ack.document_id[:255]
    received.set_id = ack.set_id[:128]
    received.version_number = ack.version if ack.version is not None and 0 <= ack.version < 2**31 else None
    received.sdm_version = ack.sdm_version[:16]
    received.status = ack.status
    received.patient = patient
    received.duration_ms = (time.perf_counter() - start) * 1000
    received.acknowledgement = ack.as_dict()
    if received.pk is None and batch is not None and ack.status != Status.REJECTED:
        batch.add(ReceivedDocument, [received], returning=True)
        return
    if received.pk is None:  # a new row (nearly always): without the ORM's compiler
        inserts.insert(ReceivedDocument, [received], returning=True)
    else:  # an id left by a rolled-back attempt: save() updates or inserts as before
        received.save()
    ack.received_id = received.pk
    if ack.status == Status.REJECTED:
        trail.record(None, Action.INTAKE, detail=f"document refusé {ack.document_id or received.sha256[:16]}"[:255], channel="cda")
