"""Downloads of a filtered patient list: the full SDM-MR, one sheet per repeating group, plus a
variables sheet, as XLSX or as a ZIP of CSV files. Streamed in constant memory.

The columns come from the SDM-MR definition (``storage:`` bindings of the active items of the
current version): a new stored item appears here without touching this module. Each model a
binding points to becomes a sheet; coded values give their code, code system and French label.

    sheets = build_sheets(pseudonymised=False)
    write_xlsx(path, sheets, patients, site_ids)            # -> {sheet name: row count}
    for chunk in csv_zip_chunks(sheets, patients, site_ids): ...

The pseudonymised variant drops direct identifiers (names, IPP, INS, address, contact details,
relatives' identities, free-text comments), keeps the year and month of birth, death and
foetus dates, the département of residence instead of the commune, and keys every row by the
national rare-disease identifier (IDMR) instead of the record's identifier.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import QuerySet

from bamara.organisations.models import Hospital, Site
from bamara.records.models import Patient
from bamara.sdm import concepts, oids, storage
from bamara.sdm import definition as sdm_definition
from bamara.sdm.schema import Item

CHUNK = 2000

SHEET_NAMES = {
    "patient": "patients", "careepisode": "prises_en_charge", "referral": "adressages",
    "activity": "activites", "activityobjective": "activites_objectifs",
    "activityprofession": "activites_professions", "diagnosis": "diagnostics",
    "clinicalsign": "diagnostics_signes", "investigation": "diagnostics_investigations",
    "genetictechnique": "diagnostics_techniques", "gene": "diagnostics_genes",
    "pregnancy": "grossesses", "foetus": "foetus", "registryconsent": "consentements_ern",
    "firstcasedisease": "premier_cas_maladies", "treatment": "traitements",
    "functionalscore": "scores_cif", "genomicvariant": "variants", "drugprogramme": "sdmt_programmes",
    "drugvisit": "sdmt_visites",
}
VARIABLES_SHEET = "variables"

# Pseudonymised variant: columns removed, dates kept to the month, communes kept to the département.
DROPPED = {
    "Patient": {"uuid", "ins", "ins_oid", "ipp", "ipp_oid", "birth_name", "birth_given_names",
                "first_birth_given_name", "used_name", "used_given_name", "birth_commune", "address_line",
                "postal_code", "phone", "email", "representative_name", "representative_given_name",
                "representative_phone", "mother", "mother_birth_name", "mother_used_name",
                "mother_first_name", "first_case_identifier", "first_case_identifier_oid",
                "first_case_patient", "foetus_local_id", "national_id", "gp_name", "gp_rpps"},
    "Foetus": {"local_id", "given_name", "birth_name", "record"},
    "Diagnosis": {"comment"},
}
MONTH_ONLY = {("Patient", "birth_date"), ("Patient", "death_date"), ("Foetus", "birth_date")}
DEPARTEMENT_ONLY = {("Patient", "residence_commune"), ("Activity", "residence_commune")}


def departement(commune: str) -> str:
    if not commune:
        return ""
    return commune[:3] if commune.startswith("97") else commune[:2]


class Labels:
    """French labels of coded values, looked up once per export."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], str] = {}

    def __call__(self, code: Any, system: str) -> str:
        if code in (None, ""):
            return ""
        key = (str(code), system)
        if key not in self.cache:
            self.cache[key] = self._lookup(*key)
        return self.cache[key]

    def preload_orpha(self, codes: set[str]) -> None:
        """Orphanet labels of many codes in one query (a page of the list)."""
        from bamara.terminologies.models import OrphaConcept

        numbers = [int(code) for code in codes if code.isdigit()]
        found = {str(c.code): str(c) for c in OrphaConcept.objects.filter(code__in=numbers)}
        for code in codes:
            for system in (oids.ORPHA, oids.ORPHA_GROUPS):
                self.cache[(code, system)] = found.get(code, "")

    def _lookup(self, code: str, system: str) -> str:
        from bamara.terminologies.models import Cim10Code, HpoTerm, OrphaConcept

        if system in (oids.ORPHA, oids.ORPHA_GROUPS):
            concept = OrphaConcept.objects.filter(code=int(code)).first() if code.isdigit() else None
            return str(concept) if concept else ""
        if system == oids.HPO:
            return HpoTerm.objects.filter(id=code).values_list("name", flat=True).first() or ""
        if system == oids.CIM10:
            return Cim10Code.objects.filter(code=code.replace(".", "")).values_list("label", flat=True).first() or ""
        if system.startswith("bamara:") or "." in system:
            return concepts.label(code, system, default="")
        return ""


@dataclass
class Column:
    header: str
    path: str  # ORM path read with values_list
    item: Item | None
    note: str = ""
    # Formats the value read from `path` (and the row's other values, by path).
    render: Callable[[Any, dict[str, Any]], Any] | None = None
    extra_paths: tuple[str, ...] = ()


@dataclass
class Sheet:
    name: str
    model: type[models.Model]
    patient_path: str  # "" for Patient itself
    site_path: str | None  # care episodes and activities: restricted to the selected sites
    columns: list[Column] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        found: list[str] = []
        for column in self.columns:
            for path in (column.path, *column.extra_paths):
                if path not in found:
                    found.append(path)
        return found

    def queryset(self, patients: QuerySet[Patient], site_ids: list[int]) -> QuerySet:
        if self.model is Patient:
            return patients
        rows = self.model._default_manager.filter(**{f"{self.patient_path}__in": patients.order_by().values("pk")})
        if self.site_path:
            rows = rows.filter(**{f"{self.site_path}_id__in": site_ids})
        return rows.order_by("pk")

    def rows(self, patients: QuerySet[Patient], site_ids: list[int]) -> Iterator[list[Any]]:
        paths = self.paths
        for values in self.queryset(patients, site_ids).values_list(*paths).iterator(chunk_size=CHUNK):
            by_path = dict(zip(paths, values, strict=True))
            yield [
                column.render(by_path[column.path], by_path) if column.render else _plain(by_path[column.path])
                for column in self.columns
            ]


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, int | float | str):
        return value
    return str(value)  # UUID


def _patient_path(model: type[models.Model]) -> tuple[str, str | None]:
    """(path from `model` to its Patient, name of the parent foreign key when the parent is
    not the patient)."""
    if model is Patient:
        return "", None
    fks = [f for f in model._meta.fields if isinstance(f, models.ForeignKey)]
    for f in fks:
        if f.related_model is Patient and f.name in ("patient", "mother"):
            return f.name, None
    for f in fks:
        if f.related_model._meta.app_label == "records" and f.related_model is not Patient:
            path, _parent = _patient_path(f.related_model)
            return f"{f.name}__{path}", f.name
    raise LookupError(f"{model.__name__} : aucun chemin vers le dossier patient")


def _site_path(model: type[models.Model], parent: str | None) -> str | None:
    if any(f.name == "site" for f in model._meta.fields):
        return "site"
    if parent:
        parent_model = model._meta.get_field(parent).related_model
        if any(f.name == "site" for f in parent_model._meta.fields):
            return f"{parent}__site"
    return None


def _id_path(model: type[models.Model]) -> str:
    return "uuid" if any(f.name == "uuid" for f in model._meta.fields) else "pk"


def build_sheets(*, pseudonymised: bool, version: str | None = None) -> list[Sheet]:
    """The sheets and columns of a download, from the SDM-MR definition."""
    d = sdm_definition.get(version) if version else sdm_definition.current()
    bound: dict[type[models.Model], list[tuple[Item, models.Field]]] = {Patient: []}
    for item in d.active_items():
        for binding in storage.fields_for(item):
            if binding.model._meta.app_label != "records":
                continue  # hospital and site: given through the record's foreign keys
            bound.setdefault(binding.model, []).append((item, binding.field))

    key_header = "idmr" if pseudonymised else "dossier_id"
    sheets = []
    for model, fields in bound.items():
        patient_path, parent = _patient_path(model)
        prefix = f"{patient_path}__" if patient_path else ""
        key_path = f"{prefix}national_id" if pseudonymised else f"{prefix}uuid"
        sheet = Sheet(SHEET_NAMES.get(model._meta.model_name, model._meta.model_name)[:31], model,
                      patient_path, _site_path(model, parent))
        key_field = "national_id" if pseudonymised else "uuid"
        key_item = next((i for i, f in fields if f.name == key_field), None) if model is Patient else None
        sheet.columns.append(Column(key_header, key_path, key_item, "identifiant national maladies rares (IDMR)"
                                    if pseudonymised else "identifiant du dossier patient"))
        if model is not Patient:
            id_path = _id_path(model)
            bound_fields = {f.name for _i, f in fields}
            if id_path == "pk" or id_path not in bound_fields:
                sheet.columns.append(Column("id", id_path, None, "identifiant de la ligne"))
            if parent:
                parent_model = model._meta.get_field(parent).related_model
                sheet.columns.append(Column(f"{parent}_id", f"{parent}__{_id_path(parent_model)}", None,
                                            f"ligne de la feuille {SHEET_NAMES.get(parent_model._meta.model_name, parent)}"))
        _add_columns(sheet, fields, pseudonymised)
        sheets.append(sheet)
    return sheets


def _add_columns(sheet: Sheet, fields: list[tuple[Item, models.Field]], pseudonymised: bool) -> None:
    model = sheet.model
    name = model.__name__
    names = {f.name for f in model._meta.fields}
    per_item: dict[str, int] = {}
    for item, _f in fields:
        per_item[item.id] = per_item.get(item.id, 0) + 1
    seen: set[str] = set()
    key_field = "national_id" if pseudonymised else "uuid"
    for item, f in fields:
        if f.name in seen or (model is Patient and f.name == key_field):
            continue
        seen.add(f.name)
        if pseudonymised and f.name in DROPPED.get(name, set()):
            continue
        if f.name.endswith("_system") and f.name[:-7] + "_code" in names:
            continue  # given with its code
        if f.name.endswith("_precision") and f.name[:-10] in names:
            continue  # given with its date
        header = item.id if per_item[item.id] == 1 else f"{item.id}.{f.name}"
        sheet.columns.extend(_columns_for(sheet, item, f, header, names, pseudonymised))


def _columns_for(sheet: Sheet, item: Item, f: models.Field, header: str, names: set[str],
                 pseudonymised: bool) -> list[Column]:
    model_name = sheet.model.__name__
    labels = Labels()
    if isinstance(f, models.ForeignKey):
        target = f.related_model
        if target is Site:
            return [Column(header, f"{f.name}__code", item, "code du site")]
        if target is Hospital:
            return [Column(header, f"{f.name}__finess_et", item, "FINESS géographique")]
        return [Column(header, f"{f.name}__{_id_path(target)}", item, f"identifiant ({target._meta.model_name})")]
    if f.name.endswith("_code") and f.name[:-5] + "_system" in names:
        system = f.name[:-5] + "_system"
        return [
            Column(header, f.name, item, "code"),
            Column(f"{header}_systeme", system, item, "OID du système de codes"),
            Column(f"{header}_libelle", f.name, item, "libellé français",
                   render=lambda value, row, system=system: labels(value, row[system]), extra_paths=(system,)),
        ]
    if isinstance(f, models.DateField) and f"{f.name}_precision" in names:
        precision = f"{f.name}_precision"
        month_only = pseudonymised and (model_name, f.name) in MONTH_ONLY
        return [Column(header, f.name, item, "date partielle (AAAA, AAAA-MM ou AAAA-MM-JJ)"
                       + (" ; année et mois seulement" if month_only else ""),
                       render=lambda value, row, p=precision, m=month_only: _partial(value, row[p], m),
                       extra_paths=(precision,))]
    if pseudonymised and (model_name, f.name) in DEPARTEMENT_ONLY:
        return [Column(f"{header}_departement", f.name, item, "département (code INSEE)",
                       render=lambda value, row: departement(value or ""))]
    if "orpha" in f.name and isinstance(f, models.IntegerField):
        return [Column(header, f.name, item, "code ORPHA"),
                Column(f"{header}_libelle", f.name, item, "libellé Orphanet",
                       render=lambda value, row: labels(value, oids.ORPHA))]
    if f.choices:
        choices = {str(k): str(v) for k, v in f.flatchoices}
        return [Column(header, f.name, item, "code"),
                Column(f"{header}_libelle", f.name, item, "libellé",
                       render=lambda value, row, c=choices: c.get(str(value), "") if value not in (None, "") else "")]
    if item.value_set and isinstance(f, models.CharField) and header == item.id:
        oid = item.value_set
        return [Column(header, f.name, item, "code"),
                Column(f"{header}_libelle", f.name, item, "libellé",
                       render=lambda value, row, o=oid: labels(value, o) if value else "")]
    return [Column(header, f.name, item, str(f.verbose_name))]


def _partial(value: dt.date | None, precision: str, month_only: bool) -> str:
    if value is None:
        return ""
    if month_only or precision == "M":
        return f"{value:%Y-%m}" if precision != "Y" else f"{value:%Y}"
    if precision == "Y":
        return f"{value:%Y}"
    return value.isoformat()


VARIABLE_HEADERS = ["feuille", "colonne", "item", "libelle", "chapitre", "type", "cardinalite",
                    "obligation", "jeu_de_valeurs", "stockage", "remarque"]


def variables(sheets: list[Sheet]) -> Iterator[list[str]]:
    """One row per column of every sheet, described from the SDM-MR definition."""
    for sheet in sheets:
        for column in sheet.columns:
            item = column.item
            yield [
                sheet.name, column.header, item.id if item else "", item.label_fr if item else "",
                str(item.chapter) if item else "", str(item.type) if item else "",
                str(item.cardinality) if item else "", item.requirement.label_fr if item else "",
                item.value_set or "" if item else "", f"{sheet.model.__name__}.{column.path}", column.note,
            ]


def write_xlsx(target: Any, sheets: list[Sheet], patients: QuerySet[Patient], site_ids: list[int],
               about: Iterable[tuple[str, str]] = ()) -> dict[str, int]:
    """Write the workbook to `target` (a path or a binary file). Rows go straight to disk
    (openpyxl write-only mode): memory does not grow with the number of patients."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    counts: dict[str, int] = {}
    info = workbook.create_sheet("export")
    info.append(["rubrique", "valeur"])
    for row in about:
        info.append(list(row))
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name)
        ws.append([column.header for column in sheet.columns])
        count = 0
        for row in sheet.rows(patients, site_ids):
            ws.append(row)
            count += 1
        counts[sheet.name] = count
    ws = workbook.create_sheet(VARIABLES_SHEET)
    ws.append(VARIABLE_HEADERS)
    for row in variables(sheets):
        ws.append(row)
    workbook.save(target)
    return counts


class _Sink(io.RawIOBase):
    """A write-only, non-seekable stream whose written bytes are taken out as they come."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def csv_zip_chunks(sheets: list[Sheet], patients: QuerySet[Patient], site_ids: list[int],
                   about: Iterable[tuple[str, str]] = (), counts: dict[str, int] | None = None) -> Iterator[bytes]:
    """A ZIP of one CSV per sheet (UTF-8 with BOM, « ; » separated, as French spreadsheets
    expect), produced as it is read: nothing is held in memory but the current chunk."""
    sink = _Sink()
    counts = {} if counts is None else counts
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        files = [("export", ["rubrique", "valeur"], iter([list(row) for row in about]))]
        files += [(s.name, [c.header for c in s.columns], s.rows(patients, site_ids)) for s in sheets]
        files.append((VARIABLES_SHEET, VARIABLE_HEADERS, variables(sheets)))
        for name, headers, rows in files:
            with archive.open(f"{name}.csv", "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                writer = csv.writer(text, delimiter=";")
                writer.writerow(headers)
                count = 0
                for row in rows:
                    writer.writerow(row)
                    count += 1
                    if count % CHUNK == 0:
                        text.flush()
                        yield sink.take()
                counts[name] = count
                text.flush()
                text.detach()
            yield sink.take()
    yield sink.take()
