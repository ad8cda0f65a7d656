"""Completeness of a whole site, in SQL: per SDM item, and the records missing a mandatory item.

The same counting as ``bamara.records.completeness`` (the record page), computed with one
aggregate query per SDM version and row scope instead of loading every record: which items
count, at which level, comes from ``counted_items``; where each item is stored from the
definition's ``storage:`` bindings; only the conditions of ``CONDITIONS`` (Python lambdas
there) are restated here as ``Q`` objects. tests/quality/test_completeness_sql.py checks both
give the same answer on demo records, so a change on one side cannot drift unnoticed.

As on the record page seen from one site, only the care episode and the activities of that
site count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from bamara.organisations.models import Site
from bamara.records import completeness as record_completeness
from bamara.records.completeness import NOT_FOR_FOETUS, REQUIRED_GROUPS, counted_items
from bamara.records.models import (
    Activity,
    CareEpisode,
    ClinicalSign,
    Diagnosis,
    Foetus,
    Patient,
    Pregnancy,
)
from bamara.records.validation.checks import AGE_POSTNATAL, CONTEXT_OTHER
from bamara.sdm import definition as sdm_definition
from bamara.sdm import storage
from bamara.sdm.schema import Item

SCOPE_MODELS: dict[str, type[models.Model]] = {
    "care_episode": CareEpisode,
    "activity": Activity,
    "diagnosis": Diagnosis,
    "pregnancy": Pregnancy,
    "foetus": Foetus,
}
# Path from a row of each scope to its patient.
PATIENT_PATH = {"record": "", "care_episode": "patient__", "activity": "patient__", "diagnosis": "patient__",
                "pregnancy": "patient__", "foetus": "pregnancy__patient__"}
_TERMINATIONS = ["IMG", "ISG"]
_TERMINATION_OUTCOMES = ["O04", "O04.-0"]


def _postnatal(prefix: str) -> Callable[[str], Q]:
    return lambda p: Q(**{f"{prefix}_code": AGE_POSTNATAL.code})


# The conditions of records.completeness.CONDITIONS, on a row of the item's scope; `p` is the
# path from that row to its patient.
CONDITIONS: dict[str, Callable[[str], Q]] = {
    "opposition_date": lambda p: Q(**{f"{p}opposition": True}),
    "date_deces": lambda p: Q(**{f"{p}deceased": True}),
    "deces_lie_mr": lambda p: Q(**{f"{p}deceased": True}),
    "prenoms_naissance": lambda p: Q(**{f"{p}ins__gt": ""}),
    "lieu_naissance": lambda p: Q(**{f"{p}ins__gt": ""}),
    "ipp": lambda p: Q(**{f"{p}capture_mode": "connecte"}),
    "mere_identite": lambda p: Q(**{f"{p}is_foetus": True}),
    "premier_cas_id": lambda p: Q(**{f"{p}first_case_relation_code__gt": ""}),
    "premier_cas_maladie": lambda p: Q(**{f"{p}first_case_relation_code__gt": ""}),
    "age_premiers_signes_precision": _postnatal("onset_age"),
    "age_diag_clinique_precision": _postnatal("clinical_diagnosis_age"),
    "age_diag_genetique_precision": _postnatal("genetic_diagnosis_age"),
    "activite_contexte_precision": lambda p: Q(context_code=CONTEXT_OTHER.code,
                                               context_system=CONTEXT_OTHER.system),
    "grossesse_periode": lambda p: Q(),
    "grossesse_nb_foetus": lambda p: Q(),
    "grossesse_amp": lambda p: Q(),
    "foetus_identite": lambda p: Q(),
    "ipp_foetus": lambda p: Q(),
    "issue_grossesse": lambda p: Q(pregnancy__end__isnull=False),
    "foetus_age_gestationnel": lambda p: Q(termination_type__in=_TERMINATIONS)
    | Q(outcome_code__in=_TERMINATION_OUTCOMES),
    "foetopathologie": lambda p: Q(termination_type__in=_TERMINATIONS)
    | Q(outcome_code__in=_TERMINATION_OUTCOMES),
}
assert set(CONDITIONS) == set(record_completeness.CONDITIONS), "conditions out of step with records"


@dataclass
class ItemCompleteness:
    item_id: str
    label: str
    chapter: str
    level: str  # mandatory | recommended
    filled: int = 0
    total: int = 0

    @property
    def percent(self) -> int | None:
        return None if self.total == 0 else self.filled * 100 // self.total

    @property
    def missing(self) -> int:
        return self.total - self.filled


@dataclass
class SiteCompleteness:
    patients: int
    items: list[ItemCompleteness]

    def totals(self, level: str) -> tuple[int, int]:
        rows = [i for i in self.items if i.level == level]
        return sum(i.filled for i in rows), sum(i.total for i in rows)

    def percent(self, level: str) -> int | None:
        filled, total = self.totals(level)
        return None if total == 0 else filled * 100 // total


def _related_name(child: type[models.Model], parent: type[models.Model]) -> str | None:
    for f in child._meta.fields:
        if isinstance(f, models.ForeignKey) and f.related_model is parent:
            return f.name
    return None


def _value_present(field: models.Field) -> Q:
    name = field.attname
    if isinstance(field, models.CharField | models.TextField):
        return Q(**{f"{name}__gt": ""})
    return Q(**{f"{name}__isnull": False})


def filled_q(item: Item, model: type[models.Model]) -> Q | None:
    """Whether the item has a value in a row of `model` (as records.completeness._filled), or
    None when the item is stored neither in that model nor in a child of it."""
    if item.id == "opposition_bndmr":
        return Q(opposition=True) | Q(patient_informed__isnull=False) | Q(is_foetus=True)
    found: Q | None = None
    for bound in storage.fields_for(item):
        if bound.model is model:
            clause = _value_present(bound.field)
        else:
            fk = _related_name(bound.model, model)
            if fk is None:
                continue
            children = bound.model._default_manager.filter(**{fk: OuterRef("pk")})
            if bound.model is ClinicalSign:
                children = children.filter(kind="description")
            clause = Q(Exists(children))
        found = clause if found is None else found | clause
    return found


def _in_version(version: str) -> Q:
    # Records of an unknown version are counted against the current one (as the record page).
    if version == sdm_definition.current_version():
        return Q(sdm_version=version) | ~Q(sdm_version__in=sdm_definition.versions())
    return Q(sdm_version=version)


def _rows(scope: str, patients: QuerySet[Patient], site: Site | None) -> QuerySet:
    """The rows of a scope belonging to `patients` (for a site: its own episode and activities)."""
    model = SCOPE_MODELS[scope]
    rows = model._default_manager.filter(**{f"{PATIENT_PATH[scope]}pk__in": patients.values("pk")})
    if site is not None and scope in ("care_episode", "activity"):
        rows = rows.filter(site=site)
    return rows


def _own_rows(scope: str, site: Site | None) -> QuerySet:
    """The rows of a scope of the patient of the outer query."""
    rows = SCOPE_MODELS[scope]._default_manager.filter(**{f"{PATIENT_PATH[scope]}pk": OuterRef("pk")})
    if site is not None and scope in ("care_episode", "activity"):
        rows = rows.filter(site=site)
    return rows


def _applies(item: Item, scope: str) -> Q:
    path = PATIENT_PATH[scope]
    condition = CONDITIONS[item.id](path) if item.id in CONDITIONS else Q()
    if item.id in NOT_FOR_FOETUS:
        condition &= Q(**{f"{path}is_foetus": False})
    return condition


def _missing_when_empty(item: Item, level: str) -> bool:
    """Mandatory items of a required group count as missing once when the group is empty."""
    return item.scope in REQUIRED_GROUPS and level == "mandatory" and item.id not in CONDITIONS


def _any(clauses: list[Q]) -> Q | None:
    found: Q | None = None
    for clause in clauses:
        found = clause if found is None else found | clause
    return found


def site_completeness(patients: QuerySet[Patient], site: Site | None) -> SiteCompleteness:
    """Per-item completeness of `patients` (e.g. ``access.visible_patients(user, site)``):
    one aggregate query per SDM version for the record, and one per version and row scope."""
    items: dict[tuple[str, str], ItemCompleteness] = {}
    total_patients = 0
    for version in reversed(sdm_definition.versions()):
        group = patients.filter(_in_version(version))
        by_scope: dict[str, list[tuple[Item, str]]] = {}
        for item, level in counted_items(version):
            by_scope.setdefault(item.scope, []).append((item, level))
            items.setdefault((item.id, level), ItemCompleteness(item.id, item.label, item.chapter.code, level))
        aggregates: dict[str, Count] = {"_patients": Count("pk")}
        for item, _level in by_scope.get("record", []):
            filled = filled_q(item, Patient)
            if filled is not None:
                applies = _applies(item, "record")
                aggregates[f"t_{item.id}"] = Count("pk", filter=applies)
                aggregates[f"f_{item.id}"] = Count("pk", filter=applies & filled)
        for scope in REQUIRED_GROUPS:
            aggregates[f"empty_{scope}"] = Count("pk", filter=~Q(Exists(_own_rows(scope, site))))
        result = group.aggregate(**aggregates)
        total_patients += result["_patients"]
        if not result["_patients"]:
            continue
        for scope, scoped in by_scope.items():
            counts = result
            if scope != "record":
                model = SCOPE_MODELS[scope]
                aggregates = {}
                for item, _level in scoped:
                    filled = filled_q(item, model)
                    if filled is not None:
                        applies = _applies(item, scope)
                        aggregates[f"t_{item.id}"] = Count("pk", filter=applies)
                        aggregates[f"f_{item.id}"] = Count("pk", filter=applies & filled)
                counts = _rows(scope, group, site).aggregate(**aggregates) if aggregates else {}
            for item, level in scoped:
                row = items[(item.id, level)]
                if f"t_{item.id}" in counts:
                    row.total += counts[f"t_{item.id}"]
                    row.filled += counts[f"f_{item.id}"]
                if _missing_when_empty(item, level):
                    row.total += result[f"empty_{scope}"]
    return SiteCompleteness(total_patients, list(items.values()))


def missing_mandatory_q(site: Site | None) -> Q:
    """A filter on Patient: the record misses at least one mandatory item (seen from `site`)."""
    per_version: list[Q] = []
    for version in sdm_definition.versions():
        by_scope: dict[str, list[Item]] = {}
        for item, level in counted_items(version):
            if level == "mandatory":
                by_scope.setdefault(item.scope, []).append(item)
        clauses: list[Q] = []
        for scope, scoped in by_scope.items():
            model = Patient if scope == "record" else SCOPE_MODELS[scope]
            missing = _any([_applies(item, scope) & ~filled for item in scoped
                            if (filled := filled_q(item, model)) is not None])
            if scope == "record":
                if missing is not None:
                    clauses.append(missing)
                continue
            own = _own_rows(scope, site)
            if missing is not None:
                clauses.append(Q(Exists(own.filter(missing))))
            if any(_missing_when_empty(item, "mandatory") for item in scoped):
                clauses.append(~Q(Exists(own)))
        found = _any(clauses)
        if found is not None:
            per_version.append(_in_version(version) & found)
    return _any(per_version) or Q(pk__in=[])


def missing_mandatory(patients: QuerySet[Patient], site: Site | None) -> QuerySet[Patient]:
    """The records among `patients` missing at least one mandatory item (set-based)."""
    return patients.filter(missing_mandatory_q(site))
