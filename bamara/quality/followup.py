"""The follow-up lists of a site: set-based queries over the patients a user sees there.

Every function takes the patients the user may see at the site (always
``access.visible_patients(user, site)``) and returns a queryset or a list of patient ids, so
the views paginate without loading a whole site.

Edges, decided once here:

- *without activity for more than N months*: the last activity **at this site** (another
  site's activities are not visible from here); a patient seen exactly N months ago (same day
  of the month) is not listed, one day more is. Without any activity at the site, the
  inclusion date stands for it; with neither, the patient is listed. Deceased patients are
  not listed (nothing to follow up).
- *diagnostic dead-end*: a diagnosis « en cours » or « indéterminé » (any SDM version's code),
  when the first signs are **certainly** more than two years old: the latest day they can
  have appeared (birth date at its latest, plus the upper bound of the onset age class) plus
  two years is before today. Exactly two years is not more than two years. Onset « indéterminé »
  or « aucun signe » cannot be dated: not listed. Deceased patients are not listed.
- *inactive ORPHA codes*: a diagnosis, clinical-description group or cause of death coded with
  an ORPHA code that is not active in the loaded Orphanet; the replacement comes from
  ``orphanet.resolve``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import CharField, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from bamara.organisations.models import Site
from bamara.records.fields import AgeUnit, PartialDate
from bamara.records.models import Activity, CareEpisode, ClinicalSign, Diagnosis, Patient
from bamara.records.validation.checks import AGE_FOETAL, AGE_NEONATAL, AGE_POSTNATAL
from bamara.sdm import concepts, oids
from bamara.terminologies import orphanet
from bamara.terminologies.models import OrphaConcept

VS_STATUS = "1.2.250.1.213.1.1.5.45"
VS_AGE = "1.2.250.1.213.1.1.5.43"
# Canonical codes of the statuses of a patient still without a diagnosis (concepts.yaml).
STATUS_IN_PROGRESS = "385651009"
STATUS_UNDETERMINED = "42425007"
DEAD_END_YEARS = 2


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _alive() -> Q:
    return ~Q(deceased=True)


# -- without activity ----------------------------------------------------------------------


def inactive_since(patients: QuerySet[Patient], site: Site, months: int, today: dt.date) -> QuerySet[Patient]:
    """Patients of the site without activity there for more than `months` months, the longest
    first, annotated with ``last_activity`` and ``inclusion``."""
    cutoff = add_months(today, -months)
    last = Activity.objects.filter(patient=OuterRef("pk"), site=site).order_by().values("patient")
    last = last.annotate(last=Max("date")).values("last")
    inclusion = CareEpisode.objects.filter(patient=OuterRef("pk"), site=site).values("inclusion_date")[:1]
    return (
        patients.filter(_alive())
        .annotate(last_activity=Subquery(last), inclusion=Subquery(inclusion))
        .filter(Q(last_activity__lt=cutoff)
                | Q(last_activity__isnull=True) & (Q(inclusion__lt=cutoff) | Q(inclusion__isnull=True)))
        # Never seen at the site first, on every database.
        .order_by(F("last_activity").asc(nulls_first=True), F("inclusion").asc(nulls_first=True), "birth_name", "pk")
    )


# -- diagnostic dead-end -------------------------------------------------------------------


def _codes(value_set: str, canonical: set[str]) -> list[tuple[str, str]]:
    """(code, system) of the given canonical concepts, with their codes of older versions."""
    found = []
    for concept in concepts.all_concepts(value_set):
        if concept.code in canonical:
            found.append((concept.code, concept.system))
            found.extend(concept.previous)
    return found


def undiagnosed_statuses() -> list[tuple[str, str]]:
    return _codes(VS_STATUS, {STATUS_IN_PROGRESS, STATUS_UNDETERMINED})


def _status_q(codes: list[tuple[str, str]], prefix: str = "") -> Q:
    found = Q(pk__in=[])
    for code, system in codes:
        found |= Q(**{f"{prefix}status_code": code, f"{prefix}status_system": system})
    return found


def onset_latest(birth: PartialDate | None, code: str, system: str, value: Decimal | None,
                 unit: str | None) -> dt.date | None:
    """The latest day first signs can have appeared, or None when it cannot be dated."""
    if birth is None or not code:
        return None
    try:
        klass = concepts.normalise(VS_AGE, code, system)
    except Exception:  # an unknown code: cannot be dated (validation reports it)
        return None
    canonical = (klass.code, klass.system)
    if canonical == (AGE_FOETAL.code, AGE_FOETAL.system):
        return birth.latest  # signs before birth: at the latest, the day of birth
    if canonical == (AGE_NEONATAL.code, AGE_NEONATAL.system):
        upper = Decimal(1)
    elif canonical == (AGE_POSTNATAL.code, AGE_POSTNATAL.system) and value is not None and unit in AgeUnit.values:
        # « 5 ans » means from 5 to 6 years, « 1,5 an » is as precise as its decimals (as
        # validation's age_span).
        step = Decimal(1) if value == value.to_integral_value() else Decimal("0.01")
        upper = (value + step) * (12 if unit == AgeUnit.YEARS else 1)
    else:
        return None  # indéterminé, aucun signe, post-mortem
    try:
        return add_months(birth.latest, math.ceil(upper)) - dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return None


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class DeadEnd:
    patient_id: int
    diagnosis_id: int
    status_code: str
    status_system: str
    onset_latest: dt.date


def dead_ends(patients: QuerySet[Patient], today: dt.date) -> list[DeadEnd]:
    """Undiagnosed patients more than two years after their first signs, the oldest first (one
    entry per patient: the diagnosis with the oldest onset)."""
    limit = _years_later(today, -DEAD_END_YEARS)
    # Necessary condition, in SQL: first signs are never before the birth date's first day
    # minus nothing that matters here (fœtal signs are dated at birth), so born before the limit.
    candidates = (
        Diagnosis.objects.filter(_status_q(undiagnosed_statuses()))
        .filter(patient__in=patients.filter(_alive(), birth_date__lt=limit).values("pk"))
        .values_list("pk", "patient_id", "status_code", "status_system", "patient__birth_date",
                     "patient__birth_date_precision", "onset_age_code", "onset_age_system",
                     "onset_age_value", "onset_age_unit")
    )
    best: dict[int, DeadEnd] = {}
    for pk, patient_id, status, status_system, birth, precision, code, system, value, unit in candidates:
        latest = onset_latest(PartialDate.from_columns(birth, precision), code, system, value, unit)
        if latest is None or not _years_later(latest, DEAD_END_YEARS) < today:
            continue
        if patient_id not in best or latest < best[patient_id].onset_latest:
            best[patient_id] = DeadEnd(patient_id, pk, status, status_system, latest)
    return sorted(best.values(), key=lambda d: (d.onset_latest, d.patient_id))


# -- inactive ORPHA codes ------------------------------------------------------------------


def _inactive_codes() -> QuerySet:
    return OrphaConcept.objects.exclude(status=OrphaConcept.Status.ACTIVE)


def _inactive_text() -> QuerySet:
    return _inactive_codes().annotate(text=Cast("code", CharField())).values("text")


def inactive_codes_q() -> Q:
    diagnoses = Diagnosis.objects.filter(patient=OuterRef("pk"), disease_system=oids.ORPHA,
                                         disease_code__in=_inactive_text())
    signs = ClinicalSign.objects.filter(diagnosis__patient=OuterRef("pk"), sign_system=oids.ORPHA,
                                        sign_code__in=_inactive_text())
    return Q(Exists(diagnoses)) | Q(Exists(signs)) | Q(death_cause_orpha__in=_inactive_codes().values("code"))


def with_inactive_codes(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return patients.filter(inactive_codes_q()).order_by("birth_name", "first_birth_given_name", "pk")


@dataclass(frozen=True)
class InactiveCode:
    patient_id: int
    where: str
    code: int
    name: str
    status: str
    replacements: tuple[tuple[int, str], ...]  # (code, French name)


def inactive_code_details(patient_ids: list[int]) -> dict[int, list[InactiveCode]]:
    """The inactive codes of some patients (a page of a list) and their proposed replacements."""
    found: list[tuple[int, str, int]] = []
    for patient_id, code in Diagnosis.objects.filter(
        patient_id__in=patient_ids, disease_system=oids.ORPHA, disease_code__in=_inactive_text()
    ).values_list("patient_id", "disease_code"):
        found.append((patient_id, "diagnostic", int(code)))
    for patient_id, code in ClinicalSign.objects.filter(
        diagnosis__patient_id__in=patient_ids, sign_system=oids.ORPHA, sign_code__in=_inactive_text()
    ).values_list("diagnosis__patient_id", "sign_code"):
        found.append((patient_id, "description clinique", int(code)))
    for patient_id, code in Patient.objects.filter(
        pk__in=patient_ids, death_cause_orpha__in=_inactive_codes().values("code")
    ).values_list("pk", "death_cause_orpha"):
        found.append((patient_id, "cause du décès", code))
    codes = {code for _p, _w, code in found}
    replacements = {code: orphanet.resolve(code) for code in codes}
    wanted = codes | {c for targets in replacements.values() for c in targets}
    names = {c.code: c for c in OrphaConcept.objects.filter(code__in=wanted)}
    details: dict[int, list[InactiveCode]] = {}
    for patient_id, where, code in sorted(found):
        concept = names.get(code)
        details.setdefault(patient_id, []).append(InactiveCode(
            patient_id, where, code, concept.name_fr if concept else "",
            concept.get_status_display() if concept else "",
            tuple((t, names[t].name_fr if t in names else "") for t in replacements[code]),
        ))
    return details
