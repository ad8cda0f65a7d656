"""Who wrote each stored value: the rules shared by the intake and the web application.

Rows inherit ``Tracked``: ``source`` (web | dpi | import | demo) and ``source_ref`` say who
created the row (for EHR rows, ``<document id>#v<version>`` of the last document that wrote
it); ``field_sources`` records, per field, a writer that differs from the row's:

- ``"dpi:<document id>#v<n>"``: the field was written by an EHR document (on a row created on
  the web, by an import or by the demo generator);
- ``"web"`` (or ``"web:<anything>"``): the field was typed on the web **after** the EHR wrote
  it; later documents leave it alone.

The EHR owns what it sends: a newer document overwrites the fields it sends, except those
typed on the web since, and clears the EHR-owned fields it no longer sends. Fields typed on
the web that the EHR never sent are never touched. Identity fields fed by the EHR are read-only
on the web (``ehr_identity(patient)`` lists them with their source, for the form).
"""

from __future__ import annotations

from typing import Any

from bamara.records.models import Source

EHR_PREFIX = "dpi:"
WEB = "web"

# Identity traits and identifiers: read-only on the web once an EHR document has sent them.
IDENTITY_FIELDS = (
    "ins", "ins_oid", "ins_status", "ipp", "ipp_oid", "birth_name", "birth_given_names",
    "first_birth_given_name", "used_name", "used_given_name", "sex", "birth_date",
    "birth_commune", "birth_country", "multiple_birth", "multiple_birth_rank", "deceased",
    "death_date", "foetus_local_id",
)


def ref(document_id: str, version: int | None) -> str:
    return f"{document_id}#v{version or 1}"[:255]


def owner(row: Any, field: str) -> str:
    """The source of a field: "dpi:<ref>", "web", "import:<ref>", "demo"..."""
    explicit = (row.field_sources or {}).get(field)
    if explicit:
        return explicit
    return f"{row.source}:{row.source_ref}" if row.source_ref else str(row.source)


def is_ehr(row: Any, field: str) -> bool:
    source = owner(row, field)
    # An EHR row without a document reference (bare "dpi") is the EHR's too.
    return source.startswith(EHR_PREFIX) or source == Source.EHR


def is_web_override(row: Any, field: str) -> bool:
    """Typed on the web after the EHR wrote it: later documents must not overwrite it."""
    return (row.field_sources or {}).get(field, "").startswith(WEB)


def mark_ehr(row: Any, field: str, reference: str) -> None:
    sources = row.field_sources if isinstance(row.field_sources, dict) else {}
    if row.source == Source.EHR:
        sources.pop(field, None)  # the row's own source_ref says it
    else:
        sources[field] = EHR_PREFIX + reference
    row.field_sources = sources


def record_web_edit(row: Any, fields: list[str] | tuple[str, ...], detail: str = "") -> None:
    """To call from web forms before saving: the fields the user changed. Only a change of an
    EHR-owned value is recorded (a field typed on the web that the EHR never sent needs no
    mark: the EHR only writes what it sends)."""
    sources = dict(row.field_sources or {})
    for field in fields:
        if is_ehr(row, field):
            sources[field] = f"{WEB}:{detail}" if detail else WEB
    row.field_sources = sources


def ehr_identity(patient: Any) -> dict[str, str]:
    """Identity fields of a patient fed by an EHR document, with the document reference: the
    web form shows them read-only with their source."""
    return {
        field: owner(patient, field).removeprefix(EHR_PREFIX)
        for field in IDENTITY_FIELDS
        if is_ehr(patient, field) and not is_web_override(patient, field)
    }
