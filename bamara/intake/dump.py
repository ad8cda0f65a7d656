"""A canonical dump of the exchangeable content of a record: what the CDA carries, without
database ids, timestamps or provenance. Two records with equal dumps hold the same data; the
round-trip tests (ingest, export, ingest) and the bench compare dumps.

``scope="2024.01"`` keeps only what a strict 2024.01 document can carry (no retired items; the
2022 signs count as the 2024 clinical description that replaced them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.models import Patient
from bamara.sdm import definition

from . import mapping as m

ALL = "all"


def _attributes(label: str, scope: str) -> list[str]:
    versions = definition.versions() if scope == ALL else (scope,)
    names: set[str] = set()
    for version in versions:
        names |= m.active_attributes(label, version)
    return _sorted(names - {"status_sdm_version"})


def _value(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, Code):
        return f"{value.code}|{value.system}"
    if isinstance(value, AgeAt):
        number = format(Decimal(value.value).normalize(), "f") if value.value is not None else ""
        return f"{value.code}|{value.system}|{number}{value.unit or ''}"
    if isinstance(value, PartialDate):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return value


def _sorted(values, key=None) -> list[Any]:
    return sorted(values, key=key or (lambda value: repr(value)))


def _read(obj: Any, name: str) -> Any:
    if hasattr(type(obj), f"{name}_partial"):
        return getattr(obj, f"{name}_partial")
    if name == "site":
        return obj.site.code
    if name == "foetus":
        return obj.foetus.local_id if obj.foetus_id else None
    return getattr(obj, name)


def _row(obj: Any, names: list[str]) -> dict[str, Any]:
    return {name: _value(_read(obj, name)) for name in names}


def canonical(patient: Patient, scope: str = ALL) -> dict[str, Any]:
    strict = scope != ALL
    patient_names = _attributes("records.Patient", scope)
    result = _row(patient, patient_names)
    if strict:
        death = result.get("death_related_to_rd") == "oui"
        if not death:
            result["death_related_to_rd"] = None  # 2024.01 carries a death due to a rare disease only
        if not (death and str(result.get("clinical_status") or "").startswith(m.DEATH)):
            result["clinical_status"] = None  # ... and the clinical status of that death only
    if patient.ins_status in ("provisoire", "recuperee", "validee"):
        # Only a qualified identity may carry the INS (INS rules): not exchanged otherwise.
        result["ins"] = result["ins_oid"] = result["ins_status"] = None
    elif result.get("ins"):
        result["ins_status"] = "qualifiee"
    result["registry_consents"] = _sorted(r.registry for r in patient.registry_consents.all())
    result["first_case_diseases"] = _sorted(r.orpha_code for r in patient.first_case_diseases.all())
    result["functional_scores"] = _sorted((_value(r.date), _value(r.icf)) for r in patient.functional_scores.all())
    if not strict:
        result["treatments"] = _sorted(
            (_value(t.product), _value(t.atc), _value(t.label), _value(t.start_partial), _value(t.end_partial))
            for t in patient.treatments.all())
    episode_names = _attributes("records.CareEpisode", scope)
    result["care_episodes"] = _sorted(
        ({**_row(e, episode_names), "referrals": _sorted({_value(r.referred_by) for r in e.referrals.all()})}
         for e in patient.care_episodes.all()), key=lambda row: str(row.get("uuid")))
    activity_names = [*_attributes("records.Activity", scope), "context_detail"]
    result["activities"] = _sorted(
        ({**_row(a, activity_names),
          "objectives": _sorted({_value(o.objective) for o in a.objectives.all()}),
          "professions": _sorted({_value(p.profession) for p in a.professions.all()})}
         for a in patient.activities.all()), key=lambda row: str(row.get("uuid")))
    diagnosis_names = _attributes("records.Diagnosis", scope)
    diagnoses = []
    for d in patient.diagnoses.all():
        row = _row(d, diagnosis_names)
        row["signs"] = _sorted(("description" if strict else s.kind, _value(s.sign)) for s in d.signs.all())
        row["techniques"] = _sorted((_value(t.technique), _value(t.detail)) for t in d.techniques.all())
        row["genes"] = _sorted({(_value(g.gene), _value(g.symbol)) for g in d.genes.all()})
        if not strict:
            row["investigations"] = _sorted(_value(i.investigation) for i in d.investigations.all())
        diagnoses.append(row)
    result["diagnoses"] = _sorted(diagnoses, key=lambda row: str(row.get("uuid")))
    pregnancy_names = _attributes("records.Pregnancy", ALL)
    foetus_names = _attributes("records.Foetus", ALL)
    result["pregnancies"] = _sorted(
        ({**_row(p, pregnancy_names),
          "foetuses": _sorted((_row(f, foetus_names) for f in p.foetuses.all()), key=lambda row: (str(row.get("local_id")), str(row.get("rank"))))}
         for p in patient.pregnancies.all()), key=lambda row: str(row.get("start")))
    return result
