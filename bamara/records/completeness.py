"""How complete a record is: the share of the mandatory and of the recommended SDM-MR items
that are filled, counting only what applies to the record.

    from bamara.records.completeness import completeness, completeness_many
    c = completeness(patient)          # Completeness(mandatory 12/14, recommended 3/7, ...)
    c.mandatory_percent, c.recommended_percent, c.missing
    completeness_many(patients)        # {pk: Completeness}, prefetched in bulk (dashboards)

Counting, from the definition of the record's SDM-MR version (user-entered, stored, active
items): every (item, row) pair counts once — one row for record items, one per care episode,
activity, diagnosis, pregnancy and foetus for the items of those scopes. A record without any
diagnosis (or activity, or care episode) misses each mandatory item of that group once.
Conditional items count as mandatory when their condition holds (``CONDITIONS``: death items
if deceased, opposition date if the patient objects, foetus items for each foetus...), and
are left out otherwise. SDM-G, SDM-T and the items of other apps (hospital, site) are not
counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from bamara.sdm import definition as sdm_definition
from bamara.sdm import oids, storage
from bamara.sdm.schema import Item, RequirementLevel

from .models import Patient
from .validation.checks import AGE_POSTNATAL, CONTEXT_OTHER
from .validation.data import PREFETCH

# Scopes counted, and the rows of a record they apply to.
ROWS: dict[str, Callable[[Patient], list[Any]]] = {
    "record": lambda p: [p],
    "care_episode": lambda p: list(p.care_episodes.all()),
    "activity": lambda p: list(p.activities.all()),
    "diagnosis": lambda p: list(p.diagnoses.all()),
    "pregnancy": lambda p: list(p.pregnancies.all()),
    "foetus": lambda p: [f for pregnancy in p.pregnancies.all() for f in pregnancy.foetuses.all()],
}
# Repeating groups a record must have at least one of (1..*).
REQUIRED_GROUPS = {"care_episode", "activity", "diagnosis"}

_POSTNATAL = AGE_POSTNATAL.code
_TERMINATIONS = {"IMG", "ISG"}
_TERMINATION_OUTCOMES = {"O04", "O04.-0"}


def _postnatal(prefix: str) -> Callable[[Patient, Any], bool]:
    return lambda patient, row: getattr(row, f"{prefix}_code") == _POSTNATAL


def _interrupted(patient: Patient, foetus: Any) -> bool:
    return foetus.termination_type in _TERMINATIONS or foetus.outcome_code in _TERMINATION_OUTCOMES


# Conditional items that count (as mandatory) when the condition holds for the row.
CONDITIONS: dict[str, Callable[[Patient, Any], bool]] = {
    "opposition_date": lambda patient, row: bool(patient.opposition),
    "date_deces": lambda patient, row: patient.deceased is True,
    "deces_lie_mr": lambda patient, row: patient.deceased is True,
    "prenoms_naissance": lambda patient, row: bool(patient.ins),
    "lieu_naissance": lambda patient, row: bool(patient.ins),
    "ipp": lambda patient, row: patient.capture_mode == "connecte",
    "mere_identite": lambda patient, row: patient.is_foetus,
    "premier_cas_id": lambda patient, row: bool(patient.first_case_relation_code),
    "premier_cas_maladie": lambda patient, row: bool(patient.first_case_relation_code),
    "age_premiers_signes_precision": _postnatal("onset_age"),
    "age_diag_clinique_precision": _postnatal("clinical_diagnosis_age"),
    "age_diag_genetique_precision": _postnatal("genetic_diagnosis_age"),
    "activite_contexte_precision": lambda patient, row: (row.context_code, row.context_system) == (
        CONTEXT_OTHER.code, CONTEXT_OTHER.system),
    "grossesse_periode": lambda patient, row: True,
    "grossesse_nb_foetus": lambda patient, row: True,
    "grossesse_amp": lambda patient, row: True,
    "foetus_identite": lambda patient, row: True,
    "ipp_foetus": lambda patient, row: True,
    "issue_grossesse": lambda patient, row: row.pregnancy.end is not None,
    "foetus_age_gestationnel": _interrupted,
    "foetopathologie": _interrupted,
}
# Items that do not apply to a foetus record (traits of a born person).
NOT_FOR_FOETUS = {"ins", "premier_prenom_naissance", "adresse_residence", "patient_informed"}


@dataclass(frozen=True)
class Missing:
    item_id: str
    label: str
    where: str  # "" for the record, else e.g. "diagnostic n° 2"
    level: str  # mandatory | recommended


@dataclass(frozen=True)
class Completeness:
    mandatory_filled: int = 0
    mandatory_total: int = 0
    recommended_filled: int = 0
    recommended_total: int = 0
    missing: tuple[Missing, ...] = field(default_factory=tuple)

    @property
    def mandatory_percent(self) -> int:
        return _percent(self.mandatory_filled, self.mandatory_total)

    @property
    def recommended_percent(self) -> int:
        return _percent(self.recommended_filled, self.recommended_total)

    @property
    def missing_mandatory(self) -> list[Missing]:
        return [m for m in self.missing if m.level == "mandatory"]

    @property
    def missing_recommended(self) -> list[Missing]:
        return [m for m in self.missing if m.level == "recommended"]


def _percent(filled: int, total: int) -> int:
    # Rounded down: a record is at 100 % only when nothing is missing.
    return 100 if total == 0 else filled * 100 // total


def counted_items(version: str) -> list[tuple[Item, str]]:
    """(item, level) of the items counted in a version: mandatory and recommended items, and
    the conditional ones of CONDITIONS (counted as mandatory when they apply)."""
    d = sdm_definition.get(version)
    found = []
    for item in d.active_items():
        if item.entry != "user" or not item.stored or item.scope not in ROWS:
            continue
        level = item.requirement.level
        if level in (RequirementLevel.MANDATORY, RequirementLevel.RECOMMENDED):
            found.append((item, level.value))
        elif level == RequirementLevel.CONDITIONAL and item.id in CONDITIONS:
            found.append((item, RequirementLevel.MANDATORY.value))
    return found


def _filled(item: Item, row: Any) -> bool | None:
    """Whether the item has a value in the row; None when it is not stored in that row."""
    if item.id == "opposition_bndmr":
        # A plain yes/no that defaults to « no »: asked once the patient was informed (for a
        # foetus, the mother was).
        return bool(row.opposition) or row.patient_informed is not None or row.is_foetus
    found: bool | None = None
    for bound in storage.fields_for(item):
        if bound.model is type(row):
            value = getattr(row, bound.field.attname)
            found = bool(found) or value not in (None, "")
        else:
            related = _related_name(bound.model, type(row))
            if related is None:
                continue
            children = list(getattr(row, related).all())
            if bound.model.__name__ == "ClinicalSign":
                children = [c for c in children if c.kind == "description"]
            found = bool(found) or bool(children)
    return found


def _related_name(child: type[models.Model], parent: type[models.Model]) -> str | None:
    for f in child._meta.fields:
        if isinstance(f, models.ForeignKey) and f.related_model is parent:
            return f.remote_field.get_accessor_name()
    return None


def _where(scope: str, index: int, row: Any) -> str:
    names = {"care_episode": _("prise en charge"), "activity": _("activité"), "diagnosis": _("diagnostic"),
             "pregnancy": _("grossesse"), "foetus": _("fœtus")}
    if scope == "record":
        return ""
    if scope == "care_episode" and row is not None:
        return f"{names[scope]} {row.site.code}"
    if scope == "diagnosis" and row is not None and row.disease_code:
        prefix = "ORPHA:" if row.disease_system == oids.ORPHA else ""
        return f"{names[scope]} {prefix}{row.disease_code}"
    return f"{names[scope]} n° {index + 1}"


def completeness(patient: Patient, sites: Iterable[Any] | None = None) -> Completeness:
    """Completeness of one record (loads its children unless already prefetched). With
    ``sites``, only the care episodes and activities of those sites count: what a user of
    those sites may see of the record."""
    prefetch_related_objects([patient], *PREFETCH)
    version = patient.sdm_version if patient.sdm_version in sdm_definition.versions() else (
        sdm_definition.current_version())
    counts = {"mandatory": [0, 0], "recommended": [0, 0]}
    missing: list[Missing] = []
    rows_by_scope = {scope: rows(patient) for scope, rows in ROWS.items()}
    if sites is not None:
        site_ids = {site.pk for site in sites}
        for scope in ("care_episode", "activity"):
            rows_by_scope[scope] = [row for row in rows_by_scope[scope] if row.site_id in site_ids]
    for item, level in counted_items(version):
        if patient.is_foetus and item.id in NOT_FOR_FOETUS:
            continue
        rows = rows_by_scope[item.scope]
        if not rows and item.scope in REQUIRED_GROUPS and level == "mandatory" and item.id not in CONDITIONS:
            counts[level][1] += 1
            missing.append(Missing(item.id, item.label, _where(item.scope, 0, None), level))
            continue
        for index, row in enumerate(rows):
            condition = CONDITIONS.get(item.id)
            if condition is not None and not condition(patient, row):
                continue
            filled = _filled(item, row)
            if filled is None:
                continue
            counts[level][1] += 1
            if filled:
                counts[level][0] += 1
            else:
                missing.append(Missing(item.id, item.label, _where(item.scope, index, row), level))
    return Completeness(counts["mandatory"][0], counts["mandatory"][1], counts["recommended"][0],
                        counts["recommended"][1], tuple(missing))


def completeness_many(patients: QuerySet[Patient] | Iterable[Patient]) -> dict[int, Completeness]:
    """Completeness of many records, with their children prefetched in bulk."""
    if isinstance(patients, QuerySet):
        patients = patients.prefetch_related(*PREFETCH)
    return {patient.pk: completeness(patient) for patient in patients}
