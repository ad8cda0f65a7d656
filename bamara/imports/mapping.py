"""The mapping file of an import: which source column feeds which SDM-MR item, how source
codes translate into the SDM-MR value sets, and how dates are written.

A mapping is YAML (bamara/imports/mappings/cemara.yaml is a complete example)::

    name: cemara
    csv: {delimiter: ";", encoding: utf-8-sig}
    date_formats: ["%d/%m/%Y", "%Y-%m-%d"]
    site: {column: CENTRE}            # the site code (BNDMR directory); else --site
    source_id: {column: ID_PATIENT}   # the record's identifier in the source database
    patient:
      birth_name: {column: NOM_NAISSANCE}
      sex: {column: SEXE, codes: {F: F, M: M, I: UN}}
    episode: {inclusion_date: {column: DATE_INCLUSION}}
    diagnoses:
      repeat: 3                       # ORPHA_1 .. ORPHA_3
      fields: {disease: {column: "ORPHA_{n}"}, status: {column: "STATUT_{n}", codes: {...}}}

Targets are a fixed list (TARGETS) bound to SDM-MR items: the item's requirement level says
whether a missing value is an error (mandatory) or a warning (recommended), and coded targets
are checked against the item's value set when the mapping is loaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bamara.sdm import definition
from bamara.sdm.schema import RequirementLevel

MAPPINGS_DIR = Path(__file__).parent / "mappings"

Kind = Literal["text", "date", "partial_date", "code", "orpha", "bool"]


@dataclass(frozen=True)
class Target:
    item: str  # SDM-MR item id
    kind: Kind
    max_length: int = 0
    # Needed to write the row at all: a mapping must give its column, a row without it is
    # rejected. Other items the SDM-MR asks for give a warning when missing.
    required: bool = False


# What a mapping may fill, per group. Model field names of bamara.records.models.
TARGETS: dict[str, dict[str, Target]] = {
    "patient": {
        "ipp": Target("ipp", "text", 64),
        "ins": Target("ins", "text", 15),
        "birth_name": Target("nom_naissance", "text", 100, required=True),
        "birth_given_names": Target("prenoms_naissance", "text", 255),
        "first_birth_given_name": Target("premier_prenom_naissance", "text", 100),
        "used_name": Target("nom_utilise", "text", 100),
        "used_given_name": Target("prenom_utilise", "text", 100),
        "birth_date": Target("date_naissance", "partial_date", required=True),
        "sex": Target("sexe", "code", required=True),
        "birth_commune": Target("lieu_naissance", "text", 5),
        "postal_code": Target("adresse_residence", "text", 10),
        "residence_commune": Target("adresse_residence", "text", 5),
        "deceased": Target("statut_vital", "bool"),
        "death_date": Target("date_deces", "partial_date"),
        "opposition": Target("opposition_bndmr", "bool"),
    },
    "episode": {
        "inclusion_date": Target("date_inclusion", "partial_date", required=True),
        "referent_name": Target("medecin_referent", "text", 200),
        "encounter_type": Target("pec_type", "code"),
    },
    "diagnoses": {
        "disease": Target("diagnostic_code", "orpha", required=True),
        "status": Target("statut_diagnostic", "code", required=True),
        "date": Target("diagnostic_date", "partial_date"),
        "comment": Target("diagnostic_commentaire", "text"),
    },
    "activities": {
        "date": Target("activite_date", "date", required=True),
        "context": Target("activite_contexte", "code", required=True),
        "context_detail": Target("activite_contexte_precision", "text", 255),
        "performer_name": Target("activite_intervenant", "text", 200),
    },
}


class MappingError(ValueError):
    """A mapping file that cannot be used; ``errors`` lists every problem, in French."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("correspondance invalide :\n- " + "\n- ".join(errors))
        self.errors = errors


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Spec):
    column: str = Field(min_length=1)
    codes: dict[str, str] = Field(default_factory=dict)

    @field_validator("codes", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # YAML reads 1: 1 as integers: codes are text.
        if isinstance(value, dict):
            return {str(k).strip().casefold(): str(v).strip() for k, v in value.items()}
        return value


class Repeated(_Spec):
    repeat: int = Field(default=1, ge=1, le=50)
    fields: dict[str, Column]


class CsvOptions(_Spec):
    delimiter: str = Field(default=";", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"


class MappingSpec(_Spec):
    name: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    label: str = ""
    csv: CsvOptions = CsvOptions()
    date_formats: list[str] = Field(default_factory=lambda: ["%d/%m/%Y", "%Y-%m-%d"], min_length=1)
    site: Column | None = None
    source_id: Column
    patient: dict[str, Column]
    episode: dict[str, Column] = Field(default_factory=dict)
    diagnoses: Repeated | None = None
    activities: Repeated | None = None

    @model_validator(mode="after")
    def _dates(self) -> MappingSpec:
        for fmt in self.date_formats:
            if not ("%Y" in fmt and "%m" in fmt and "%d" in fmt):
                raise ValueError(f"format de date {fmt!r} : il faut %d, %m et %Y")
        return self


@dataclass(frozen=True)
class Mapping:
    spec: MappingSpec
    sha256: str

    @property
    def name(self) -> str:
        return self.spec.name

    def groups(self) -> dict[str, dict[str, Column]]:
        return {"patient": self.spec.patient, "episode": self.spec.episode}

    def repeated(self) -> dict[str, Repeated]:
        found = {"diagnoses": self.spec.diagnoses, "activities": self.spec.activities}
        return {k: v for k, v in found.items() if v is not None}

    def columns(self) -> list[str]:
        """Every source column the mapping reads (what the content hash covers)."""
        names = [c.column for c in (self.spec.site, self.spec.source_id) if c is not None]
        for fields in self.groups().values():
            names += [c.column for c in fields.values()]
        for group in self.repeated().values():
            for n in range(1, group.repeat + 1):
                names += [c.column.replace("{n}", str(n)) for c in group.fields.values()]
        return list(dict.fromkeys(names))


def requirement(target: Target) -> RequirementLevel:
    return definition.current().item(target.item).requirement.level


def value_set_codes(target: Target) -> dict[str, str]:
    """The codes allowed for a coded target, {code: code system}."""
    d = definition.current()
    vs = d.value_set_for(d.item(target.item))
    return {c.code: c.system for c in vs.codes} if vs is not None else {}


def _check(spec: MappingSpec) -> list[str]:
    errors: list[str] = []
    groups: dict[str, dict[str, Column]] = {"patient": spec.patient, "episode": spec.episode}
    for key in ("diagnoses", "activities"):
        group = getattr(spec, key)
        if group is not None:
            groups[key] = group.fields
            if group.repeat > 1:
                errors += [f"{key}.{name} : la colonne {col.column!r} doit contenir {{n}} "
                           f"(repeat: {group.repeat})"
                           for name, col in group.fields.items() if "{n}" not in col.column]
    for group, fields in groups.items():
        targets = TARGETS[group]
        for name, column in fields.items():
            target = targets.get(name)
            if target is None:
                errors.append(f"{group}.{name} : cible inconnue (possibles : {', '.join(targets)})")
                continue
            if column.codes and target.kind != "code":
                errors.append(f"{group}.{name} : « codes » ne vaut que pour un élément codé")
            if target.kind == "code":
                allowed = value_set_codes(target)
                bad = sorted({v for v in column.codes.values() if v not in allowed})
                if bad:
                    errors.append(f"{group}.{name} : code(s) {', '.join(bad)} absent(s) du jeu de "
                                  f"valeurs de l'élément {target.item} ({', '.join(allowed)})")
        # The items a row cannot be written without, in every group that is mapped at all.
        if fields or group == "patient":
            errors += [f"{group}.{name} : élément obligatoire du SDM-MR ({t.item}) sans colonne"
                       for name, t in targets.items() if t.required and name not in fields]
    return errors


def parse(text: str) -> Mapping:
    """Read and check a mapping; ``MappingError`` lists every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError([f"YAML illisible : {exc}"]) from None
    if not isinstance(data, dict):
        raise MappingError(["la correspondance doit être un dictionnaire YAML"])
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        raise MappingError([
            f"{'.'.join(str(p) for p in err['loc']) or '(racine)'} : {err['msg']}"
            for err in exc.errors()
        ]) from None
    errors = _check(spec)
    if errors:
        raise MappingError(errors)
    return Mapping(spec, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load(path: str | Path) -> Mapping:
    """A mapping file, or a bundled mapping by name ("cemara")."""
    candidate = Path(path)
    if not candidate.exists() and (MAPPINGS_DIR / f"{path}.yaml").exists():
        candidate = MAPPINGS_DIR / f"{path}.yaml"
    try:
        text = candidate.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError([f"fichier de correspondance illisible : {exc}"]) from None
    return parse(text)


def bundled() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
