"""Writing one parsed document into the records: "the EHR owns what it sends".

Called inside the document's transaction, after the document lock. Successive documents of
one record share a setId: the record is found by (hospital, setId), or adopted through its IPP
the first time; an older or equal version is ignored. Rows the EHR sent before (source=dpi)
are matched by their CDA id and updated in place, created, or deleted when the new version
no longer has them; rows and fields typed on the web are kept (see provenance.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from bamara.organisations.models import Hospital, Site
from bamara.records import inserts
from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.models import (
    Activity,
    ActivityObjective,
    ActivityProfession,
    CaptureMode,
    CareEpisode,
    ClinicalSign,
    Diagnosis,
    FirstCaseDisease,
    Foetus,
    FunctionalScore,
    Gene,
    GeneticTechnique,
    Investigation,
    Patient,
    PatientName,
    Pregnancy,
    Referral,
    RegistryConsent,
    Source,
    Treatment,
)
from bamara.records.search import name_rows

from . import mapping, provenance
from .ack import AckMessage, Rejected
from .parser import ParsedDocument, Row, stored_uuid

LIST_MODELS: dict[str, tuple[type[models.Model], str, str]] = {
    # list name -> (model, foreign key to the parent, value attribute)
    "referrals": (Referral, "episode", "referred_by"),
    "objectives": (ActivityObjective, "activity", "objective"),
    "professions": (ActivityProfession, "activity", "profession"),
    "signs": (ClinicalSign, "diagnosis", "sign"),
    "investigations": (Investigation, "diagnosis", "investigation"),
    "techniques": (GeneticTechnique, "diagnosis", "technique"),
    "genes": (Gene, "diagnosis", "gene"),
}
NAME_FIELDS = ("birth_name", "used_name", "first_birth_given_name", "used_given_name")  # records.search.name_rows
SIGN_ITEMS = {"description": "description_clinique", "complementaire": "signes_complementaires",
              "inhabituel": "signes_inhabituels"}


@dataclass
class Outcome:
    patient: Patient | None
    ignored: bool = False
    messages: list[AckMessage] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)


def lock_key(hospital: Hospital, set_id: str) -> str:
    return f"intake|{hospital.pk}|{set_id}"


def lock(hospital: Hospital, set_id: str) -> None:
    """Serialise the documents of one record (SQLite already serialises writers). ``store``
    takes this lock itself (with its first query)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock_key(hospital, set_id)])


def store(parsed: ParsedDocument, hospital: Hospital, *, optimistic: bool = False,
          batch: inserts.Batch | None = None) -> Outcome:
    """Write the document, in the caller's transaction, after taking the document lock;
    ``optimistic`` skips the look-up of UUIDs already taken (the caller retries without it on
    IntegrityError). With ``batch``, the rows nothing reads back are left in it for the caller
    to flush (with its own rows: one round trip), else they are written before returning."""
    return _Writer(parsed, hospital, optimistic=optimistic, batch=batch).run()


# -- values --------------------------------------------------------------------------------


# Merges still in force of this hospital for this setId or IPP (identity_merge is indexed on both).
_MERGED_SQL = ("SELECT merged_cda_set_id FROM identity_merge WHERE hospital_id = %s AND unmerged_at IS NULL "
               "AND (merged_cda_set_id = %s OR merged_ipp = %s) LIMIT 10")


class _Superseded(Exception):
    def __init__(self, patient: Patient) -> None:
        self.patient = patient


def _same_person(existing: Patient, parsed: dict[str, Any]) -> bool:
    """Birth name, birth date and sex agree wherever both records have them."""
    from bamara.identity.normalise import name_key

    pairs = [
        (name_key(existing.birth_name), name_key(parsed.get("birth_name") or "")),
        (existing.birth_date_partial, parsed.get("birth_date")),
        (existing.sex_code, parsed["sex"].code if parsed.get("sex") else None),
    ]
    return all(a == b for a, b in pairs if a and b)


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _fields(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


_FIELD_CACHE: dict[type, dict[str, models.Field]] = {}


_LIMITS: dict[type, list[tuple[str, models.Field, str]]] = {}


def _limits(model: type[models.Model]) -> list[tuple[str, models.Field, str]]:
    """(attribute, field, kind) of the fields whose values the database could refuse."""
    if model not in _LIMITS:
        limits = []
        for name, model_field in _fields(model).items():
            if isinstance(model_field, models.CharField) and model_field.max_length:
                limits.append((name, model_field, "char"))
            elif isinstance(model_field, models.DecimalField):
                limits.append((name, model_field, "decimal"))
            elif isinstance(model_field, models.PositiveSmallIntegerField):
                limits.append((name, model_field, "small"))
            elif isinstance(model_field, models.PositiveIntegerField):
                limits.append((name, model_field, "int"))
        _LIMITS[model] = limits
    return _LIMITS[model]


def _check_fits(obj: models.Model) -> None:
    """Refuse what the database would truncate, round or reject, before it does."""
    for name, model_field, kind in _limits(type(obj)):
        value = getattr(obj, name)
        if value is None:
            continue
        problem = ""
        if kind == "char":
            if len(str(value)) > model_field.max_length:
                raise Rejected("too_long", f"{_where(obj, model_field)} : {len(str(value))} caractères pour "
                               f"{model_field.max_length} permis.")
        elif kind == "decimal":
            try:
                rounded = Decimal(value).quantize(Decimal(1).scaleb(-model_field.decimal_places), ROUND_HALF_EVEN)
                if len(rounded.as_tuple().digits) > model_field.max_digits:
                    problem = f"nombre {value} trop grand"
                else:
                    setattr(obj, name, rounded)
            except InvalidOperation:
                problem = f"nombre {value} illisible"
        elif not 0 <= value <= (32767 if kind == "small" else 2147483647):
            problem = f"{value} hors des limites"
        if problem:
            raise Rejected("invalid_value", f"{_where(obj, model_field)} : {problem}.")


def _where(obj: models.Model, model_field: models.Field) -> str:
    return f"{obj._meta.verbose_name} : {model_field.verbose_name}"


def _assign(obj: models.Model, attribute: str, value: Any) -> None:
    """Set a model attribute from a parsed value (composites through their descriptor)."""
    if hasattr(type(obj), f"{attribute}_partial"):
        setattr(obj, f"{attribute}_partial", value if isinstance(value, PartialDate | dt.date) else None)
    elif isinstance(getattr(type(obj), attribute, None), property):
        setattr(obj, attribute, value or None)
    else:
        model_field = _FIELD_CACHE.get(type(obj)) or _FIELD_CACHE.setdefault(type(obj), _fields(type(obj)))
        column = model_field.get(attribute)
        if value is None and column is not None and not column.null:
            value = column.get_default()
        setattr(obj, attribute, value)


def _read(obj: models.Model, attribute: str) -> Any:
    if hasattr(type(obj), f"{attribute}_partial"):
        return getattr(obj, f"{attribute}_partial")
    return getattr(obj, attribute)


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, PartialDate) and isinstance(old, PartialDate):
        return old == new
    if isinstance(old, AgeAt) and isinstance(new, AgeAt):
        return (old.code, old.system, old.unit or None) == (new.code, new.system, new.unit or None) and (
            old.value == new.value or (old.value is not None and new.value is not None and Decimal(old.value) == Decimal(new.value)))
    empty = (None, "")
    if old in empty and new in empty:
        return True
    return old == new


_LIST_COLUMNS: dict[type, list[str]] = {}
_ROW_SKIP = frozenset({"id", "created_at", "updated_at", "source_ref"})


def _row_key(obj: models.Model) -> tuple[Any, ...]:
    """The stored content of a row, without its id, timestamps and writer."""
    return tuple(_hashable(getattr(obj, f.attname)) for f in obj._meta.concrete_fields if f.attname not in _ROW_SKIP)


def _snapshot(obj: models.Model) -> dict[str, Any]:
    """Column values of a row, copied (field_sources is changed in place)."""
    return {name: dict(value) if isinstance(value, dict) else value
            for name, value in ((f.attname, getattr(obj, f.attname)) for f in obj._meta.concrete_fields)}


def _save_changes(obj: models.Model, stored: dict[str, Any] | None) -> None:
    """Insert a new row, or update the columns that differ from ``stored`` (nothing if none)."""
    if stored is None:
        obj.save()
        return
    changed = {name: value for name, value in _snapshot(obj).items()
               if name not in ("id", "updated_at") and value != stored.get(name)}
    if changed:
        obj.updated_at = timezone.now()
        type(obj).objects.filter(pk=obj.pk).update(**changed, updated_at=obj.updated_at)


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value


def _list_columns(model: type[models.Model]) -> list[str]:
    """The value columns of a child code-list table (all but its id and parent)."""
    if model not in _LIST_COLUMNS:
        _LIST_COLUMNS[model] = [f.column for f in model._meta.concrete_fields
                                if not f.primary_key and not f.is_relation]
    return _LIST_COLUMNS[model]


def _list_key(child: models.Model) -> tuple[Any, ...]:
    return tuple(getattr(child, f.attname) for f in child._meta.concrete_fields if not f.primary_key and not f.is_relation)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Code):
        return f"{value.code}|{value.system}"
    if isinstance(value, PartialDate):
        return value.isoformat()
    if isinstance(value, AgeAt):
        return f"{value.code}|{value.value or ''}{value.unit or ''}"
    return str(value)


class _Writer:
    def __init__(self, parsed: ParsedDocument, hospital: Hospital, *, optimistic: bool = False,
                 batch: inserts.Batch | None = None) -> None:
        self.parsed = parsed
        self.hospital = hospital
        self.optimistic = optimistic
        self.same_ipp: Patient | None = None
        self.version = parsed.sdm_version
        self.ref = provenance.ref(parsed.document_id, parsed.version_number)
        self.messages: list[AckMessage] = []
        self.changes: dict[str, Any] = {}
        self.sites: dict[str, tuple[int, int]] = {}  # code -> (pk, hospital pk)
        self.foetuses: dict[str, Foetus] = {}
        self.taken: dict[str, set[uuid.UUID]] = {}
        self._candidates: dict[tuple[str, str], list[uuid.UUID]] = {}
        self.loaded: dict[int, dict[str, Any]] = {}  # stored column values of the records looked up
        self.names_changed = False
        self.patient_pk: int | None = None
        self._stored_lists: dict[str, dict[int, list[tuple[Any, ...]]]] | None = None
        self.episode_sites: tuple[set[int], set[int]] = (set(), set())  # before, after
        self.synced: dict[str, tuple[dict[int, Any], list[int]]] = {}  # scope -> ({pk: stored site}, deleted pks)
        # Rows nothing reads back during the document (code lists, name keys, rows without CDA
        # id): inserted together at the end, in one round trip on PostgreSQL.
        self.own_batch = batch is None
        self.batch = inserts.Batch() if batch is None else batch

    def note(self, level: str, code: str, text: str, item: str = "*", path: str = "") -> None:
        self.messages.append(AckMessage(level, code, text, item, path))  # type: ignore[arg-type]

    def count(self, kind: str, what: str, n: int = 1) -> None:
        if n:
            rows = self.changes.setdefault("rows", {}).setdefault(kind, {})
            rows[what] = rows.get(what, 0) + n

    # -- the record ------------------------------------------------------------------------
    def run(self) -> Outcome:
        parsed, hospital = self.parsed, self.hospital
        self.load_sites()
        if parsed.custodian_finess and parsed.custodian_finess not in (hospital.finess_et, hospital.finess_ej):
            self.note("warning", "custodian", f"Établissement dépositaire (FINESS {parsed.custodian_finess}) différent de "
                      f"l'établissement de l'accès ({hospital.finess_et}) : document accepté au nom de ce dernier.", "etablissement")
        # One query for the record of this setId and the record of this IPP. By setId alone
        # (hospital checked here): with (hospital, setId) SQLite prefers the hospital index;
        # ipp <> '' lets the partial unique index (hospital, ipp) serve.
        ipp = parsed.patient.get("ipp") or ""
        wanted = Q(cda_set_id=parsed.set_id)
        if ipp:
            wanted |= Q(hospital=hospital, ipp=ipp) & ~Q(ipp="")
        candidates = list(Patient.objects.select_for_update().filter(wanted).order_by())
        self.loaded = {p.pk: _snapshot(p) for p in candidates}
        patient = next((p for p in candidates if p.hospital_id == hospital.pk and p.cda_set_id == parsed.set_id), None)
        self.same_ipp = next((p for p in candidates if ipp and p.hospital_id == hospital.pk and p.ipp == ipp), None)
        if patient is not None and patient.cda_version is not None and parsed.version_number is not None \
                and parsed.version_number <= patient.cda_version:
            same = parsed.version_number == patient.cda_version
            self.note("info", "duplicate" if same else "older_version",
                      f"Version {parsed.version_number} {'déjà reçue' if same else 'antérieure à la version enregistrée'} "
                      f"(version enregistrée : {patient.cda_version}) : document ignoré, dossier inchangé.")
            return Outcome(patient, ignored=True, messages=self.messages)
        if patient is None:
            try:
                patient = self.adopt_by_ipp()
            except _Superseded as superseded:
                self.note("info", "superseded_series", "Document d'une série setId que ce dossier a quittée pour une plus "
                          "récente : ignoré, dossier inchangé.")
                return Outcome(superseded.patient, ignored=True, messages=self.messages)
        if patient is None and self.same_ipp is None:
            try:
                patient = self.merged_into(ipp)
            except _Superseded as superseded:
                return Outcome(superseded.patient, ignored=True, messages=self.messages)
        created = patient is None
        # Optimistic: the ids of a document are its own UUIDs, nearly always free; a clash
        # raises IntegrityError and the document is stored again with the careful look-up.
        self.taken = {scope: set() for scope in ("dossier", "care_episode", "activity", "diagnosis")} \
            if self.optimistic else self.uuids_in_use()
        if patient is None:
            patient = Patient(hospital=hospital, source=Source.EHR, source_ref=self.ref)
            patient.uuid = self.pick_uuid(parsed.record_id or parsed.set_id, "dossier", self.taken["dossier"])
        elif parsed.record_id and patient.source == Source.EHR:
            wanted = stored_uuid(parsed.record_id, "dossier")
            if wanted != patient.uuid and not Patient.objects.filter(uuid=wanted).exists():
                patient.uuid = wanted
        self.write_patient(patient, created)
        self.patient_pk = patient.pk
        self.link_relatives(patient)
        self.write_care_episodes(patient, created)
        self.write_name_keys(patient, created)
        self.write_pregnancies(patient, created)
        self.write_activities(patient, created)
        self.write_diagnoses(patient, created)
        self.write_simple_rows(patient, created)
        self.write_first_case(patient, created)
        if self.own_batch:
            self.batch.flush()
        self.changes["created"] = created
        return Outcome(patient, messages=self.messages, changes=self.changes)

    def load_sites(self) -> None:
        """The document's sites; on PostgreSQL in the same round trip as the document lock
        (the lock is taken before the record look-up, which runs as a later statement and
        therefore sees what a concurrent document of the series committed)."""
        codes = self.parsed.site_codes()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT s.code, s.id, s.hospital_id FROM (SELECT pg_advisory_xact_lock(hashtext(%s))) AS l "
                    f"LEFT JOIN {Site._meta.db_table} s ON s.code = ANY(%s)",
                    [lock_key(self.hospital, self.parsed.set_id), sorted(codes)])
                rows = [row for row in cursor.fetchall() if row[0] is not None]
        else:
            rows = Site.objects.filter(code__in=codes).values_list("code", "pk", "hospital_id") if codes else []
        self.sites = {code: (pk, hospital_id) for code, pk, hospital_id in rows}
        for code in sorted(codes):
            site = self.sites.get(code)
            if site is None:
                raise Rejected("unknown_site", f"Site maladies rares « {code} » inconnu de l'annuaire.", item_id="site_mr")
            if site[1] != self.hospital.pk:
                raise Rejected("site_not_owned", f"Le site « {code} » n'appartient pas à l'établissement émetteur "
                               f"({self.hospital.finess_et}) : document refusé.", item_id="site_mr")

    def adopt_by_ipp(self) -> Patient | None:
        """The record of the same IPP when it is the same person: a record created on the web
        (or by an import) gets its EHR series; a record of another series changes series when
        the EHR restarted its setId. An IPP carried by another person is a conflict."""
        ipp = self.parsed.patient.get("ipp")
        existing = self.same_ipp
        if not ipp or existing is None:
            return None
        if not _same_person(existing, self.parsed.patient):
            raise Rejected("ipp_conflict", f"L'IPP {ipp} est celui d'un autre patient (traits d'identité différents) : "
                           "document refusé, à vérifier dans le DPI.", item_id="ipp")
        if existing.cda_set_id and existing.cda_set_id != self.parsed.set_id:
            from .models import ReceivedDocument, Status

            seen = ReceivedDocument.objects.filter(hospital=self.hospital, set_id=self.parsed.set_id,
                                                   status__in=(Status.ACCEPTED, Status.WARNINGS)).exists()
            if seen:  # a series this record already left: late documents of it change nothing
                raise _Superseded(existing)
            self.note("warning", "new_series", f"Le dossier de l'IPP {ipp} suivait la série setId {existing.cda_set_id} : "
                      "il suit désormais ce document (nouvelle série).", "ipp")
            existing.cda_version = None
            return existing
        self.note("info", "adopted", "Dossier existant rattaché au document par l'IPP : les données saisies sur le web "
                  "que le document ne porte pas sont conservées.", "ipp")
        return existing

    def merged_into(self, ipp: str) -> Patient | None:
        """A series (or IPP) whose record was merged into another goes to the kept record, not
        to a new one (the duplicate would come back). The kept record takes the series when it
        has none; when it follows another series, the document is ignored and the EHR told so:
        applying it would replace that series' data, and the two series would then take turns."""
        with connection.cursor() as cursor:  # for every new record: SQL text built once, not by the ORM
            cursor.execute(_MERGED_SQL, [self.hospital.pk, self.parsed.set_id, ipp or None])
            found = {set_id for (set_id,) in cursor.fetchall()}
        if not found:  # nearly always
            return None
        from bamara.identity.merge import kept_record

        if self.parsed.set_id in found:
            pk = kept_record(self.hospital.pk, cda_set_id=self.parsed.set_id)
        else:
            pk = kept_record(self.hospital.pk, ipp=ipp)
        kept = Patient.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
        if kept is None:
            return None
        self.loaded[kept.pk] = _snapshot(kept)
        if kept.cda_set_id and kept.cda_set_id != self.parsed.set_id:
            self.note("warning", "merged_series", f"Le dossier de cette série setId a été fusionné dans le dossier "
                      f"{kept.uuid}, qui suit la série {kept.cda_set_id} : document conservé mais non appliqué. "
                      "Fusionner aussi les deux dossiers dans le DPI.", "ipp")
            raise _Superseded(kept)
        self.note("warning", "merged_series_adopted", f"Le dossier de cette série setId a été fusionné dans le dossier "
                  f"{kept.uuid} : ce dossier suit désormais la série du document.", "ipp")
        kept.cda_version = None
        return kept

    def uuids_in_use(self) -> dict[str, set[uuid.UUID]]:
        """Which of the UUIDs the document's rows could get are already stored: one query
        for the four tables (the official examples reuse their ids across patients)."""
        from django.db.models import CharField, Value

        parsed = self.parsed
        wanted = {
            "dossier": (Patient, self.candidates(parsed.record_id or parsed.set_id, "dossier")),
            "care_episode": (CareEpisode, {c for r in parsed.care_episodes for c in self.candidates(r.cda_id, "care_episode")}),
            "activity": (Activity, {c for r in parsed.activities for c in self.candidates(r.cda_id, "activity")}),
            "diagnosis": (Diagnosis, {c for r in parsed.diagnoses for c in self.candidates(r.cda_id, "diagnosis")}),
        }
        taken: dict[str, set[uuid.UUID]] = {scope: set() for scope in wanted}
        queries = [model.objects.filter(uuid__in=values).order_by().annotate(scope=Value(scope, output_field=CharField()))
                   .values_list("uuid", "scope") for scope, (model, values) in wanted.items() if values]
        if queries:
            union = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
            for value, scope in union:
                taken[scope].add(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        return taken

    def pick_uuid(self, raw: str, scope: str, taken: set[uuid.UUID]) -> uuid.UUID:
        """The row's CDA id as UUID when free, else one derived from the record's setId (the
        official examples reuse ids across patients), else a random one."""
        for candidate in self.ordered_candidates(raw, scope):
            if candidate not in taken:
                return candidate
        return uuid.uuid4()

    def ordered_candidates(self, raw: str, scope: str) -> list[uuid.UUID]:
        if not raw:
            return []
        key = (raw, scope)
        if key not in self._candidates:
            self._candidates[key] = [stored_uuid(raw, scope),
                                     uuid.uuid5(uuid.NAMESPACE_OID, f"{self.parsed.set_id}|{scope}|{raw}")]
        return self._candidates[key]

    def candidates(self, raw: str, scope: str) -> set[uuid.UUID]:
        return set(self.ordered_candidates(raw, scope))

    # -- fields ----------------------------------------------------------------------------
    def apply(self, obj: models.Model, values: dict[str, Any], owned: frozenset[str], *, new: bool,
              kind: str) -> dict[str, list[Any]]:
        """Write the values of a row: sent values overwrite (except web overrides), EHR-owned
        values no longer sent are cleared, web values never sent stay."""
        diff: dict[str, list[Any]] = {}
        for attribute in sorted(set(values) | owned):
            if attribute in ("site", "foetus", "uuid"):
                continue
            if not hasattr(obj, attribute) and not hasattr(type(obj), f"{attribute}_partial"):
                continue
            value = values.get(attribute)
            sent = attribute in values and _present(value)
            if not sent and (new or not provenance.is_ehr(obj, attribute)):
                continue  # never sent by the EHR: whatever is there stays
            if not new and provenance.is_web_override(obj, attribute):
                if sent and not _same(_read(obj, attribute), value):
                    self.note("info", "web_kept", f"{obj._meta.verbose_name} : « {attribute} » saisi sur le web après le "
                              "DPI est conservé (valeur du document non appliquée).")
                continue
            old = _read(obj, attribute)
            if not _same(old, value if sent else None):
                _assign(obj, attribute, value if sent else None)
                diff[attribute] = [_jsonable(old), _jsonable(value if sent else None)]
            if sent:
                provenance.mark_ehr(obj, attribute, self.ref)
            elif isinstance(obj.field_sources, dict):
                obj.field_sources.pop(attribute, None)
        return diff

    def write_patient(self, patient: Patient, created: bool) -> None:
        parsed = self.parsed
        owned = mapping.active_attributes("records.Patient", self.version)
        values = dict(parsed.patient)
        if not created and patient.opposition and not provenance.is_ehr(patient, "opposition") \
                and not values.get("opposition"):
            # An objection recorded outside the EHR is never lifted by a document.
            values.pop("opposition", None)
            owned = owned - {"opposition"}
            self.note("warning", "opposition_kept", "Le patient s'est opposé à la réutilisation de ses données (saisie "
                      "hors DPI) : l'opposition est maintenue malgré le document.", "opposition_bndmr")
        before_identity = {name: _read(patient, name) for name in provenance.IDENTITY_FIELDS}
        diff = self.apply(patient, values, owned, new=created, kind="patient")
        # A new record: the look-up in run() already found no record of this IPP.
        if patient.ipp and "ipp" in diff and not created and Patient.objects.filter(hospital=self.hospital, ipp=patient.ipp) \
                .exclude(ipp="").exclude(pk=patient.pk).exists():
            raise Rejected("ipp_conflict", f"L'IPP {patient.ipp} est déjà celui d'un autre dossier de l'établissement.",
                           item_id="ipp")
        patient.cda_set_id, patient.cda_version = parsed.set_id, parsed.version_number
        patient.sdm_version = parsed.sdm_version
        patient.capture_mode = CaptureMode.CONNECTED
        if patient.source == Source.EHR:
            patient.source_ref = self.ref
        _check_fits(patient)
        # Saved without Patient.save(): its post_save signal rebuilds the name keys from the
        # care episodes, which are written after the record; write_name_keys() does it once
        # they are, and the national identifier is kept in step here.
        if created:  # computed before the insert: one query less per new record
            from bamara.identity.idmr import for_patient

            patient.national_id = for_patient(patient) or ""
            inserts.insert(Patient, [patient], returning=True)
        else:
            loaded = self.loaded.get(patient.pk, {})
            changed = {name: getattr(patient, name) for name in _fields(Patient)
                       if name not in ("id", "updated_at") and (name not in loaded or getattr(patient, name) != loaded[name])}
            patient.updated_at = timezone.now()
            Patient.objects.filter(pk=patient.pk).update(**changed, updated_at=patient.updated_at)
            self.names_changed = any(name in changed for name in NAME_FIELDS)
        self.changes["patient"] = diff
        identity_changed = any(not _same(before_identity[n], _read(patient, n)) for n in provenance.IDENTITY_FIELDS)
        if identity_changed and not created:
            from bamara.identity.services import refresh_national_id

            refresh_national_id(patient, reason=f"document CDA {self.ref}")

    def write_name_keys(self, patient: Patient, created: bool) -> None:
        """The name search keys of the record at each site of its care episodes, rebuilt when
        the names or the sites changed (what the post_save signals of records do)."""
        before, after = self.episode_sites
        if created:
            self.batch.add(PatientName, name_rows(patient, sorted(after)))
        elif self.names_changed or before != after:
            PatientName.objects.filter(patient=patient).delete()
            self.batch.add(PatientName, name_rows(patient, sorted(after)))

    # -- rows with a CDA id ----------------------------------------------------------------
    def sync(self, patient: Patient, model: type[models.Model], rows: list[Row], scope: str, *,
             created: bool, prepare, match_extra=None) -> list[tuple[Row, models.Model]]:
        """Match the document's rows to the stored ones (by CDA id, then ``match_extra``),
        write them, delete the EHR rows the document no longer has. ``prepare(row, obj)``
        sets what is not a plain value (site, foetus)."""
        owned = mapping.active_attributes(model._meta.label, self.version)
        existing = [] if created else list(model.objects.filter(patient=patient))
        stored_sites = {obj.pk: getattr(obj, "site_id", None) for obj in existing}
        by_uuid = {obj.uuid: obj for obj in existing}
        taken = self.taken[scope]
        used: set[int] = set()
        new_pairs, updated, result = [], [], []
        columns = _fields(model)
        for row in rows:
            obj = next((by_uuid[c] for c in self.ordered_candidates(row.cda_id, scope)
                        if c in by_uuid and by_uuid[c].pk not in used), None)
            if obj is None and match_extra is not None:
                obj = match_extra(row, [o for o in existing if o.pk not in used])
            new = obj is None
            if new:
                obj = model(patient=patient, source=Source.EHR, source_ref=self.ref)
                obj.uuid = self.pick_uuid(row.cda_id, scope, taken)
                taken.add(obj.uuid)
                before = None
            else:
                used.add(obj.pk)
                before = _snapshot(obj)
            prepare(row, obj)
            diff = self.apply(obj, row.values, owned, new=new, kind=scope)
            if obj.source == Source.EHR and (new or diff):
                obj.source_ref = self.ref  # the last document that changed the row
            _check_fits(obj)
            if new:
                new_pairs.append((row, obj))
            else:
                changed = [name for name in columns if getattr(obj, name) != before[name]]  # attnames
                if changed:
                    updated.append((obj, changed))
            result.append((row, obj))
        inserts.insert(model, [obj for _, obj in new_pairs], returning=True)  # their pks: the lists' parents
        now = timezone.now()
        for obj, changed in updated:  # only the rows and columns that changed; without the
            obj.updated_at = now      # post_save signals (name keys: write_name_keys)
            model.objects.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in changed if name != "updated_at"},
                                                   updated_at=now)
        stale = [obj.pk for obj in existing if obj.pk not in used and obj.source == Source.EHR]
        if stale:
            model.objects.filter(pk__in=stale).delete()
        self.synced[scope] = (stored_sites, stale)
        self.count(scope, "created", len(new_pairs))
        self.count(scope, "updated", len(updated))
        self.count(scope, "unchanged", len(used) - len(updated))
        self.count(scope, "deleted", len(stale))
        return result

    def write_lists(self, pairs: list[tuple[Row, models.Model]], names: tuple[str, ...], created: bool) -> None:
        """Child code lists of EHR-fed rows: replaced by what the document sends."""
        for name in names:
            model, parent, attribute = LIST_MODELS[name]
            label = model._meta.label
            active = bool(mapping.active_attributes(label, self.version))
            objs = []
            replace: list[int] = []
            for row, owner in pairs:
                values = row.lists.get(name, [])
                if not values and not active:
                    continue  # not collected in this version and not sent: leave as it was
                replace.append(owner.pk)
                seen = set()
                for value in values:
                    child = model(**{parent: owner})
                    if name == "signs":
                        kind, value = value
                        child.kind = kind
                    elif name == "techniques":
                        value, detail = value
                        child.detail = (detail or "")[:255]
                    elif name == "genes":
                        value, symbol = value
                        child.symbol = symbol or ""
                    key = (getattr(child, "kind", ""), value.code if value else "", value.system if value else "",
                           getattr(child, "symbol", ""))
                    if key in seen:
                        continue
                    seen.add(key)
                    setattr(child, attribute, value)
                    _check_fits(child)
                    objs.append(child)
            if replace and not created:
                kinds: set[str] | None = None
                if name == "signs":  # signs of kinds this version no longer collects stay
                    kinds = {k for k, item in SIGN_ITEMS.items() if self._active(item)}
                    kinds |= {k for row, _ in pairs for k, _ in row.lists.get("signs", [])}
                # Diff against the stored lists: only the rows whose list changed are rewritten
                # (an EHR mostly resends what it sent).
                stored = self.stored_lists()[name]
                sent_keys: dict[int, Counter] = {pk: Counter() for pk in replace}
                for child in objs:
                    sent_keys[getattr(child, f"{parent}_id")][_list_key(child)] += 1
                changed = [pk for pk in replace if sent_keys[pk] != Counter(
                    key for key in stored.get(pk, ()) if kinds is None or key[0] in kinds)]
                if changed:
                    query = model.objects.filter(**{f"{parent}_id__in": changed})
                    if kinds is not None:
                        query = query.filter(kind__in=kinds)
                    query.delete()
                objs = [child for child in objs if getattr(child, f"{parent}_id") in changed]
            self.batch.add(model, objs)

    def stored_lists(self) -> dict[str, dict[int, list[tuple[Any, ...]]]]:
        """The stored child code lists of the record's rows, in one query for the seven
        tables: list name -> parent pk -> value tuples (as _list_key)."""
        if self._stored_lists is None:
            result: dict[str, dict[int, list[tuple[Any, ...]]]] = {name: {} for name in LIST_MODELS}
            selects = []
            quote = connection.ops.quote_name
            for name, (model, parent, _) in LIST_MODELS.items():
                parent_model = model._meta.get_field(parent).related_model
                columns = [f"c.{quote(column)}" for column in _list_columns(model)]
                columns += ["''"] * (3 - len(columns))
                parents = (f"SELECT {quote(parent_model._meta.pk.column)} FROM {quote(parent_model._meta.db_table)} "
                           f"WHERE {quote('patient_id')} = %s")
                # PostgreSQL: the parents' ids as an array computed first, so that the children
                # are read by their index whatever the statistics say. A join planned on stale
                # statistics of fast-growing tables went to sequential scans (6 ms per updated
                # document at 10,000 documents, 10 ms of planning for the seven joins).
                where = (f"c.{quote(parent + '_id')} = ANY(ARRAY({parents}))" if connection.vendor == "postgresql"
                         else f"c.{quote(parent + '_id')} IN ({parents})")
                selects.append(f"SELECT '{name}', c.{quote(parent + '_id')}, {', '.join(columns)} "
                               f"FROM {quote(model._meta.db_table)} c WHERE {where}")
            # and the diseases of the first case of the family (parent: the record)
            table = connection.ops.quote_name(FirstCaseDisease._meta.db_table)
            selects.append(f"SELECT 'first_case', patient_id, CAST(orpha_code AS VARCHAR(16)), '', '' FROM {table} "
                           "WHERE patient_id = %s")
            result["first_case"] = {}
            with connection.cursor() as cursor:
                cursor.execute(" UNION ALL ".join(selects), [self.patient_pk] * len(selects))
                for name, parent_pk, *values in cursor.fetchall():
                    width = len(_list_columns(LIST_MODELS[name][0])) if name in LIST_MODELS else 1
                    result[name].setdefault(parent_pk, []).append(tuple(values[:width]))
            self._stored_lists = result
        return self._stored_lists

    def _active(self, item_id: str) -> bool:
        from bamara.sdm import definition

        sdm = definition.get(self.version)
        return sdm.has_item(item_id) and sdm.item(item_id).active

    def site(self, row: Row, obj: models.Model) -> None:
        code = row.values.get("site")
        if not code:
            raise Rejected("missing_site", f"{obj._meta.verbose_name} sans site maladies rares.", item_id="site_mr", path=row.path)
        obj.site_id = self.sites[code][0]

    def write_care_episodes(self, patient: Patient, created: bool) -> None:
        def by_site(row: Row, candidates: list[CareEpisode]) -> CareEpisode | None:
            # One episode per (patient, site): a web episode of the same site is the same one.
            site = self.sites.get(row.values.get("site", ""))
            return next((c for c in candidates if site and c.site_id == site[0]), None)

        sites = [row.values.get("site") for row in self.parsed.care_episodes]
        duplicates = {code for code in sites if code and sites.count(code) > 1}
        if duplicates:
            raise Rejected("duplicate_episode", f"Plusieurs prises en charge pour le site {', '.join(sorted(duplicates))} : une seule par site.",
                           item_id="site_mr")
        pairs = self.sync(patient, CareEpisode, self.parsed.care_episodes, "care_episode",
                          created=created, prepare=self.site, match_extra=by_site)
        stored_sites, stale = self.synced["care_episode"]
        kept = {site for pk, site in stored_sites.items() if pk not in stale}
        self.episode_sites = (set(stored_sites.values()), kept | {episode.site_id for _, episode in pairs})
        self.write_lists(pairs, ("referrals",), created)

    def foetus(self, row: Row, obj: models.Model) -> None:
        local_id = row.values.get("foetus") or ""
        if not local_id:
            if provenance.is_ehr(obj, "foetus") or obj.pk is None:
                obj.foetus = None
            return
        foetus = self.foetuses.get(local_id)
        if foetus is None:
            self.note("warning", "foetus_not_found", f"Fœtus « {local_id} » absent de l'historique des grossesses : "
                      "non rattaché.", "activite_sujet_foetus", row.path)
        obj.foetus = foetus
        provenance.mark_ehr(obj, "foetus", self.ref)

    def write_activities(self, patient: Patient, created: bool) -> None:
        def prepare(row: Row, obj: Activity) -> None:
            self.site(row, obj)
            self.foetus(row, obj)
            if row.values.get("date") is None:
                raise Rejected("missing_date", "Activité sans date.", item_id="activite_date", path=row.path)

        pairs = self.sync(patient, Activity, self.parsed.activities, "activity", created=created, prepare=prepare)
        self.write_lists(pairs, ("objectives", "professions"), created)

    def write_diagnoses(self, patient: Patient, created: bool) -> None:
        pairs = self.sync(patient, Diagnosis, self.parsed.diagnoses, "diagnosis", created=created, prepare=self.foetus)
        self.write_lists(pairs, ("signs", "investigations", "techniques", "genes"), created)

    # -- pregnancies and foetuses (no stable CDA id: matched by foetus id, then start) ------
    def write_pregnancies(self, patient: Patient, created: bool) -> None:
        existing = [] if created else list(Pregnancy.objects.filter(patient=patient).prefetch_related("foetuses"))
        stored_foetuses = {f.local_id: f for p in existing for f in p.foetuses.all() if f.local_id}
        owned_p = mapping.active_attributes("records.Pregnancy", self.version)
        owned_f = mapping.active_attributes("records.Foetus", self.version)
        used: set[int] = set()
        for row in self.parsed.pregnancies:
            foetus_rows: list[Row] = row.lists.get("foetuses", [])
            match = None
            for foetus_row in foetus_rows:
                known = stored_foetuses.get(foetus_row.values.get("local_id") or "")
                if known is not None and known.pregnancy_id not in used:
                    match = next(p for p in existing if p.pk == known.pregnancy_id)
                    break
            if match is None:
                match = next((p for p in existing if p.pk not in used and p.source == Source.EHR
                              and p.start_partial == row.values.get("start")), None)
            new = match is None
            pregnancy = match or Pregnancy(patient=patient, source=Source.EHR, source_ref=self.ref)
            stored = None if new else _snapshot(pregnancy)
            diff = self.apply(pregnancy, row.values, owned_p, new=new, kind="pregnancy")
            if pregnancy.source == Source.EHR and (new or diff):
                pregnancy.source_ref = self.ref  # the last document that changed the row
            _check_fits(pregnancy)
            _save_changes(pregnancy, stored)
            used.add(pregnancy.pk)
            self.count("pregnancy", "created" if new else "updated")
            kept: set[int] = set()
            siblings = [] if new else list(pregnancy.foetuses.all())
            for foetus_row in foetus_rows:
                local_id = foetus_row.values.get("local_id") or ""
                foetus = next((f for f in siblings if local_id and f.local_id == local_id and f.pk not in kept), None)
                is_new = foetus is None
                if is_new:
                    foetus = Foetus(pregnancy=pregnancy, mother=patient, source=Source.EHR, source_ref=self.ref)
                stored = None if is_new else _snapshot(foetus)
                diff = self.apply(foetus, foetus_row.values, owned_f, new=is_new, kind="foetus")
                if foetus.source == Source.EHR and (is_new or diff):
                    foetus.source_ref = self.ref
                _check_fits(foetus)
                _save_changes(foetus, stored)
                kept.add(foetus.pk)
                self.count("foetus", "created" if is_new else "updated")
                if local_id:
                    if local_id in self.foetuses:
                        self.note("warning", "duplicate_foetus", f"Identifiant de fœtus « {local_id} » répété.", "ipp_foetus", foetus_row.path)
                    self.foetuses[local_id] = foetus
                newborn = foetus_row.lists.get("newborn_id")
                if newborn:
                    self.link_newborn(foetus, newborn[0])
            stale = [f for f in siblings if f.pk not in kept and f.source == Source.EHR]
            for foetus in stale:
                foetus.delete()
            self.count("foetus", "deleted", len(stale))
        stale_p = [p for p in existing if p.pk not in used and p.source == Source.EHR]
        for pregnancy in stale_p:
            pregnancy.delete()
        self.count("pregnancy", "deleted", len(stale_p))
        # web foetuses can be referred to as well
        for pregnancy in existing:
            if pregnancy.pk in used or pregnancy.source != Source.EHR:
                for foetus in pregnancy.foetuses.all():
                    self.foetuses.setdefault(foetus.local_id, foetus)

    # -- rows without CDA id: replaced as a whole ----------------------------------------
    def write_simple_rows(self, patient: Patient, created: bool) -> None:
        parsed = self.parsed
        for model, rows, name, item in (
            (RegistryConsent, parsed.registry_consents, "registry_consent", "consent_ern_registry"),
            (FunctionalScore, parsed.functional_scores, "functional_score", "score_cif"),
            (Treatment, parsed.treatments, "treatment", "traitement_mr"),
        ):
            if not rows and not self._active(item):
                continue  # not collected in this version and not sent: leave as it was
            objs = []
            for row in rows:
                obj = model(patient=patient, source=Source.EHR, source_ref=self.ref)
                for attribute, value in row.values.items():
                    _assign(obj, attribute, value)
                _check_fits(obj)
                objs.append(obj)
            if not created:
                stored = list(model.objects.filter(patient=patient, source=Source.EHR))
                # A row with a web correction is kept; the others are replaced, unless the
                # document sends exactly what is stored (then nothing is rewritten).
                replaced = [obj for obj in stored
                            if not any(str(v).startswith(provenance.WEB) for v in (obj.field_sources or {}).values())]
                if Counter(map(_row_key, replaced)) == Counter(map(_row_key, objs)):
                    self.count(name, "unchanged", len(objs))
                    continue
                if replaced:
                    model.objects.filter(pk__in=[obj.pk for obj in replaced]).delete()
                self.count(name, "deleted", len(replaced))
            self.batch.add(model, objs)
            self.count(name, "created", len(objs))

    def write_first_case(self, patient: Patient, created: bool) -> None:
        diseases = self.parsed.first_case_diseases
        owned = "family" in self.parsed.sections or provenance.is_ehr(patient, "first_case_identifier")
        if not diseases and (created or not owned):
            return
        if not created:
            stored = Counter(int(code) for code, in self.stored_lists()["first_case"].get(patient.pk, []))
            if stored == Counter(diseases):
                return
            FirstCaseDisease.objects.filter(patient=patient).delete()
        if diseases:
            self.batch.add(FirstCaseDisease, [FirstCaseDisease(patient=patient, orpha_code=code) for code in diseases])

    # -- links between records (mother and child) ----------------------------------------
    def link_newborn(self, foetus: Foetus, newborn_ipp: str) -> None:
        child = Patient.objects.filter(hospital=self.hospital, ipp=newborn_ipp).exclude(pk=foetus.mother_id).first()
        if child is None or Foetus.objects.filter(record=child).exclude(pk=foetus.pk).exists():
            return
        if foetus.record_id != child.pk:
            foetus.record = child
            foetus.save(update_fields=["record"])
        if child.mother_id is None:
            Patient.objects.filter(pk=child.pk).update(mother=foetus.mother)

    def link_relatives(self, patient: Patient) -> None:
        """A newborn's (or foetus's) own record: linked to the foetus row of its mother's
        pregnancy history (same local foetus id, and the mother's names when given)."""
        local_id = self.parsed.newborn_of
        if not local_id:
            return
        linked = Foetus.objects.filter(record=patient).first()
        if linked is not None:
            self.foetuses.setdefault(linked.local_id, linked)
            return
        query = Foetus.objects.filter(mother__hospital=self.hospital, local_id=local_id, record__isnull=True).exclude(mother=patient)
        if patient.mother_birth_name:
            query = query.filter(mother__birth_name=patient.mother_birth_name)
        if patient.mother_first_name:
            query = query.filter(mother__first_birth_given_name=patient.mother_first_name)
        foetus = query.select_related("mother").order_by("pk").first()
        if foetus is None:
            return
        self.foetuses.setdefault(foetus.local_id, foetus)
        foetus.record = patient
        foetus.save(update_fields=["record"])
        if patient.mother_id is None:
            patient.mother = foetus.mother
            patient.save(update_fields=["mother"])
        self.note("info", "linked_mother", "Nouveau-né rattaché au dossier de sa mère (identifiant local du fœtus).", "mere_identite")
