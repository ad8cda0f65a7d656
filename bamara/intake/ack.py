"""Acknowledgements: what the sender is told about each document, item by item.

The same object becomes the JSON answer of the endpoint, the line printed by `ingest_cda`, the
text of the MSSanté disposition notification, and ReceivedDocument.acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .models import Status

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class AckMessage:
    level: Level
    code: str  # stable, for programs (e.g. "unknown_code", or a validation rule id)
    text: str  # French, for people
    item_id: str = "*"  # SDM-MR item (sdm_items), "*" for the document as a whole
    path: str = ""  # where in the document (an XPath-like location)

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "item_id": self.item_id, "path": self.path,
                "code": self.code, "text": self.text}


class Rejected(Exception):
    """The document is refused as a whole; nothing it carries is stored."""

    def __init__(self, code: str, text: str, *, item_id: str = "*", path: str = "",
                 messages: list[AckMessage] | None = None) -> None:
        super().__init__(text)
        self.messages = [*(messages or []), AckMessage("error", code, text, item_id, path)]


@dataclass
class Acknowledgement:
    status: Status
    messages: list[AckMessage] = field(default_factory=list)
    document_id: str = ""
    set_id: str = ""
    version: int | None = None
    sdm_version: str = ""
    filename: str = ""
    patient: str = ""  # the record's identifier (uuid), when stored
    received_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.WARNINGS, Status.IGNORED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "document_id": self.document_id,
            "set_id": self.set_id,
            "version": self.version,
            "sdm_version": self.sdm_version,
            "filename": self.filename,
            "patient": self.patient,
            "received_id": self.received_id,
            "messages": [message.as_dict() for message in self.messages],
        }

    def counts(self) -> dict[str, int]:
        return {level: sum(m.level == level for m in self.messages) for level in ("error", "warning", "info")}

    def summary_fr(self) -> str:
        label = {
            Status.ACCEPTED: "accepté",
            Status.WARNINGS: "accepté avec avertissements",
            Status.REJECTED: "rejeté",
            Status.IGNORED: "ignoré (déjà reçu ou version antérieure)",
        }[self.status]
        what = self.document_id or self.filename or "document"
        version = f" version {self.version}" if self.version is not None else ""
        return f"{what}{version} : {label}"


def status_for(messages: list[AckMessage]) -> Status:
    if any(m.level == "error" and m.code in REJECTING for m in messages):
        return Status.REJECTED
    return Status.WARNINGS if any(m.level in ("error", "warning") for m in messages) else Status.ACCEPTED


# Validation rules that make a record unstorable or unusable: the document is rejected. The
# other validation errors (a code outside its value set, an implausible value...) are the
# EHR's data as it stands: stored, and reported so that the sender corrects them.
REJECTING = frozenset({
    "invalid_date", "invalid_number", "invalid_boolean", "invalid_code", "invalid_text",
    "invalid_structure", "required", "unknown_sdm_version", "check_failed",
})
