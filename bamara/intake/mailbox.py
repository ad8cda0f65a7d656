"""The MSSanté route: messages with IHE XDM zip attachments, read from a maildir or an IMAP
folder; each is answered by a disposition notification (RFC 8098) and moved away.

    sources: MaildirSource(path) | ImapSource(host, user, password, folder)
    sink: OutboxSink(maildir) | SmtpSink(host, port)
    poll_once(source, sink, hospital=..., sender=...) -> [MessageResult]

One mailbox belongs to one hospital (the MSSanté box of its rare-disease EHR flow); an
optional list of allowed senders narrows it further.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import json
import logging
import mailbox
import smtplib
import socket
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from django.utils import timezone

from bamara.organisations.models import Hospital

from . import service, xdm
from .ack import AckMessage, Acknowledgement
from .models import Channel, Status

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 60 * 1024 * 1024
REPORTING_UA = f"{socket.gethostname()}; bamara (intake CDA SDM-MR)"


@dataclass
class MessageResult:
    key: str
    message_id: str
    sender: str
    acks: list[Acknowledgement] = field(default_factory=list)
    error: str = ""  # the message itself could not be used (no attachment, sender refused...)
    notification: Message | None = None

    @property
    def ok(self) -> bool:
        return not self.error and all(ack.status != Status.REJECTED for ack in self.acks)


# -- reading messages --------------------------------------------------------------------


def attachments(message: Message) -> list[tuple[str, bytes]]:
    """CDA documents and XDM zips attached to a message (by type or file name)."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename() or ""
        kind = part.get_content_type()
        lowered = name.lower()
        if kind in ("application/zip", "application/x-zip-compressed") or lowered.endswith(".zip") \
                or kind in ("application/xml", "text/xml", "application/hl7-cda+xml") or lowered.endswith(".xml"):
            payload = part.get_payload(decode=True)
            if payload:
                found.append((name or f"piece-jointe.{'zip' if xdm.is_zip(payload) else 'xml'}", payload))
    return found


def process(raw: bytes, key: str, *, hospital: Hospital, senders: set[str] | None = None,
            from_address: str = "") -> MessageResult:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    sender = parseaddr(message.get("From", ""))[1].lower()
    result = MessageResult(key, (message.get("Message-ID") or "").strip(), sender)
    if len(raw) > MAX_MESSAGE_BYTES:
        result.error = "Message trop volumineux."
    elif senders and sender not in senders:
        result.error = f"Expéditeur {sender or 'inconnu'} non autorisé pour cette boîte."
    else:
        documents = attachments(message)
        if not documents:
            result.error = "Aucune pièce jointe CDA ou XDM (zip) dans le message."
        for name, data in documents:
            result.acks += service.receive(data, hospital=hospital, channel=Channel.MAIL, filename=name,
                                           message_id=result.message_id)
    result.notification = notification(message, result, from_address=from_address)
    return result


def notification(original: Message, result: MessageResult, *, from_address: str = "") -> Message:
    """A disposition notification (RFC 8098, multipart/report) with the acknowledgements in
    French and as JSON."""
    recipient = (original.get("Disposition-Notification-To") or original.get("Return-Path")
                 or original.get("Reply-To") or original.get("From") or "")
    final = parseaddr(original.get("To", ""))[1] or from_address
    lines = [f"Message {result.message_id or '(sans Message-ID)'} reçu le {timezone.localtime():%d/%m/%Y %H:%M}."]
    if result.error:
        lines.append(f"Refusé : {result.error}")
    for ack in result.acks:
        lines.append(f"- {ack.summary_fr()}")
        for message in ack.messages:
            if message.level != "info":
                lines.append(f"    [{message.level}] {message.item_id} {message.code} : {message.text}")
    rejected = bool(result.error) or any(ack.status == Status.REJECTED for ack in result.acks)
    fields = [
        f"Reporting-UA: {REPORTING_UA}",
        f"Final-Recipient: rfc822;{final}",
        f"Original-Message-ID: {result.message_id}",
        "Disposition: automatic-action/MDN-sent-automatically; processed" + ("/error" if rejected else ""),
    ]
    if rejected:
        fields.append("Error: " + (result.error or "un ou plusieurs documents rejetés"))
    report = MIMEMultipart("report", report_type="disposition-notification")
    report["From"] = from_address or final or "bamara@localhost"
    report["To"] = recipient
    report["Subject"] = f"Accusé de réception SDM-MR : {original.get('Subject', '')}"[:200]
    report["Date"] = formatdate(localtime=True)
    report["Message-ID"] = make_msgid("bamara")
    if result.message_id:
        report["In-Reply-To"] = result.message_id
        report["References"] = result.message_id
    report.attach(MIMEText("\n".join(lines) + "\n", "plain", "utf-8"))
    disposition = Message()
    disposition.set_type("message/disposition-notification")
    # The fields of message/disposition-notification are ASCII (RFC 8098).
    text = "\r\n".join(fields) + "\r\n"
    disposition.set_payload(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii"))
    report.attach(disposition)
    payload = [ack.as_dict() for ack in result.acks] or [
        {"status": "rejected", "messages": [AckMessage("error", "message", result.error).as_dict()]}]
    acks = MIMEApplication(json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"), "json")
    acks.add_header("Content-Disposition", "attachment", filename="accuses.json")
    report.attach(acks)
    return report


# -- sources -----------------------------------------------------------------------------


class MaildirSource:
    """A maildir: new messages are read; done ones go to the Maildir++ folders .Traites or
    .Erreurs of the same maildir."""

    def __init__(self, path: str | Path) -> None:
        self.box = mailbox.Maildir(str(path), factory=None, create=False)

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in sorted(self.box.keys()):
            try:
                yield key, self.box.get_bytes(key)
            except (KeyError, FileNotFoundError):  # taken meanwhile by another poller
                continue

    def done(self, key: str, ok: bool) -> None:
        name = "Traites" if ok else "Erreurs"
        folder = self.box.get_folder(name) if name in self.box.list_folders() else self.box.add_folder(name)
        try:
            message = self.box.get_message(key)
        except KeyError:
            return
        message.add_flag("S")
        folder.add(message)
        self.box.discard(key)

    def close(self) -> None:
        self.box.close()


class ImapSource:
    """An IMAP folder (TLS): unseen messages are read, done ones moved to a folder."""

    def __init__(self, host: str, user: str, password: str, folder: str = "INBOX", *, port: int = 993,
                 done_folder: str = "Traites", error_folder: str = "Erreurs") -> None:
        self.imap = imaplib.IMAP4_SSL(host, port)
        self.imap.login(user, password)
        self.folder, self.done_folder, self.error_folder = folder, done_folder, error_folder
        status, _ = self.imap.select(self._quote(folder))
        if status != "OK":
            raise OSError(f"dossier IMAP {folder} inaccessible")

    @staticmethod
    def _quote(name: str) -> str:
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def messages(self) -> Iterator[tuple[str, bytes]]:
        status, data = self.imap.uid("SEARCH", None, "UNSEEN")
        if status != "OK" or not data or not data[0]:
            return
        for uid in data[0].split():
            status, parts = self.imap.uid("FETCH", uid, "(BODY.PEEK[])")
            if status == "OK" and parts and isinstance(parts[0], tuple):
                yield uid.decode(), parts[0][1]

    def done(self, key: str, ok: bool) -> None:
        target = self._quote(self.done_folder if ok else self.error_folder)
        self.imap.create(target)  # an existing folder is not an error worth stopping for
        if b"MOVE" in b" ".join(self.imap.capabilities if isinstance(self.imap.capabilities, tuple) else ()):
            self.imap.uid("MOVE", key, target)
        else:
            self.imap.uid("COPY", key, target)
            self.imap.uid("STORE", key, "+FLAGS", "(\\Deleted \\Seen)")
            self.imap.expunge()

    def close(self) -> None:
        try:
            self.imap.close()
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


# -- sinks -------------------------------------------------------------------------------


class OutboxSink:
    """Notifications written to a maildir, for the MSSanté client to send."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(str(path), create=True)  # creates tmp/new/cur when absent

    def send(self, message: Message) -> None:
        self.box.add(message.as_bytes())


class SmtpSink:
    def __init__(self, host: str, port: int = 587, user: str = "", password: str = "", starttls: bool = True) -> None:
        self.host, self.port, self.user, self.password, self.starttls = host, port, user, password, starttls

    def send(self, message: Message) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def poll_once(source, sink, *, hospital: Hospital, senders: set[str] | None = None,
              from_address: str = "") -> list[MessageResult]:
    results = []
    for key, raw in source.messages():
        try:
            result = process(raw, key, hospital=hospital, senders=senders, from_address=from_address)
        except Exception:  # one bad message must not stop the service
            log.exception("MSSanté: message %s", key)
            result = MessageResult(key, "", "", error="erreur interne")
        if result.notification is not None and result.notification["To"]:
            try:
                sink.send(result.notification)
            except (OSError, smtplib.SMTPException):
                log.exception("MSSanté: accusé de réception du message %s non envoyé", key)
        source.done(key, result.ok)
        results.append(result)
    return results
