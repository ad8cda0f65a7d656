"""The history of a record's values, read back from the audit trail.

Every write of a record leaves one audit event with field-level changes (``trail.diff``):
web forms ``{column: [old, new]}`` on the changed row, CDA documents ``{"patient": {...},
"rows": {kind: {created: n, ...}}}`` on the record. This module turns them into lines
« when, who, source, field, old → new » for a section, a row or a field of the record page.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext as _

from bamara.records import sdm_forms
from bamara.records.models import Activity, CareEpisode, Patient
from bamara.records.sdm_forms import SECTIONS, Part, Section

from .models import Action, AuditEvent

WRITES = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.INTAKE, Action.IMPORT, Action.MERGE,
          Action.UNMERGE)
# "CDA 2024.01 <document id> v<n> : <status>" (bamara.intake.service)
CDA_DETAIL = re.compile(r"^CDA \S+ (?P<doc>\S+) v(?P<version>\d+)")
# Sub-objects written with the record in one event (the « avis sur dossier »).
PREFIXES = {"activite": Activity}


@dataclass
class Line:
    at: dt.datetime
    who: str
    source: str
    action: str
    section: Section | None
    row_id: str
    field: str  # part name, for the field's own history
    label: str
    old: str
    new: str


def _snake(model: type[models.Model]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def source_of(event: AuditEvent) -> str:
    if event.channel == "cda":
        match = CDA_DETAIL.match(event.detail)
        if match:
            return _("DPI — document %(doc)s, version %(version)s") % match.groupdict()
        return _("DPI")
    if event.channel == "web":
        return _("Saisie web")
    if event.channel == "import":
        return _("Import") + (f" — {event.detail}" if event.detail else "")
    return event.channel or _("Système")


def _parts(section: Section, version: str) -> list[Part]:
    return list(sdm_forms.form_class(section.key, version).parts)


def _keys(section: Section, part: Part) -> list[str]:
    """The change keys of a part: its columns on the section's row (attnames), or its name
    for a list of child rows."""
    if part.child():
        return [part.name]
    keys = []
    for reference in part.columns:
        label, _sep, name = reference.rpartition(".")
        if label == section.model._meta.label:
            keys.append(section.model._meta.get_field(name).attname)
    return keys


def _to_python(model: type[models.Model], key: str, value: Any) -> Any:
    try:
        field = next(f for f in model._meta.concrete_fields if f.attname == key)
    except StopIteration:
        return value
    if value is None:
        return None
    try:
        return field.to_python(value)
    except Exception:  # an old value the column no longer reads: shown as text
        return value


def _display(section: Section, part: Part, row: Any, values: dict[str, Any]) -> str:
    if part.child():
        codes = values.get(part.name) or []
        if not isinstance(codes, list):
            return str(codes)
        vs = getattr(part, "value_set", None)
        return " ; ".join(sdm_forms.code_label(str(c), "", vs) if vs else str(c) for c in codes) or "—"
    if all(values.get(k) in (None, "") for k in _keys(section, part)):
        return "—"
    fake = copy.copy(row)
    for key, value in values.items():
        setattr(fake, key, _to_python(section.model, key, value))
    try:
        return part.display(fake)
    except Exception:  # a value of another shape: shown raw rather than hidden
        return " ".join(str(values[k]) for k in _keys(section, part) if values.get(k) not in (None, ""))


class History:
    """Lines of history of one patient, restricted to what the reader may see."""

    def __init__(self, patient: Patient, readable_site_ids: set[int]):
        self.patient = patient
        self.site_ids = readable_site_ids
        self.version = patient.sdm_version
        self.by_model: dict[type[models.Model], list[Section]] = {}
        for section in SECTIONS:
            self.by_model.setdefault(section.model, []).append(section)

    def lines(self, section: Section | None = None, row: str = "", field: str = "") -> list[Line]:
        events = AuditEvent.objects.filter(patient_id=self.patient.pk, action__in=WRITES).order_by("-at", "-id")
        if section is not None and section.model is not Patient:
            events = events.filter(object_type__in=[section.model._meta.label, Patient._meta.label])
        if row:
            events = events.filter(object_id=row)
        out: list[Line] = []
        rows_cache: dict[tuple[str, str], Any] = {}
        for event in events.iterator(chunk_size=500):
            for model, object_id, changes in self._changed_objects(event):
                if row and (model is Patient or object_id != row):
                    continue
                out.extend(self._lines(event, model, object_id, changes, section, field, rows_cache))
        return out

    def _changed_objects(self, event: AuditEvent) -> list[tuple[type[models.Model], str, dict]]:
        changes = event.changes if isinstance(event.changes, dict) else {}
        try:
            model = apps.get_model(event.object_type) if event.object_type else Patient
        except (LookupError, ValueError):
            return []
        if "patient" in changes and isinstance(changes["patient"], dict):
            found = [(Patient, str(self.patient.pk), changes["patient"])]
            for kind, counts in (changes.get("rows") or {}).items():
                target = next((m for m in self.by_model if _snake(m) == kind), None)
                if target is not None and isinstance(counts, dict):
                    found.append((target, "", {"__rows__": counts}))
            return found
        own: dict[str, Any] = {}
        sub: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            prefix, dot, rest = key.partition(".")
            if dot and prefix in PREFIXES:
                sub.setdefault(prefix, {})[rest] = value
            else:
                own[key] = value
        found = [(model, event.object_id, own)]
        found += [(PREFIXES[p], "", values) for p, values in sub.items()]
        return found

    def _row(self, model: type[models.Model], object_id: str, cache: dict) -> Any:
        key = (model._meta.label, object_id)
        if key not in cache:
            obj = model.objects.filter(pk=object_id).first() if object_id.isdigit() else None
            cache[key] = obj
        return cache[key]

    def _lines(self, event: AuditEvent, model: type[models.Model], object_id: str, changes: dict,
               only: Section | None, field: str, cache: dict) -> list[Line]:
        sections = [s for s in self.by_model.get(model, []) if only is None or s is only]
        if not sections:
            return []
        who = event.user_email or source_of(event)
        action = event.get_action_display()
        if "__rows__" in changes:
            if field:
                return []
            words = {"created": _("créée(s)"), "updated": _("modifiée(s)"), "deleted": _("supprimée(s)")}
            counts = ", ".join(f"{n} {words.get(what, what)}" for what, n in changes["__rows__"].items()
                               if what != "unchanged")
            return [Line(event.at, who, source_of(event), action, sections[0], "", "",
                         _("lignes du document"), "", counts)] if counts else []
        row = self._row(model, object_id, cache) if model is not Patient else self.patient
        if model in (Activity, CareEpisode):
            site_id = getattr(row, "site_id", None) if row is not None else None
            if site_id is None:
                site_id = (changes.get("site_id") or [None, None])[0] or (changes.get("site_id") or [None, None])[1]
            if site_id not in self.site_ids:
                return []  # a row of a site the reader does not see (the wall between sites)
        base = row if row is not None else model()
        lines = []
        for section in sections:
            for part in _parts(section, self.version):
                if field and part.name != field:
                    continue
                keys = [k for k in _keys(section, part) if isinstance(changes.get(k), list | tuple)
                        and len(changes[k]) == 2]
                if not keys:
                    continue
                old = {k: changes[k][0] for k in keys}
                new = {k: changes[k][1] for k in keys}
                old_text, new_text = _display(section, part, base, old), _display(section, part, base, new)
                if old_text == new_text == "—":
                    continue
                lines.append(Line(event.at, who, source_of(event), action, section,
                                  object_id if model is not Patient else "", part.name,
                                  part.label(False), old_text, new_text))
        return lines
