"""Typed objects of the SDM-MR definition.

Two layers:

- ``*Spec`` models mirror the YAML files of ``bamara/sdm/definitions`` one to one. They are
  strict (unknown keys and wrong types are refused) so that a typo in a definition file is
  an error at load time, never a silently ignored value.
- The resolved, immutable objects (``Item``, ``ValueSet``, ``Concept``...) are what the rest of
  the project uses, one set per SDM-MR version (see ``registry.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import oids

VERSION_PATTERN = r"^\d{4}\.\d{2}$"
Version = Annotated[str, Field(pattern=VERSION_PATTERN)]


class ItemType(StrEnum):
    STRING = "string"
    TEXT = "text"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    QUANTITY = "quantity"
    DATE = "date"
    PARTIAL_DATE = "partial_date"
    DATETIME = "datetime"
    CODE = "code"  # a code of the item's value set
    CODED = "coded"  # a code + its code system, from one of the item's terminologies
    IDENTIFIER = "identifier"
    AGE_CLASS = "age_class"
    PERSON = "person"
    ADDRESS = "address"
    GROUP = "group"
    DERIVED = "derived"
    MODULE = "module"


class RequirementLevel(StrEnum):
    MANDATORY = "mandatory"
    RECOMMENDED = "recommended"
    OPTIONAL = "optional"
    CONDITIONAL = "conditional"


Scope = Literal[
    "record",
    "care_episode",
    "activity",
    "diagnosis",
    "pregnancy",
    "foetus",
    "variant",
    "drug_programme",
    "drug_visit",
    "site",
    "document",
]
Confidence = Literal["confirmed", "inferred"]
Entry = Literal["user", "system", "derived"]
Channel = Literal["cda_and_web", "web_only"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Resolved(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- shared parts


class Cardinality(_Resolved):
    min: int
    max: int | None  # None = unbounded ("*")

    @classmethod
    def parse(cls, text: str) -> Cardinality:
        match = re.fullmatch(r"(\d+)\.\.(\d+|\*)", text.strip())
        if not match:
            raise ValueError(
                f"cardinalité invalide {text!r} (attendu « min..max », max entier ou *)"
            )
        low, high = int(match.group(1)), match.group(2)
        upper = None if high == "*" else int(high)
        if upper is not None and (upper < low or upper == 0):
            raise ValueError(f"cardinalité invalide {text!r}")
        return cls(min=low, max=upper)

    @property
    def repeating(self) -> bool:
        return self.max is None or self.max > 1

    def __str__(self) -> str:
        return f"{self.min}..{'*' if self.max is None else self.max}"


class Requirement(_Spec):
    level: RequirementLevel
    condition_fr: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shortcut(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"level": data}
        return data

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return RequirementLevel(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _condition(self) -> Requirement:
        if self.level == RequirementLevel.CONDITIONAL and not self.condition_fr:
            raise ValueError("une exigence « conditional » doit donner sa condition (condition_fr)")
        if self.level != RequirementLevel.CONDITIONAL and self.condition_fr:
            raise ValueError("condition_fr n'a de sens que pour une exigence « conditional »")
        return self

    @property
    def csv_label(self) -> str:
        """yes / no / recommended / conditional (the `mandatory` column of sdm_items)."""
        return {
            RequirementLevel.MANDATORY: "yes",
            RequirementLevel.OPTIONAL: "no",
            RequirementLevel.RECOMMENDED: "recommended",
            RequirementLevel.CONDITIONAL: "conditional",
        }[self.level]

    @property
    def label_fr(self) -> str:
        text = {
            RequirementLevel.MANDATORY: "obligatoire",
            RequirementLevel.OPTIONAL: "facultatif",
            RequirementLevel.RECOMMENDED: "recommandé",
            RequirementLevel.CONDITIONAL: "conditionnel",
        }[self.level]
        return f"{text} ({self.condition_fr})" if self.condition_fr else text


class CdaSpec(_Spec):
    code: str | None = None
    system: str | None = None  # oids.py constant name or dotted OID; resolved to an OID
    display: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _check(self) -> CdaSpec:
        if (self.code is None) != (self.system is None):
            raise ValueError("cda : code et system vont ensemble")
        if self.code is None and self.path is None:
            raise ValueError("cda : donner un code (+ system) ou un chemin (path)")
        return self


class Rules(_Spec):
    min: int | float | None = None
    max: int | float | None = None
    unit: str | None = None  # UCUM unit of a quantity (g, cm, wk, mo, a)
    units: tuple[str, ...] | None = None  # several allowed units
    pattern: str | None = None  # regular expression the whole value must match
    max_length: int | None = None

    @field_validator("units", mode="before")
    @classmethod
    def _units(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"expression régulière invalide {value!r} : {exc}") from exc
        return value

    @model_validator(mode="after")
    def _bounds(self) -> Rules:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("rules : min > max")
        if self.unit and self.units:
            raise ValueError("rules : donner unit ou units, pas les deux")
        return self

    @property
    def allowed_units(self) -> tuple[str, ...]:
        return self.units or ((self.unit,) if self.unit else ())


def _as_tuple(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


# --------------------------------------------------------------------------- YAML specs


class ItemOverride(_Spec):
    """Per-version differences of an item (keys of ``versions:``)."""

    label_fr: str | None = None
    label_en: str | None = None
    definition_fr: str | None = None
    type: ItemType | None = None
    cardinality: str | None = None
    requirement: Requirement | None = None
    value_set: str | None = None
    component_value_sets: dict[str, str] | None = None
    terminologies: tuple[str, ...] | None = None
    cda: CdaSpec | None = None
    rules: Rules | None = None
    channel: Channel | None = None

    @field_validator("terminologies", mode="before")
    @classmethod
    def _tuples(cls, value: Any) -> Any:
        return _as_tuple(value)

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return ItemType(value) if isinstance(value, str) else value


class ItemSpec(_Spec):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    chapter: str
    scope: Scope
    label_fr: str
    label_en: str
    definition_fr: str
    type: ItemType
    cardinality: str
    requirement: Requirement
    value_set: str | None = None
    component_value_sets: dict[str, str] = Field(default_factory=dict)
    terminologies: tuple[str, ...] = ()
    cda: CdaSpec | None = None
    rules: Rules | None = None
    entry: Entry = "user"
    channel: Channel = "cda_and_web"
    since: Version | None = None
    retired_in: Version | None = None
    confidence: Confidence
    sources: tuple[str, ...]
    jrc_cde: str | None = None
    storage: tuple[str, ...] | None = None
    not_stored: str | None = None
    versions: dict[Version, ItemOverride] = Field(default_factory=dict)

    @field_validator("terminologies", "sources", "storage", mode="before")
    @classmethod
    def _tuples(cls, value: Any) -> Any:
        return _as_tuple(value)

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return ItemType(value) if isinstance(value, str) else value

    @field_validator("cardinality")
    @classmethod
    def _cardinality(cls, value: str) -> str:
        Cardinality.parse(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> ItemSpec:
        if (self.storage is None) == (self.not_stored is None):
            raise ValueError("donner soit storage (champs du modèle), soit not_stored (raison)")
        if self.storage is not None:
            for ref in self.storage:
                if not re.fullmatch(r"[a-z_]+\.[A-Za-z]+\.[a-z_0-9]+", ref):
                    raise ValueError(f"storage {ref!r} : attendu « app.Modèle.champ »")
        if self.not_stored is not None and not self.not_stored.strip():
            raise ValueError("not_stored doit donner une raison")
        if not self.sources:
            raise ValueError("au moins une source")
        return self


class ChapterSpec(_Spec):
    code: Annotated[str, Field(pattern=r"^(C\d{2}|X\d)$")]
    title_fr: str
    title_en: str
    extension: bool = False


class VersionSpec(_Spec):
    version: Version
    label_fr: str
    kit: Literal["2.41", "3.0"]
    reference_date: dt.date | None
    template_extension: str
    current: bool = False
    notes_fr: str = ""


class SourceSpec(_Spec):
    title: str
    url: str


class LocalCodeSpec(_Spec):
    code: str
    label_fr: str
    since: Version | None = None
    retired_in: Version | None = None
    stored_value: bool | int | str | None = None


class LocalValueSetSpec(_Spec):
    name_fr: str
    source: str
    confidence: Confidence
    codes: tuple[LocalCodeSpec, ...]

    @field_validator("codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class AnsValueSetSpec(_Spec):
    name_fr: str
    superseded_by: str | None = None
    retired_in: Version | None = None  # no SDM version uses it from that version on


class ValueSetsFileSpec(_Spec):
    ans: dict[str, AnsValueSetSpec]
    local: dict[Annotated[str, Field(pattern=r"^bamara:[a-z0-9-]+$")], LocalValueSetSpec]


class CodeRefSpec(_Spec):
    code: str
    system: str
    label_fr: str | None = None  # required when the code is in no bundled file


class ConceptSpec(_Spec):
    canonical: CodeRefSpec
    previous: tuple[CodeRefSpec, ...] = ()
    kind: Literal["same", "broader"] = "same"
    retired_in: Version | None = None
    confidence: Confidence = "confirmed"
    note: str = ""

    @field_validator("previous", mode="before")
    @classmethod
    def _previous(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class RetiredCodeSpec(_Spec):
    code: str
    system: str
    note: str
    label_fr: str | None = None
    retired_in: Version | None = None


class ConceptFamilySpec(_Spec):
    concepts: tuple[ConceptSpec, ...] = ()
    retired: tuple[RetiredCodeSpec, ...] = ()

    @field_validator("concepts", "retired", mode="before")
    @classmethod
    def _tuples(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class ConceptsFileSpec(_Spec):
    value_sets: dict[str, ConceptFamilySpec]


# --------------------------------------------------------------------------- resolved


class CdaCode(_Resolved):
    code: str | None = None
    system: str | None = None  # OID
    display: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.code:
            parts.append(f"{self.code} ({oids.NAMES.get(self.system or '', self.system)})")
        if self.path:
            parts.append(self.path)
        return " ; ".join(parts)


class Chapter(_Resolved):
    code: str
    title_fr: str
    title_en: str
    extension: bool = False

    def __str__(self) -> str:
        return f"{self.code} {self.title_fr}"


class Item(_Resolved):
    """One SDM-MR item as it is in one version."""

    id: str
    version: str
    chapter: Chapter
    scope: Scope
    label_fr: str
    label_en: str
    definition_fr: str
    type: ItemType
    cardinality: Cardinality
    requirement: Requirement
    value_set: str | None
    component_value_sets: dict[str, str]
    terminologies: tuple[str, ...]  # code-system OIDs
    cda: CdaCode | None
    rules: Rules | None
    entry: Entry
    channel: Channel
    since: str
    retired_in: str | None
    confidence: Confidence
    sources: tuple[str, ...]
    jrc_cde: str | None
    storage: tuple[str, ...]
    not_stored: str | None

    @property
    def active(self) -> bool:
        """Collected in this version (False: kept only to read older records)."""
        return self.retired_in is None or self.version < self.retired_in

    @property
    def status(self) -> Literal["active", "retired"]:
        return "active" if self.active else "retired"

    @property
    def stored(self) -> bool:
        return bool(self.storage)

    @property
    def label(self) -> str:
        """The label in the active language (French unless English is active)."""
        from django.utils import translation

        return self.label_en if (translation.get_language() or "fr").startswith("en") else self.label_fr

    def __str__(self) -> str:
        return f"{self.id} ({self.version})"


class ValueSetCode(_Resolved):
    code: str
    system: str
    label_fr: str
    date_valid: dt.date | None = None
    date_fin: dt.date | None = None
    stored_value: bool | int | str | None = None


class ValueSet(_Resolved):
    """The codes of a value set allowed in one SDM-MR version."""

    oid: str
    name_fr: str
    version: str
    origin: Literal["ans", "local"]
    kit: str | None = None  # ANS test kit the codes come from
    filename: str | None = None
    revision_date: dt.datetime | None = None
    source: str = ""
    codes: tuple[ValueSetCode, ...]

    def get(self, code: str, system: str | None = None) -> ValueSetCode | None:
        for entry in self.codes:
            if entry.code == code and (system is None or entry.system == system):
                return entry
        return None

    def contains(self, code: str, system: str | None = None) -> bool:
        return self.get(code, system) is not None

    def __len__(self) -> int:
        return len(self.codes)


class Concept(_Resolved):
    """A canonical stored concept: the newest code of a value-set entry and its system."""

    value_set: str  # OID of the canonical (newest) value set
    code: str
    system: str
    label_fr: str
    current: bool  # in the value set of the current SDM version
    retired_in: str | None = None
    previous: tuple[tuple[str, str], ...] = ()  # (code, system) of older codes
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.system)


class Mapping(_Resolved):
    """How a code read from any version maps to its canonical concept."""

    code: str
    system: str
    concept: Concept
    kind: Literal["identity", "same", "broader", "retired"]

    @property
    def exact(self) -> bool:
        return self.kind != "broader"


def to_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
