"""The SDM-MR form factory: record forms generated from the SDM-MR definition (bamara.sdm).

A record page is made of *sections* (``SECTIONS``), one per SDM-MR chapter or repeating group.
For a section and the record's SDM-MR version, ``form_class(key, version)`` builds a Django
form from the definition: every item of the section's chapters and scopes that users enter
(``entry: user``) and that is stored gives one or more *parts*, each a form field bound to
model columns through the item's ``storage:`` binding:

==================================  ===========================================================
storage                             form field
==================================  ===========================================================
``x_code`` + ``x_system``           select of the value set of the record's version (or of the
                                    item's component value set), or a terminology combobox
                                    (ORPHA, CIM-10...) for ``coded`` items
``d`` + ``d_precision``             partial date (JJ/MM/AAAA, MM/AAAA, AAAA)
``a_code`` ... ``a_unit``           age class + quantity + unit (the ``*_precision`` item
                                    joins its age-class item)
one column                          by column type: oui/non(/inconnu) radios, number with the
                                    item's min/max, date, text with the item's pattern, select
                                    of a local value set (stored values), ORPHA combobox
child rows (FK to the row)          checkboxes of codes (objectives, referrals...) or a list of
                                    terminology codes (signs, genes...)
==================================  ===========================================================

Labels are ``label_fr`` (``label_en`` in English), help texts ``definition_fr``; mandatory
items are required on the server, recommended ones carry a visual marker; retired items are
shown read-only when they hold a value. ``EXCLUDED`` lists, with the reason, the user-entered
stored items no generated form carries (tests/records/test_record_forms.py checks that every
other one is in exactly one section).

The same form gives the values to display (``display(instance)``), the values for the domain
validation layer (``values()``, attribute names of RecordData), and writes them back
(``save(instance)``), recording per-field provenance in ``field_sources``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from bamara.audit import trail
from bamara.intake import provenance
from bamara.sdm import concepts, oids, storage
from bamara.sdm import definition as sdm_definition
from bamara.sdm.schema import Item, ItemType, RequirementLevel, ValueSet

from . import autocomplete
from .fields import AgeAt, AgeUnit, Code, PartialDate
from .forms import PartialDateFormField
from .models import (
    Activity,
    CareEpisode,
    ClinicalSign,
    Diagnosis,
    Foetus,
    FunctionalScore,
    GenomicVariant,
    Patient,
    Pregnancy,
    RegistryConsent,
    Source,
    Treatment,
)
from .validation.checks import AGE_POSTNATAL

WEB = Source.WEB.value

# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Section:
    key: str  # URL slug
    chapters: tuple[str, ...]
    scopes: tuple[str, ...]
    model: type[models.Model]
    rows: bool = False  # several rows per record (diagnoses, activities...)
    title_fr: str = ""  # default: the chapter's title
    title_en: str = ""
    can_add: bool = True
    can_delete: bool = True

    @property
    def title(self) -> str:
        english = (translation.get_language() or "fr").startswith("en")
        if self.title_fr:
            return self.title_en if english and self.title_en else self.title_fr
        # The current version knows every chapter (C15 appeared in 2024.01).
        chapter = next(c for c in sdm_definition.current().chapters if c.code == self.chapters[0])
        return chapter.title_en if english else chapter.title_fr


SECTIONS: tuple[Section, ...] = (
    Section("opposition", ("C01",), ("record",), Patient),
    Section("consentements-ern", ("C01",), ("record",), RegistryConsent, rows=True,
            title_fr="Consentements à la transmission vers un registre ERN",
            title_en="Consents to transmission to an ERN registry"),
    Section("identification", ("C02",), ("record",), Patient),
    Section("administratif", ("C03",), ("record",), Patient),
    Section("famille", ("C04",), ("record",), Patient),
    Section("statut-vital", ("C05",), ("record",), Patient),
    # Care episodes are opened by creating or attaching the patient, one per site.
    Section("parcours", ("C06",), ("care_episode",), CareEpisode, rows=True, can_add=False,
            can_delete=False),
    Section("activites", ("C07",), ("activity",), Activity, rows=True),
    Section("diagnostics", ("C08", "C09", "C10", "X3"), ("diagnosis",), Diagnosis, rows=True,
            title_fr="Diagnostics : histoire de la maladie, diagnostic, confirmation",
            title_en="Diagnoses: disease history, diagnosis, confirmation"),
    Section("traitement", ("C11",), ("record",), Treatment, rows=True),
    Section("ante-neonatal", ("C12",), ("record",), Patient),
    Section("grossesses", ("C12",), ("pregnancy",), Pregnancy, rows=True,
            title_fr="Historique des grossesses", title_en="Pregnancy history"),
    Section("foetus", ("C02", "C12"), ("foetus",), Foetus, rows=True,
            title_fr="Fœtus et nouveau-nés des grossesses", title_en="Foetuses and newborns"),
    Section("recherche", ("C13",), ("record",), Patient),
    Section("statut-fonctionnel", ("C15",), ("record",), FunctionalScore, rows=True),
    Section("sdm-g", ("X1",), ("variant",), GenomicVariant, rows=True),
)
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}

# User-entered, stored items that no generated form carries, and why.
EXCLUDED: dict[str, str] = {
    "site_mr": "the site of a care episode is the one that created or attached the patient; shown read-only",
    "etablissement": "the hospital of the record is the one of the site (organisations app)",
    "categorie_etablissement": "a property of the hospital, managed in the organisations app",
    "site_annuaire": "a property of the site (BNDMR directory), managed in the organisations app",
    "auteur_document": "the author of the last CDA document, written by the connected-mode intake",
    "avis_dossier_patient_externe": "set by the 'avis sur dossier' creation page",
    "dossier_foetus": "set when a foetus record is created from the mother's pregnancy section",
    "sdmt_date_demande_ap": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_dates_visites": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_medicament": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_contexte_prescription": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_caracteristiques_patient": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_modalites_acces": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_criteres_personnalises": "SDM-T is a separate drug-programme module, not part of the record page",
    "sdmt_tolerance_arret": "SDM-T is a separate drug-programme module, not part of the record page",
}

# Columns written by the system, never typed: code-system OIDs of identifiers, the version a
# status was coded in, links to other records, the site of a care episode.
SYSTEM_COLUMNS = {
    "records.Patient.ins_oid", "records.Patient.ipp_oid", "records.Patient.first_case_identifier_oid",
    "records.Patient.mother", "records.Patient.first_case_patient", "records.Patient.hospital",
    "records.Patient.foetus_local_id", "records.Diagnosis.status_sdm_version",
    "records.CareEpisode.site", "records.ClinicalSign.kind",
}
# Identity sections: values fed by the hospital EHR (DPI) are read-only there.
IDENTITY_SECTIONS = {"identification", "administratif"}
# ClinicalSign rows of each item (one table, three kinds).
SIGN_KINDS = {"description_clinique": "description", "signes_complementaires": "complementaire",
              "signes_inhabituels": "inhabituel"}
# The diagnosis may have no code while it is being made (definition_fr of diagnostic_code).
STATUSES_WITHOUT_CODE = {"385651009", "42425007", "GEN-034", "GEN-021"}  # en cours, indéterminé (2024, 2021)
# Columns typed in upper case (INS identity traits).
UPPER_COLUMNS = {"birth_name", "used_name", "mother_birth_name", "mother_used_name"}


def primary_model(item: Item) -> type[models.Model] | None:
    refs = storage.fields_for(item)
    return refs[0].model if refs else None


def _parent_fk(child: type[models.Model], parent: type[models.Model]) -> models.ForeignKey | None:
    for f in child._meta.fields:
        if isinstance(f, models.ForeignKey) and f.related_model is parent:
            return f
    return None


def _belongs(item: Item, section: Section) -> bool:
    if item.chapter.code not in section.chapters or item.scope not in section.scopes:
        return False
    model = primary_model(item)
    if model is section.model:
        return True
    # A code list in a child table of the section's row (e.g. FirstCaseDisease of Patient),
    # unless that table is a section of its own (e.g. RegistryConsent).
    return (model is not None and _parent_fk(model, section.model) is not None
            and model not in {s.model for s in SECTIONS})


def section_items(section: Section, version: str) -> list[Item]:
    """The user-entered, stored items of the section in that version (retired ones included,
    to show their values)."""
    d = sdm_definition.get(version)
    return [i for i in d.items if i.entry == "user" and i.stored and i.id not in EXCLUDED
            and _belongs(i, section)]


# --------------------------------------------------------------------------- form fields


def _english() -> bool:
    return (translation.get_language() or "fr").startswith("en")


class TernaryField(forms.TypedChoiceField):
    """oui / non / inconnu (None) for a nullable boolean; oui / non for a plain one."""

    def __init__(self, *, nullable: bool, **kwargs: Any):
        choices = [("oui", _("Oui")), ("non", _("Non"))]
        if nullable:
            choices.append(("inconnu", _("Inconnu")))
        super().__init__(choices=choices, coerce=lambda v: {"oui": True, "non": False}.get(v),
                         empty_value=None, widget=forms.RadioSelect, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if value is True:
            return "oui"
        if value is False:
            return "non"
        return value


def _token_text(value: Any) -> str:
    if isinstance(value, autocomplete.Token):
        return autocomplete.token_of(value.code, value.symbol) if value.code else value.symbol
    if isinstance(value, Code):
        return autocomplete.token_of(value)
    return "" if value is None else str(value)


class TermField(forms.CharField):
    """One terminology code, typed or chosen in the combobox."""

    def __init__(self, *, systems: tuple[str, ...], kind: str, **kwargs: Any):
        self.systems, self.kind = systems, kind
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, autocomplete.Token | Code):
            return _token_text(value)
        return value

    def to_python(self, value: Any) -> autocomplete.Token | None:
        if isinstance(value, autocomplete.Token):
            return value
        text = super().to_python(value)
        if not text:
            return None
        try:
            return autocomplete.read_token(text, self.systems)
        except autocomplete.TokenError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class TermListField(TermField):
    """Several terminology codes separated by ";"."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "; ".join(_token_text(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[autocomplete.Token]:
        if isinstance(value, list):
            return value
        try:
            tokens = autocomplete.read_tokens(value or "", self.systems)
        except autocomplete.TokenError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None
        unique: dict[tuple, autocomplete.Token] = {}
        for token in tokens:
            unique.setdefault((token.code, token.symbol.upper()), token)
        return list(unique.values())


def _combobox(kind: str, *, multiple: bool = False) -> forms.TextInput:
    return forms.TextInput(attrs={
        "role": "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
        "autocomplete": "off", "data-autocomplete": kind, **({"data-multiple": "1"} if multiple else {}),
    })


# --------------------------------------------------------------------------- parts


@dataclass(eq=False)
class Part:
    """One form field (several for an age) bound to model columns of one item."""

    name: str  # form field name = attribute of the validation RecordData
    item: Item
    columns: tuple[str, ...]  # "records.Model.field" written by the part
    template: str = "input"  # how records/record/_widget.html renders it
    extra_items: list[Item] = field(default_factory=list)  # items sharing the part

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        raise NotImplementedError

    def initial(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def value(self, cleaned: dict[str, Any]) -> Any:
        return cleaned.get(self.name)

    def write(self, obj: Any, value: Any) -> None:
        raise NotImplementedError

    def display(self, obj: Any) -> str:
        raise NotImplementedError

    def is_empty(self, obj: Any) -> bool:
        return self.display(obj) in ("", "—")

    def child(self) -> bool:
        return False

    @property
    def field_names(self) -> list[str]:
        return [self.name]

    def label(self, single: bool) -> str:
        return self.item.label


def _column_of(reference: str) -> str:
    return reference.rsplit(".", 1)[1]


def _attname(obj: models.Model, reference: str) -> str:
    """The audit-diff key (attname) of a "records.Model.field" column of the row's model."""
    label, _sep, name = reference.rpartition(".")
    if label != obj._meta.label:
        return reference
    try:
        return obj._meta.get_field(name).attname
    except Exception:  # a column of another model: never in the row's diff
        return reference


@dataclass(eq=False)
class ColumnPart(Part):
    """One plain column: text, number, boolean, date, a local code, a foreign key."""

    model_field: models.Field | None = None
    value_set: ValueSet | None = None
    pattern: str | None = None
    single: bool = True

    @property
    def column(self) -> str:
        return self.model_field.name

    def label(self, single: bool) -> str:
        if single:
            text = self.item.label
        else:
            text = str(self.model_field.verbose_name)
            text = text[:1].upper() + text[1:]
        unit = self.item.rules.unit if self.item.rules else None
        if unit and self.template == "number" and f"({unit})" not in text:
            text = f"{text} ({UNIT_LABELS.get(unit, unit)})"
        return text

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        f, item = self.model_field, self.item
        rules = item.rules
        kwargs: dict[str, Any] = {"required": False}
        if self.value_set is not None:
            # Local value sets store their code (or a stored value: True/False, integer...).
            choices = [("", "—")] + [(c.code, c.label_fr) for c in self.value_set.codes]
            self.template = "select"
            return {self.name: forms.ChoiceField(choices=choices, **kwargs)}
        if isinstance(f, models.BooleanField):
            self.template = "radio"
            return {self.name: TernaryField(nullable=f.null, **kwargs)}
        if isinstance(f, models.ForeignKey):
            self.template = "select"
            return {self.name: forms.ChoiceField(choices=[("", "—")], **kwargs)}
        if isinstance(f, models.PositiveIntegerField | models.PositiveSmallIntegerField | models.IntegerField):
            if self.template == "orpha":
                return {self.name: TermField(systems=(oids.ORPHA,), kind="orpha",
                                             widget=_combobox("orpha"), **kwargs)}
            self.template = "number"
            low = rules.min if rules and rules.min is not None else 0
            high = rules.max if rules and rules.max is not None else None
            return {self.name: forms.IntegerField(min_value=low, max_value=high, **kwargs)}
        if isinstance(f, models.DecimalField):
            self.template = "number"
            return {self.name: forms.DecimalField(
                max_digits=f.max_digits, decimal_places=f.decimal_places, localize=True,
                min_value=Decimal(str(rules.min)) if rules and rules.min is not None else Decimal(0),
                max_value=Decimal(str(rules.max)) if rules and rules.max is not None else None,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}), **kwargs)}
        if isinstance(f, models.DateField):
            self.template = "input"
            return {self.name: forms.DateField(
                input_formats=["%d/%m/%Y", "%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)}
        if isinstance(f, models.EmailField):
            return {self.name: forms.EmailField(max_length=f.max_length, **kwargs)}
        validators = []
        if self.pattern:
            validators.append(RegexValidator(
                f"(?:{self.pattern})", _("Format non reconnu pour « %(label)s ».") % {"label": self.label(self.single)}))
        max_length = f.max_length
        if rules and rules.max_length:
            max_length = min(max_length or rules.max_length, rules.max_length)
        if isinstance(f, models.TextField):
            self.template = "textarea"
            return {self.name: forms.CharField(max_length=max_length, widget=forms.Textarea(attrs={"rows": 3}),
                                               validators=validators, **kwargs)}
        widget = None
        if self.column in ("birth_commune", "residence_commune", "place_commune"):
            self.template, widget = "combobox", _combobox("communes")
        elif self.column in ("gp_finess", "place_finess"):
            self.template, widget = "combobox", _combobox("finess")
        return {self.name: forms.CharField(max_length=max_length, validators=validators,
                                           widget=widget or forms.TextInput, **kwargs)}

    def initial(self, obj: Any) -> dict[str, Any]:
        f = self.model_field
        if isinstance(f, models.ForeignKey):
            return {self.name: getattr(obj, f.attname) or ""}
        raw = getattr(obj, f.attname)
        if self.value_set is not None:
            match = next((c for c in self.value_set.codes if _stored(c) == raw), None)
            return {self.name: match.code if match else ("" if raw in (None, "") else str(raw))}
        if self.template == "orpha":
            return {self.name: autocomplete.Token(Code(str(raw), oids.ORPHA)) if raw else ""}
        return {self.name: raw}

    def write(self, obj: Any, value: Any) -> None:
        f = self.model_field
        if isinstance(f, models.ForeignKey):
            setattr(obj, f.attname, value)
            return
        if self.value_set is not None and value is _UNKNOWN_LOCAL:
            return  # a stored value the value set does not know: left as it is
        if value is None and not f.null:
            value = "" if isinstance(f, models.CharField | models.TextField) else f.get_default()
        setattr(obj, f.attname, value)

    def value(self, cleaned: dict[str, Any]) -> Any:
        raw = cleaned.get(self.name)
        if self.value_set is not None:
            if not raw:
                return None
            entry = self.value_set.get(raw)
            return _stored(entry) if entry else _UNKNOWN_LOCAL
        if self.template == "orpha":
            return int(raw.code.code) if raw and raw.code else None
        if isinstance(self.model_field, models.ForeignKey):
            return int(raw) if raw else None
        if isinstance(raw, str) and self.model_field.name in UPPER_COLUMNS:
            return raw.strip().upper()
        return raw

    def display(self, obj: Any) -> str:
        f = self.model_field
        if isinstance(f, models.ForeignKey):
            target = getattr(obj, f.name)
            return str(target) if target is not None else "—"
        raw = getattr(obj, f.attname)
        if self.value_set is not None:
            match = next((c for c in self.value_set.codes if _stored(c) == raw), None)
            if match is not None:
                return match.label_fr
        if raw in (None, ""):
            return "—"
        if self.template == "orpha":
            return autocomplete.describe(Code(str(raw), oids.ORPHA))
        if isinstance(raw, bool):
            return _("Oui") if raw else _("Non")
        if isinstance(raw, dt.date):
            return raw.strftime("%d/%m/%Y")
        if isinstance(raw, Decimal):
            return f"{raw.normalize():f}".replace(".", ",")
        unit = (self.item.rules.unit if self.item.rules else None) or ""
        return f"{raw} {UNIT_LABELS.get(unit, unit)}".strip()

    def is_empty(self, obj: Any) -> bool:
        raw = getattr(obj, self.model_field.attname)
        if isinstance(self.model_field, models.BooleanField) and not self.model_field.null:
            return raw is False and self.model_field.default is False and self.item.requirement.level in (
                RequirementLevel.OPTIONAL, RequirementLevel.CONDITIONAL)
        return raw in (None, "")


UNIT_LABELS = {"g": "g", "cm": "cm", "wk": "SA"}
# A local code kept from another version: not rewritten (see ColumnPart.write).
_UNKNOWN_LOCAL = object()


def _stored(entry: Any) -> Any:
    """What a column holds for a local code: its stored value (True for « décédé »...)."""
    if entry is None:
        return None
    if entry.system.startswith("bamara:"):
        return entry.stored_value
    return entry.code


@dataclass(eq=False)
class CodedPart(Part):
    """A code and its system (``x_code``, ``x_system``) from a value set."""

    value_set: ValueSet | None = None
    base: str = ""  # x

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        self.template = "select"
        return {self.name: forms.ChoiceField(choices=_choices(self.value_set), required=False)}

    def initial(self, obj: Any) -> dict[str, Any]:
        code = getattr(obj, f"{self.base}_code")
        system = getattr(obj, f"{self.base}_system")
        return {self.name: _choice_value(self.value_set, code, system) if code else ""}

    def value(self, cleaned: dict[str, Any]) -> Code | None:
        return _code_of(self.value_set, cleaned.get(self.name))

    def write(self, obj: Any, value: Code | None) -> None:
        old = (getattr(obj, f"{self.base}_code"), getattr(obj, f"{self.base}_system"))
        setattr(obj, f"{self.base}_code", value.code if value else "")
        setattr(obj, f"{self.base}_system", value.system if value else "")
        if hasattr(obj, f"{self.base}_sdm_version") and old != (getattr(obj, f"{self.base}_code"),
                                                                getattr(obj, f"{self.base}_system")):
            setattr(obj, f"{self.base}_sdm_version", "")  # now coded in the record's version

    def display(self, obj: Any) -> str:
        code = getattr(obj, f"{self.base}_code")
        return code_label(code, getattr(obj, f"{self.base}_system"), self.value_set) if code else "—"


def code_label(code: str, system: str, value_set: ValueSet | None = None) -> str:
    """The label of a code: from the version's value set, else from any version."""
    entry = value_set.get(code, system) if value_set else None
    if entry is not None:
        return entry.label_fr
    return concepts.label(code, system, default=code)


def _choice_value(value_set: ValueSet | None, code: str, system: str) -> str:
    """The option value of a code: the code alone when the value set has it once, else
    "code|system" (also for a stored code the version's value set does not have)."""
    if value_set is None:
        return code
    same_code = [c for c in value_set.codes if c.code == code]
    if len(same_code) == 1 and same_code[0].system == system:
        return code
    return f"{code}|{system}"


def _choices(value_set: ValueSet | None) -> list[tuple[str, str]]:
    if value_set is None:
        return [("", "—")]
    return [("", "—")] + [(_choice_value(value_set, c.code, c.system), c.label_fr) for c in value_set.codes]


def _code_of(value_set: ValueSet | None, choice: str | None) -> Code | None:
    if not choice:
        return None
    code, _sep, system = choice.partition("|")
    entry = value_set.get(code, system or None) if value_set is not None else None
    if entry is not None:
        return Code(entry.code, entry.system)
    return Code(code, system) if system else None  # a code kept from another version


def _keep_old_choice(field: forms.ChoiceField, value: str, label: str) -> None:
    """A stored code that the version's value set no longer has stays selectable, so that
    opening and saving a form never loses it (the validation layer flags it)."""
    if value and value not in {str(v) for v, _l in field.choices}:
        field.choices = [*field.choices, (value, _("%(label)s (code d'une autre version)") % {"label": label})]


@dataclass(eq=False)
class TermPart(Part):
    """One terminology code (the diagnosis: ORPHA or CIM-10)."""

    base: str = ""
    systems: tuple[str, ...] = ()

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        kind = "diagnostic" if oids.CIM10 in self.systems else "orpha" if oids.ORPHA in self.systems else ""
        self.template = "combobox" if kind else "input"  # ICF, ATC, EMA: typed (no local table)
        return {self.name: TermField(systems=self.systems, kind=kind, required=False,
                                     widget=_combobox(kind) if kind else forms.TextInput)}

    def initial(self, obj: Any) -> dict[str, Any]:
        code = getattr(obj, f"{self.base}_code")
        return {self.name: autocomplete.Token(Code(code, getattr(obj, f"{self.base}_system"))) if code else ""}

    def value(self, cleaned: dict[str, Any]) -> Code | None:
        token = cleaned.get(self.name)
        return token.code if token else None

    def write(self, obj: Any, value: Code | None) -> None:
        setattr(obj, f"{self.base}_code", value.code if value else "")
        setattr(obj, f"{self.base}_system", value.system if value else "")

    def display(self, obj: Any) -> str:
        code = getattr(obj, f"{self.base}_code")
        return autocomplete.describe(Code(code, getattr(obj, f"{self.base}_system"))) if code else "—"


@dataclass(eq=False)
class PartialDatePart(Part):
    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        self.template = "input"
        return {self.name: PartialDateFormField(required=False)}

    def initial(self, obj: Any) -> dict[str, Any]:
        return {self.name: getattr(obj, f"{self.name}_partial")}

    def write(self, obj: Any, value: PartialDate | None) -> None:
        setattr(obj, f"{self.name}_partial", value)

    def display(self, obj: Any) -> str:
        value = getattr(obj, f"{self.name}_partial")
        return str(value) if value else "—"


@dataclass(eq=False)
class AgePart(Part):
    """An SDM age class with its quantity and unit (required only for postnatal life)."""

    value_set: ValueSet | None = None

    @property
    def field_names(self) -> list[str]:
        return [self.name, f"{self.name}_value", f"{self.name}_unit"]

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        self.template = "age"
        precision = self.extra_items[0] if self.extra_items else None
        high = precision.rules.max if precision and precision.rules and precision.rules.max else None
        return {
            self.name: forms.ChoiceField(choices=_choices(self.value_set), required=False),
            f"{self.name}_value": forms.DecimalField(
                required=False, min_value=Decimal(0), max_value=Decimal(str(high)) if high else None,
                max_digits=6, decimal_places=2, localize=True, label=_("Âge"),
                widget=forms.TextInput(attrs={"inputmode": "decimal"})),
            f"{self.name}_unit": forms.ChoiceField(
                choices=[("", "—"), *AgeUnit.choices], required=False, label=_("Unité")),
        }

    def initial(self, obj: Any) -> dict[str, Any]:
        age: AgeAt | None = getattr(obj, self.name)
        if age is None:
            return {self.name: "", f"{self.name}_value": None, f"{self.name}_unit": ""}
        return {self.name: _choice_value(self.value_set, age.code, age.system),
                f"{self.name}_value": age.value, f"{self.name}_unit": age.unit or ""}

    def value(self, cleaned: dict[str, Any]) -> AgeAt | None:
        code = _code_of(self.value_set, cleaned.get(self.name))
        if code is None:
            return None
        quantity = cleaned.get(f"{self.name}_value")
        return AgeAt(code.code, code.system, quantity, cleaned.get(f"{self.name}_unit") or None)

    def write(self, obj: Any, value: AgeAt | None) -> None:
        setattr(obj, self.name, value)

    def display(self, obj: Any) -> str:
        age: AgeAt | None = getattr(obj, self.name)
        if age is None:
            return "—"
        text = code_label(age.code, age.system, self.value_set)
        if age.value is not None:
            unit = dict(AgeUnit.choices).get(age.unit or "", age.unit or "")
            text = f"{text} : {age.value.normalize():f} {unit}".replace(".", ",")
        return text

    def check(self, form: forms.Form) -> None:
        code = _code_of(self.value_set, form.cleaned_data.get(self.name))
        quantity = form.cleaned_data.get(f"{self.name}_value")
        unit = form.cleaned_data.get(f"{self.name}_unit")
        postnatal = code is not None and (code.code, code.system) == (AGE_POSTNATAL.code, AGE_POSTNATAL.system)
        if postnatal and (quantity is None or not unit):
            form.add_error(f"{self.name}_value", _("Pour la période postnatale, indiquez l'âge et son unité (mois ou ans)."))
        elif not postnatal and (quantity is not None or unit):
            form.add_error(f"{self.name}_value", _("L'âge en mois ou en ans ne se donne que pour la période postnatale "
                                                   "(« période de la vie entre la naissance et la mort »)."))


@dataclass(eq=False)
class CodeListPart(Part):
    """Codes of a value set held in a child table (objectives, referrals, techniques...)."""

    child_model: type[models.Model] | None = None
    fk_name: str = ""
    base: str = ""
    value_set: ValueSet | None = None
    detail_column: str = ""  # e.g. GeneticTechnique.detail, for the « autre » code

    def child(self) -> bool:
        return True

    @property
    def field_names(self) -> list[str]:
        return [self.name] + ([f"{self.name}_detail"] if self.detail_column else [])

    def label(self, single: bool) -> str:
        if single:
            return self.item.label
        text = str(self.child_model._meta.get_field(f"{self.base}_code").verbose_name)
        return text[:1].upper() + text[1:]

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        self.template = "checkboxes"
        fields: dict[str, forms.Field] = {self.name: forms.MultipleChoiceField(
            choices=_choices(self.value_set)[1:], required=False, widget=forms.CheckboxSelectMultiple)}
        if self.detail_column:
            verbose = self.child_model._meta.get_field(self.detail_column).verbose_name
            fields[f"{self.name}_detail"] = forms.CharField(required=False, max_length=255, label=str(verbose).capitalize())
        return fields

    def rows(self, obj: Any) -> list[Any]:
        if obj.pk is None:
            return []
        return list(getattr(obj, self.name).all())

    def initial(self, obj: Any) -> dict[str, Any]:
        rows = self.rows(obj)
        initial: dict[str, Any] = {self.name: [_choice_value(self.value_set, getattr(r, f"{self.base}_code"),
                                                             getattr(r, f"{self.base}_system")) for r in rows]}
        if self.detail_column:
            initial[f"{self.name}_detail"] = next((getattr(r, self.detail_column) for r in rows
                                                   if getattr(r, self.detail_column)), "")
        return initial

    def value(self, cleaned: dict[str, Any]) -> list[Code]:
        return [c for c in (_code_of(self.value_set, v) for v in cleaned.get(self.name) or []) if c]

    def write(self, obj: Any, value: Any) -> None:
        pass  # child rows are written after the row is saved (write_children)

    def write_children(self, obj: Any, value: list[Code], cleaned: dict[str, Any]) -> None:
        getattr(obj, self.name).all().delete()
        detail = (cleaned.get(f"{self.name}_detail") or "").strip() if self.detail_column else ""
        for code in value:
            row = self.child_model(**{self.fk_name: obj, f"{self.base}_code": code.code,
                                      f"{self.base}_system": code.system})
            # The free-text precision goes with the « autre ... » code (GEN-092.*).
            if detail and (code.code.startswith("GEN-092") or len(value) == 1):
                setattr(row, self.detail_column, detail)
            row.save()

    def snapshot(self, obj: Any) -> list[str]:
        return sorted(f"{getattr(r, f'{self.base}_code')}" for r in self.rows(obj))

    def display(self, obj: Any) -> str:
        rows = self.rows(obj)
        texts = [code_label(getattr(r, f"{self.base}_code"), getattr(r, f"{self.base}_system"), self.value_set)
                 for r in rows]
        details = [getattr(r, self.detail_column) for r in rows if self.detail_column and getattr(r, self.detail_column)]
        return " ; ".join(texts + details) or "—"


@dataclass(eq=False)
class TermListPart(Part):
    """Terminology codes in a child table: clinical description (HPO, ORPHA groups, CIM-10),
    genes (HGNC), diseases of the family's first case (ORPHA)."""

    child_model: type[models.Model] | None = None
    fk_name: str = ""
    related_name: str = ""
    base: str = ""  # x of x_code/x_system, or "" for an integer ORPHA column
    int_column: str = ""  # FirstCaseDisease.orpha_code
    systems: tuple[str, ...] = ()
    kind_value: str = ""  # ClinicalSign.kind
    symbol_column: str = ""  # Gene.symbol

    def child(self) -> bool:
        return True

    @property
    def autocomplete_kind(self) -> str:
        if oids.HGNC in self.systems:
            return "genes"
        if oids.HPO in self.systems:
            return "signes"
        return "orpha"

    def form_fields(self, d: Any) -> dict[str, forms.Field]:
        self.template = "combobox-list"
        kind = self.autocomplete_kind
        return {self.name: TermListField(systems=self.systems, kind=kind, required=False,
                                         widget=_combobox(kind, multiple=True))}

    def rows(self, obj: Any) -> list[Any]:
        if obj.pk is None:
            return []
        rows = getattr(obj, self.related_name).all()
        if self.kind_value:
            rows = [r for r in rows if r.kind == self.kind_value]
        return list(rows)

    def _token(self, row: Any) -> autocomplete.Token:
        if self.int_column:
            return autocomplete.Token(Code(str(getattr(row, self.int_column)), self.systems[0]))
        code = getattr(row, f"{self.base}_code")
        symbol = getattr(row, self.symbol_column) if self.symbol_column else ""
        return autocomplete.Token(Code(code, getattr(row, f"{self.base}_system")) if code else None, symbol)

    def initial(self, obj: Any) -> dict[str, Any]:
        return {self.name: [self._token(r) for r in self.rows(obj)]}

    def value(self, cleaned: dict[str, Any]) -> list[Any]:
        tokens = cleaned.get(self.name) or []
        if self.int_column:
            return [int(t.code.code) for t in tokens if t.code]
        return [t.code for t in tokens if t.code]  # a gene given by its symbol only has no code

    def write(self, obj: Any, value: Any) -> None:
        pass

    def write_children(self, obj: Any, value: Any, cleaned: dict[str, Any]) -> None:
        for row in self.rows(obj):
            row.delete()
        for token in cleaned.get(self.name) or []:
            row = self.child_model(**{self.fk_name: obj})
            if self.int_column:
                setattr(row, self.int_column, int(token.code.code))
            else:
                setattr(row, f"{self.base}_code", token.code.code if token.code else "")
                setattr(row, f"{self.base}_system", token.code.system if token.code else "")
            if self.kind_value:
                row.kind = self.kind_value
            if self.symbol_column:
                setattr(row, self.symbol_column, token.symbol.upper() if token.symbol else "")
            row.save()

    def snapshot(self, obj: Any) -> list[str]:
        return sorted(_token_text(t) for t in self.initial(obj)[self.name])

    def display(self, obj: Any) -> str:
        tokens = self.initial(obj)[self.name]
        return " ; ".join(autocomplete.describe(t.code, t.symbol) for t in tokens) or "—"


# --------------------------------------------------------------------------- building parts


def _value_set_for_component(d: Any, item: Item, column: str) -> ValueSet | None:
    """The component value set of a composite item that a column holds (e.g. the relation of
    the legal representative, the sex of the first case, the INS status)."""
    if not item.component_value_sets:
        return None
    if len(item.component_value_sets) == 1:
        return d.value_set(next(iter(item.component_value_sets.values())))
    for name, oid in item.component_value_sets.items():
        if name in column:
            return d.value_set(oid)
    return None


def _pattern_column(item: Item, columns: list[str]) -> str | None:
    if not (item.rules and item.rules.pattern):
        return None
    if len(columns) == 1:
        return columns[0]
    return next((c for c in columns if c.endswith(("_rpps", "_code", "ins"))), None)


def build_parts(section: Section, version: str) -> list[Part]:
    """The parts of a section's form, in the definition's order."""
    d = sdm_definition.get(version)
    parts: list[Part] = []
    claimed: dict[tuple[str, str], Part] = {}  # (column reference, sign kind) -> part
    ages: dict[str, AgePart] = {}
    for item in section_items(section, version):
        refs = [r for r in storage.fields_for(item) if r.reference not in SYSTEM_COLUMNS]
        # Clinical signs of three items share one table, told apart by their kind.
        kind = SIGN_KINDS.get(item.id, "")
        shared = [claimed[(r.reference, kind)] for r in refs if (r.reference, kind) in claimed]
        own = [r for r in refs if (r.reference, kind) not in claimed and r.model is section.model]
        children = [r for r in refs if (r.reference, kind) not in claimed and r.model is not section.model]
        new: list[Part] = []
        columns = {r.field.name: r for r in own}
        names = list(columns)
        # Age class: a_code/a_system; the precision item brings a_value/a_unit.
        if item.type == ItemType.AGE_CLASS:
            base = names[0].removesuffix("_code")
            part = AgePart(base, item, tuple(r.reference for r in own), value_set=d.value_set_for(item))
            ages[base] = part
            new.append(part)
            names = []
        elif names and names[0].endswith(("_value", "_unit")) and names[0].rsplit("_", 1)[0] in ages:
            age = ages[names[0].rsplit("_", 1)[0]]
            age.extra_items.append(item)
            age.columns = (*age.columns, *(r.reference for r in own))
            for r in own:
                claimed[(r.reference, kind)] = age
            shared.append(age)
            names = []
        for name in names:
            if name not in columns:
                continue  # consumed as the second column of a pair
            ref = columns[name]
            if name.endswith("_code") and f"{name[:-5]}_system" in columns:
                base = name[:-5]
                pair = (ref.reference, columns.pop(f"{base}_system").reference)
                vs = d.value_set_for(item) if item.value_set else _value_set_for_component(d, item, base)
                if vs is None and item.terminologies:
                    new.append(TermPart(base, item, pair, base=base, systems=item.terminologies))
                else:
                    new.append(CodedPart(base, item, pair, value_set=vs, base=base))
            elif f"{name}_precision" in columns:
                pair = (ref.reference, columns.pop(f"{name}_precision").reference)
                new.append(PartialDatePart(name, item, pair))
            else:
                vs = None
                if item.value_set and item.value_set.startswith("bamara:") and len(names) <= 2:
                    vs = d.value_set_for(item) if name == names[0] else None
                elif item.component_value_sets and isinstance(ref.field, models.CharField) and ref.field.choices:
                    vs = _value_set_for_component(d, item, name)
                part = ColumnPart(name, item, (ref.reference,), model_field=ref.field, value_set=vs,
                                  single=len(own) == 1)
                if ref.field.name == _pattern_column(item, [r.field.name for r in own]):
                    part.pattern = item.rules.pattern
                if (isinstance(ref.field, models.IntegerField) and oids.ORPHA in item.terminologies
                        and not isinstance(ref.field, models.BooleanField)):
                    part.template = "orpha"
                if isinstance(ref.field, models.ForeignKey) and ref.field.related_model not in (Foetus, _site_model()):
                    continue
                new.append(part)
        new.extend(_child_parts(d, item, section, children))
        for part in new:
            for ref in part.columns:
                claimed[(ref, kind)] = part
        parts.extend(new)
        if not new:
            for part in dict.fromkeys(shared):
                if item not in part.extra_items and part.item is not item:
                    part.extra_items.append(item)
    return parts


def _site_model() -> type[models.Model]:
    return Activity._meta.get_field("site").related_model


def _child_parts(d: Any, item: Item, section: Section, refs: list[Any]) -> list[Part]:
    parts: list[Part] = []
    by_model: dict[type[models.Model], list[Any]] = {}
    for ref in refs:
        by_model.setdefault(ref.model, []).append(ref)
    for model, model_refs in by_model.items():
        fk = _parent_fk(model, section.model)
        if fk is None or model in {s.model for s in SECTIONS}:
            continue
        related = fk.remote_field.get_accessor_name()
        names = [r.field.name for r in model_refs]
        references = tuple(r.reference for r in model_refs)
        code_columns = [n for n in names if n.endswith("_code") and f"{n[:-5]}_system" in names]
        if code_columns:
            base = code_columns[0][:-5]
            if item.type == ItemType.CODED and item.terminologies:
                kind = SIGN_KINDS.get(item.id, "") if model is ClinicalSign else ""
                name = related if kind in ("", "description") else f"{related}_{kind}"
                symbol = next((n for n in names if n == "symbol"), "")
                parts.append(TermListPart(name, item, references, child_model=model, fk_name=fk.name,
                                          related_name=related, base=base, systems=item.terminologies,
                                          kind_value=kind, symbol_column=symbol))
            else:
                vs = d.value_set_for(item) if item.value_set else _value_set_for_component(d, item, base)
                detail = next((n for n in names if n == "detail"), "")
                parts.append(CodeListPart(related, item, references, child_model=model, fk_name=fk.name,
                                          base=base, value_set=vs, detail_column=detail))
        elif item.terminologies and len(names) == 1:
            parts.append(TermListPart(related, item, references, child_model=model, fk_name=fk.name,
                                      related_name=related, int_column=names[0], systems=item.terminologies))
    return parts


# --------------------------------------------------------------------------- the form


@dataclass
class Entry:
    """An item in the template: its parts, requirement and notes."""

    item: Item
    parts: list[Part]
    bound: list[Any]  # bound fields, in part order
    retired: bool = False
    readonly_note: str = ""
    current: list[str] = field(default_factory=list)  # saved value beside each combobox part

    @property
    def label(self) -> str:
        return self.item.label

    @property
    def requirement(self) -> str:
        return self.item.requirement.level.value

    @property
    def condition(self) -> str:
        return self.item.requirement.condition_fr or ""

    @property
    def grouped(self) -> bool:
        return len(self.parts) > 1 or (len(self.parts) == 1 and self.parts[0].template in ("radio", "checkboxes", "age"))

    @property
    def widgets(self) -> list[dict[str, Any]]:
        return [{"part": part, "template": part.template, "fields": fields, "field": fields[0] if fields else None,
                 "current": current} for part, fields, current in zip(self.parts, self.bound, self.current, strict=True)]

    @property
    def has_errors(self) -> bool:
        return any(b.errors for fields in self.bound for b in fields)


@dataclass
class Fieldset:
    legend: str
    entries: list[Entry]


class SdmForm(forms.Form):
    """Base of the generated forms; ``form_class()`` sets ``section``, ``version``, ``parts``."""

    section: Section
    version: str
    parts: list[Part]

    def __init__(self, data: Any = None, *, instance: models.Model, patient: Patient,
                 sites: Any = None, pregnancies: Any = None, **kwargs: Any):
        self.instance, self.patient = instance, patient
        initial = {}
        for part in self.parts:
            initial.update(part.initial(instance))
        initial.update(kwargs.pop("initial", None) or {})
        super().__init__(data, initial=initial, **kwargs)
        self.readonly: dict[str, str] = {}
        for part in self.parts:
            self._prepare(part, sites)
        if self.section.key == "foetus" and instance.pk is None:
            # A foetus belongs to one of the mother's pregnancies (not an SDM item).
            choices = [(str(p.pk), _pregnancy_label(p)) for p in (pregnancies or [])]
            self.fields["pregnancy"] = forms.ChoiceField(label=_("Grossesse"), choices=[("", "—"), *choices])
            self.fields["pregnancy"].required = True

    def _prepare(self, part: Part, sites: Any) -> None:
        item = part.item
        fields = [self.fields[n] for n in part.field_names if n in self.fields]
        main = self.fields.get(part.name)
        if main is None:
            return
        # Choices that depend on the record: the foetuses, the user's sites.
        if isinstance(part, ColumnPart) and isinstance(part.model_field, models.ForeignKey):
            if part.model_field.related_model is Foetus:
                foetuses = list(Foetus.objects.filter(mother=self.patient).order_by("pk")) if self.patient.pk else []
                if not foetuses:
                    for name in part.field_names:
                        self.fields.pop(name, None)
                    return
                main.choices = [("", "—")] + [(str(f.pk), _foetus_label(f)) for f in foetuses]
            else:
                main.choices = [(str(s.pk), f"{s.code} — {s.name}") for s in (sites or [])]
                main.required = True
        # A stored code the version does not know stays selectable.
        value = self.initial.get(part.name)
        if isinstance(part, CodedPart | AgePart) and value:
            code, _sep, system = str(value).partition("|")
            _keep_old_choice(main, str(value), code_label(code, system, part.value_set))
        if isinstance(part, ColumnPart) and part.value_set is not None and value not in (None, ""):
            _keep_old_choice(main, str(value), str(value))
        # The definition is the help text; for an item of several parts, the legend has it.
        main.help_text = item.definition_fr if self._single(part) else ""
        main.label = part.label(self._single(part))
        if main.help_text and isinstance(part, PartialDatePart):
            formats = _("JJ/MM/AAAA, MM/AAAA ou AAAA")
            main.help_text = f"{item.definition_fr} ({formats})"
        # Retired items: read-only, only when they hold a value.
        if not item.active:
            if part.is_empty(self.instance):
                for name in part.field_names:
                    self.fields.pop(name, None)
                return
            for f in fields:
                f.disabled = True
            self.readonly[part.name] = _("Donnée retirée du SDM-MR %(version)s : lecture seule.") % {
                "version": item.retired_in}
        # Mandatory items are required server-side (multi-part items: see clean()).
        if item.requirement.level == RequirementLevel.MANDATORY and self._single(part) and not (
                isinstance(part, TermPart) and item.id == "diagnostic_code"):
            main.required = True
        if isinstance(part, ColumnPart) and isinstance(part.model_field, models.BooleanField) \
                and not part.model_field.null and item.requirement.level == RequirementLevel.MANDATORY:
            main.required = True
        # Identity fed by the hospital EHR: read-only unless typed here.
        note = self._ehr_note(part)
        if note:
            for f in fields:
                f.disabled = True
            self.readonly[part.name] = note

    def _single(self, part: Part) -> bool:
        return sum(1 for p in self.parts if p.item is part.item) == 1

    def _ehr_note(self, part: Part) -> str:
        """Identity traits an EHR document sent (the record's own source, or a per-field
        source on a record created elsewhere) and nobody corrected here since: read-only,
        with the document and version they come from (``provenance.ehr_identity``)."""
        patient = self.instance
        if not isinstance(patient, Patient) or patient.pk is None or part.is_empty(patient):
            return ""
        if not hasattr(self, "_ehr_identity"):
            self._ehr_identity = provenance.ehr_identity(patient)
        ref = self._ehr_identity.get(part.name)
        if ref is None:
            return ""
        ref = "" if ref == Source.EHR else ref  # an EHR row without document reference
        return _("Source : DPI (document %(ref)s)") % {"ref": ref or "?"}

    # -- cleaning

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for part in self.parts:
            if isinstance(part, AgePart) and part.name in self.fields:
                part.check(self)
        # A mandatory item made of several parts needs one of them.
        by_item: dict[str, list[Part]] = {}
        for part in self.parts:
            if part.name in self.fields and not self.fields[part.name].disabled:
                by_item.setdefault(part.item.id, []).append(part)
        for item_parts in by_item.values():
            item = item_parts[0].item
            if len(item_parts) > 1 and item.requirement.level == RequirementLevel.MANDATORY and all(
                    _blank(part.value(cleaned)) for part in item_parts):
                self.add_error(item_parts[0].name, _("« %(label)s » est obligatoire.") % {"label": item.label})
        self._clean_diagnosis(cleaned)
        self._clean_ipp(cleaned)
        return cleaned

    def _clean_diagnosis(self, cleaned: dict[str, Any]) -> None:
        if self.section.model is not Diagnosis or "disease" not in self.fields or self.fields["disease"].disabled:
            return
        status = cleaned.get("status") or ""
        if not cleaned.get("disease") and "disease" not in self.errors and status.partition("|")[0] \
                not in STATUSES_WITHOUT_CODE:
            self.add_error("disease", _("Le code de la maladie est obligatoire (il peut manquer tant que le "
                                        "diagnostic est en cours ou indéterminé)."))

    def _clean_ipp(self, cleaned: dict[str, Any]) -> None:
        ipp = cleaned.get("ipp")
        if not ipp or "ipp" not in self.fields or self.fields["ipp"].disabled or not isinstance(self.instance, Patient):
            return
        others = Patient.objects.filter(hospital_id=self.instance.hospital_id, ipp=ipp).exclude(pk=self.instance.pk)
        if others.exists():
            self.add_error("ipp", _("Cet IPP est déjà celui d'un autre dossier de l'établissement."))

    # -- values and saving

    def editable_parts(self) -> list[Part]:
        return [p for p in self.parts if p.name in self.fields and not self.fields[p.name].disabled]

    def values(self) -> dict[str, Any]:
        """The typed values under the attribute names of the validation RecordData."""
        values: dict[str, Any] = {}
        signs: list[Code] | None = None
        for part in self.parts:
            editable = part.name in self.fields and not self.fields[part.name].disabled
            if isinstance(part, TermListPart) and part.kind_value:
                # Clinical signs of every kind are one list for the validation layer; the
                # kinds not typed here (retired items) are kept as they are.
                kept = part.value(self.cleaned_data) if editable else [
                    t.code for t in part.initial(self.instance)[part.name] if t.code]
                signs = (signs or []) + kept
                continue
            if not editable:
                continue
            value = part.value(self.cleaned_data)
            if value is _UNKNOWN_LOCAL:
                value = getattr(self.instance, part.model_field.attname)
            if part.name == "site" and value:
                value = _site_model().objects.filter(pk=value).values_list("code", flat=True).first()
            values[part.name] = value
        if signs is not None:
            values["signs"] = signs
        return values

    def save(self, instance: models.Model | None = None) -> dict[str, Any]:
        """Write the values into the row (and its child rows); returns the audit changes."""
        obj = instance or self.instance
        before = copy.copy(obj) if obj.pk else None
        child_before = {p.name: p.snapshot(obj) for p in self.editable_parts() if p.child()}
        for part in self.editable_parts():
            part.write(obj, part.value(self.cleaned_data))
        if self.section.key == "foetus" and obj.pk is None:
            obj.pregnancy_id = int(self.cleaned_data["pregnancy"])
        changes = trail.diff(before, obj)
        changes.pop("field_sources", None)
        # Provenance of the fields changed in an existing row (a new row is all « web »):
        # a value the EHR wrote and the user corrected is marked « web », so that later
        # documents keep it (connected mode, bamara.intake.provenance).
        if before is not None and hasattr(obj, "field_sources"):
            provenance.record_web_edit(obj, [p.name for p in self.editable_parts() if not p.child() and any(
                _attname(obj, c) in changes for c in p.columns)])
        if obj.pk is None and hasattr(obj, "source"):
            obj.source = Source.WEB
        obj.save()
        for part in self.editable_parts():
            if part.child():
                part.write_children(obj, part.value(self.cleaned_data), self.cleaned_data)
                after = part.snapshot(obj)
                if after != child_before.get(part.name):
                    changes[part.name] = [child_before.get(part.name), after]
                    if before is not None and hasattr(obj, "field_sources"):
                        provenance.record_web_edit(obj, [part.name])
        if before is not None and any(p.child() for p in self.editable_parts()) and hasattr(obj, "field_sources"):
            type(obj).objects.filter(pk=obj.pk).update(field_sources=obj.field_sources)
        return changes

    # -- templates

    def fieldsets(self) -> list[Fieldset]:
        d = sdm_definition.get(self.version)
        titles = {c.code: (c.title_en if _english() else c.title_fr) for c in d.chapters}
        groups: dict[str, Fieldset] = {}
        entries: dict[str, Entry] = {}
        for part in self.parts:
            if part.name not in self.fields:
                continue
            chapter = part.item.chapter.code
            fieldset = groups.setdefault(chapter, Fieldset(titles.get(chapter, chapter), []))
            entry = entries.get(part.item.id)
            if entry is None:
                entry = Entry(part.item, [], [], retired=not part.item.active)
                entries[part.item.id] = entry
                fieldset.entries.append(entry)
            entry.parts.append(part)
            entry.bound.append([self[name] for name in part.field_names if name in self.fields])
            combobox = part.template in ("combobox", "combobox-list", "orpha")
            entry.current.append(part.display(self.instance) if combobox and not self.is_bound
                                 and self.instance.pk and not part.is_empty(self.instance) else "")
            entry.readonly_note = entry.readonly_note or self.readonly.get(part.name, "")
        self.decorate()
        return list(groups.values())

    def decorate(self) -> None:
        for part in self.parts:
            self._decorate(part)

    def _decorate(self, part: Part) -> None:
        """DSFR classes, error state and the combobox's htmx/ARIA attributes of the widgets."""
        for name in part.field_names:
            if name not in self.fields:
                continue
            bound = self[name]
            widget = self.fields[name].widget
            attrs = widget.attrs
            if isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                attrs["class"] = "fr-select" + (" fr-select--error" if bound.errors else "")
            elif not isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                attrs["class"] = "fr-input" + (" fr-input--error" if bound.errors else "")
            described = [f"{bound.auto_id}-hint"] if bound.help_text else []
            if bound.errors:
                attrs["aria-invalid"] = "true"
                described.append(f"{bound.auto_id}-error")
            kind = attrs.get("data-autocomplete")
            if kind:
                listbox = f"{bound.auto_id}-listbox"
                query = f"champ={bound.html_name}&liste={listbox}" + ("&multiple=1" if attrs.get("data-multiple") else "")
                attrs.update({
                    "aria-controls": listbox, "hx-get": f"{reverse('records:autocomplete', args=[kind])}?{query}",
                    "hx-trigger": "input changed delay:250ms", "hx-target": f"#{listbox}", "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                })
                described.append(f"{bound.auto_id}-choice")
            if described:
                attrs["aria-describedby"] = " ".join(described)

    @classmethod
    def display(cls, obj: models.Model) -> list[dict[str, Any]]:
        """(label, value, requirement, note) of each item of a saved row, for the section view."""
        rows: list[dict[str, Any]] = []
        seen: dict[str, dict[str, Any]] = {}
        for part in cls.parts:
            item = part.item
            if isinstance(part, ColumnPart) and isinstance(part.model_field, models.ForeignKey) \
                    and part.model_field.related_model is Foetus and getattr(obj, part.model_field.attname) is None:
                continue
            empty = part.is_empty(obj)
            if not item.active and empty:
                continue
            text = part.display(obj)
            multi = sum(1 for p in cls.parts if p.item is item) > 1
            if item.id in seen:
                if not empty:
                    seen[item.id]["values"].append((part.label(False), text))
                    seen[item.id]["empty"] = False
                continue
            row = {"item": item, "label": item.label, "requirement": item.requirement.level.value,
                   "retired": not item.active, "empty": empty,
                   "values": [(part.label(False) if multi else "", text)] if not (multi and empty) else []}
            seen[item.id] = row
            rows.append(row)
        return rows


def _blank(value: Any) -> bool:
    return value in (None, "", []) or value == []


def _foetus_label(foetus: Foetus) -> str:
    parts = [_("Fœtus")]
    if foetus.rank:
        parts.append(_("n° %(rank)s") % {"rank": foetus.rank})
    if foetus.local_id:
        parts.append(f"({foetus.local_id})")
    if foetus.given_name:
        parts.append(foetus.given_name)
    return " ".join(parts)


def _pregnancy_label(pregnancy: Pregnancy) -> str:
    start = pregnancy.start_partial
    return _("Grossesse débutée le %(date)s") % {"date": start} if start else _("Grossesse n° %(pk)s") % {
        "pk": pregnancy.pk}


@functools.cache
def _form_class(key: str, version: str, english: bool) -> type[SdmForm]:
    section = SECTIONS_BY_KEY[key]
    parts = build_parts(section, version)
    d = sdm_definition.get(version)
    attrs: dict[str, Any] = {"section": section, "version": version, "parts": parts,
                             "__module__": __name__}
    for part in parts:
        for name, form_field in part.form_fields(d).items():
            form_field.label = form_field.label or part.label(True)
            attrs[name] = form_field
    return type(f"{key.title().replace('-', '')}Form_{version.replace('.', '_')}", (SdmForm,), attrs)


def form_class(key: str, version: str | None = None) -> type[SdmForm]:
    """The generated form of a section for an SDM-MR version (default: the current one).
    Unknown versions fall back to the current one, as the validation layer does."""
    if version not in sdm_definition.versions():
        version = sdm_definition.current_version()
    return _form_class(key, version, _english())


def covered_items(version: str) -> dict[str, list[str]]:
    """item id -> sections whose generated form carries it (for the coverage test)."""
    found: dict[str, list[str]] = {}
    for section in SECTIONS:
        for part in form_class(section.key, version).parts:
            for item in [part.item, *part.extra_items]:
                keys = found.setdefault(item.id, [])
                if section.key not in keys:
                    keys.append(section.key)
    return found

