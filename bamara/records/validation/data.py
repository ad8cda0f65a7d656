"""The framework-independent record that validate() checks.

Attributes carry the names of the model fields (``bamara.records.models``), composite fields
under their composite name (``sex`` for ``sex_code``/``sex_system``, ``birth_date`` for the
partial date, ``onset_age`` for the age class). Every attribute is typed ``Any`` on purpose:
web forms, the CDA parser and importers put in whatever they read, and validate() turns
whatever is wrong into messages. The comment after each attribute says what is expected.

Accepted forms (see ``parse.py``): dates as ``PartialDate``, ``datetime.date`` or text
(``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, ``YYYYMMDD``, ``DD/MM/YYYY``, ``MM/YYYY``); codes as
``Code``, ``(code, system)`` or ``{"code": ..., "system": ...}``; age classes as ``AgeAt`` or
``{"code", "system", "value", "unit"}``; references to other rows (mother record, foetus) as
anything: only their presence matters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from bamara.records.models import (
    Activity,
    CareEpisode,
    Diagnosis,
    Foetus,
    Patient,
    Pregnancy,
)


@dataclass
class DiagnosisData:
    uuid: Any = None
    date: Any = None  # partial date
    disease: Any = None  # code: ORPHA, or CIM-10 for a complex non-rare disease
    complex_non_rare: Any = False  # bool
    status: Any = None  # code (VS-STATUT)
    status_sdm_version: Any = (
        None  # SDM version the status code was recorded in, if not the record's
    )
    onset_age: Any = None  # age class (VS-AGE)
    clinical_diagnosis_age: Any = None  # age class
    genetic_diagnosis_age: Any = None  # age class
    appraisal_at_entry: Any = None  # code
    prenatal_diagnosis: Any = None  # text
    sporadic_or_familial: Any = None  # code
    inheritance: Any = None  # text
    newborn_screening: Any = None  # text
    diagnosing_site_code: Any = None  # text
    diagnosing_site_name: Any = None  # text
    comment: Any = None  # text
    verification_status_2022: Any = None  # code
    confirmation_detail: Any = None  # text
    other_genetic_description: Any = None  # text
    apparently_healthy: Any = None  # bool
    impasse_type: Any = None  # text
    foetus: Any = None  # the foetus concerned (mother's record), if any
    signs: Any = field(default_factory=list)  # codes: ORPHA groups, HPO, CIM-10
    investigations: Any = field(default_factory=list)  # codes
    techniques: Any = field(default_factory=list)  # codes
    genes: Any = field(default_factory=list)  # codes (HGNC)


@dataclass
class ActivityData:
    uuid: Any = None
    site: Any = None  # site code (annuaire BNDMR), text
    date: Any = None  # full date
    context: Any = None  # code (VS-CONTEXTE)
    context_detail: Any = None  # text
    performer_rpps: Any = None  # text, 11 digits
    performer_name: Any = None  # text
    place_finess: Any = None  # text, 9 characters
    place_commune: Any = None  # text, INSEE code
    place_country: Any = None  # text, ISO 3166 alpha-2
    residence_commune: Any = None  # text, INSEE code
    residence_country: Any = None  # text, ISO 3166 alpha-2
    foetus: Any = None  # the foetus concerned (mother's record), if any
    objectives: Any = field(default_factory=list)  # codes (VS-OBJECTIF), 1..*
    professions: Any = field(default_factory=list)  # codes (VS-PROFESSION)


@dataclass
class CareEpisodeData:
    uuid: Any = None
    site: Any = None  # site code (annuaire BNDMR), text
    encounter_type: Any = None  # code
    inclusion_date: Any = None  # partial date
    referent_rpps: Any = None  # text, 11 digits
    referent_name: Any = None  # text
    outside_labelling: Any = False  # bool
    referrals: Any = field(default_factory=list)  # codes (VS-ADRESSE), 1..*


@dataclass
class FoetusData:
    local_id: Any = None  # text
    given_name: Any = None  # text
    birth_name: Any = None  # text
    birth_date: Any = None  # partial date
    sex: Any = None  # code
    multiple: Any = None  # bool
    rank: Any = None  # int
    outcome: Any = None  # code (VS-ISSUE)
    outcome_gestational_age_weeks: Any = None  # int
    fetopathology: Any = None  # bool
    termination_type: Any = None  # text (IMG, ISG, INUTERO, PERPARTUM)
    record: Any = None  # the foetus's or child's own record, if any


@dataclass
class PregnancyData:
    start: Any = None  # partial date
    end: Any = None  # partial date
    foetus_count: Any = None  # int
    assisted_reproduction: Any = None  # bool
    foetuses: Any = field(default_factory=list)  # FoetusData


@dataclass
class RecordData:
    # C00 record
    uuid: Any = None
    sdm_version: Any = None  # text, e.g. "2024.01"; None: the current version
    record_created_on: Any = None  # full date
    capture_mode: Any = None  # text
    # C02 identifiers
    ins: Any = None  # text, 15 characters (13 without the key)
    ins_oid: Any = None
    ins_status: Any = None
    ipp: Any = None
    ipp_oid: Any = None
    national_id: Any = None
    # C03 identity and administrative information
    birth_name: Any = None
    birth_given_names: Any = None
    first_birth_given_name: Any = None
    used_name: Any = None
    used_given_name: Any = None
    sex: Any = None  # code
    birth_date: Any = None  # partial date
    birth_commune: Any = None  # INSEE code (99xxx: born abroad)
    birth_country: Any = None  # ISO 3166 alpha-2
    multiple_birth: Any = None  # bool
    multiple_birth_rank: Any = None  # int
    address_line: Any = None
    postal_code: Any = None
    residence_commune: Any = None
    residence_country: Any = None
    phone: Any = None
    email: Any = None
    representative_name: Any = None
    representative_given_name: Any = None
    representative_relation: Any = None  # code
    representative_phone: Any = None
    mother: Any = None  # the mother's record, if any
    mother_birth_name: Any = None
    mother_used_name: Any = None
    mother_first_name: Any = None
    gp_rpps: Any = None
    gp_name: Any = None
    gp_finess: Any = None
    # C01 opposition
    patient_informed: Any = None  # bool
    patient_informed_on: Any = None  # full date
    opposition: Any = False  # bool
    opposition_on: Any = None  # full date
    # C04 family
    is_index_case: Any = None  # bool
    consanguinity: Any = None  # oui / non / inconnu
    first_case_relation: Any = None  # code
    first_case_identifier: Any = None
    first_case_identifier_oid: Any = None
    first_case_sex: Any = None  # code
    first_case_patient: Any = None  # the first case's record, if any
    # C05 vital status
    deceased: Any = None  # bool
    death_date: Any = None  # partial date
    death_related_to_rd: Any = None  # oui / non / inconnu
    death_cause_orpha: Any = None  # int (ORPHA code)
    lost_to_follow_up: Any = None  # bool
    clinical_status: Any = None  # code
    # C12 ante/neonatal
    assisted_reproduction: Any = None  # bool
    gestational_age_at_birth_weeks: Any = None  # int
    antenatal_malformation: Any = None  # code
    birth_weight_g: Any = None  # int
    birth_length_cm: Any = None  # decimal
    birth_head_circumference_cm: Any = None  # decimal
    # C13 research
    research_protocol: Any = None  # bool
    research_contact_agreement: Any = None  # bool
    sample_for_research: Any = None  # bool
    sample_for_molecular_diagnosis: Any = None  # bool
    biobanks: Any = None  # text
    # C14 author of the last document
    author_rpps: Any = None
    author_name: Any = None
    # X4 / X5 record kinds
    is_external_review: Any = False  # bool
    is_foetus: Any = False  # bool
    foetus_local_id: Any = None
    foetus_rank: Any = None  # int
    # repeating groups
    diagnoses: Any = field(default_factory=list)  # DiagnosisData
    activities: Any = field(default_factory=list)  # ActivityData
    care_episodes: Any = field(default_factory=list)  # CareEpisodeData
    pregnancies: Any = field(default_factory=list)  # PregnancyData


# Lists of codes held in child tables: attribute -> (related name, code field of the child).
CODE_LISTS: dict[type, dict[str, tuple[str, str]]] = {
    DiagnosisData: {
        "signs": ("signs", "sign"),
        "investigations": ("investigations", "investigation"),
        "techniques": ("techniques", "technique"),
        "genes": ("genes", "gene"),
    },
    ActivityData: {
        "objectives": ("objectives", "objective"),
        "professions": ("professions", "profession"),
    },
    CareEpisodeData: {"referrals": ("referrals", "referred_by")},
}

# Repeating groups of a record: attribute -> data class.
CHILDREN: dict[type, dict[str, type]] = {
    RecordData: {
        "diagnoses": DiagnosisData,
        "activities": ActivityData,
        "care_episodes": CareEpisodeData,
        "pregnancies": PregnancyData,
    },
    PregnancyData: {"foetuses": FoetusData},
}

# The model each data class mirrors (field names, types and lengths are read from it).
MODELS: dict[type, type] = {
    RecordData: Patient,
    DiagnosisData: Diagnosis,
    ActivityData: Activity,
    CareEpisodeData: CareEpisode,
    PregnancyData: Pregnancy,
    FoetusData: Foetus,
}

PREFETCH = (
    Prefetch("diagnoses", Diagnosis.objects.order_by("pk")),
    "diagnoses__signs",
    "diagnoses__investigations",
    "diagnoses__techniques",
    "diagnoses__genes",
    Prefetch("activities", Activity.objects.select_related("site").order_by("pk")),
    "activities__objectives",
    "activities__professions",
    Prefetch("care_episodes", CareEpisode.objects.select_related("site").order_by("pk")),
    "care_episodes__referrals",
    Prefetch("pregnancies", Pregnancy.objects.order_by("pk")),
    Prefetch("pregnancies__foetuses", Foetus.objects.order_by("pk")),
)


def prefetch_for_validation(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """The queryset with everything record_data_from_patient() reads, in a fixed number of
    queries whatever the number of patients (for a data-quality scorecard)."""
    return patients.prefetch_related(*PREFETCH)


def record_data_from_patient(patient: Patient) -> RecordData:
    """The RecordData of a saved patient; loads its children unless already prefetched."""
    # Skips what is already prefetched (e.g. by prefetch_for_validation).
    prefetch_related_objects([patient], *PREFETCH)
    record = _copy(patient, RecordData)
    record.diagnoses = [_copy(row, DiagnosisData) for row in patient.diagnoses.all()]
    record.activities = [_copy(row, ActivityData) for row in patient.activities.all()]
    record.care_episodes = [_copy(row, CareEpisodeData) for row in patient.care_episodes.all()]
    record.pregnancies = []
    for pregnancy in patient.pregnancies.all():
        data = _copy(pregnancy, PregnancyData)
        data.foetuses = [_copy(foetus, FoetusData) for foetus in pregnancy.foetuses.all()]
        record.pregnancies.append(data)
    return record


def records_from_patients(
    patients: QuerySet[Patient], chunk_size: int = 500
) -> Iterable[tuple[Patient, RecordData]]:
    """(patient, RecordData) for each patient of the queryset, prefetched by chunks (13
    queries per chunk, so memory stays flat over a whole database)."""
    for patient in prefetch_for_validation(patients).iterator(chunk_size=chunk_size):
        yield patient, record_data_from_patient(patient)


def _copy(row: Any, data_class: type) -> Any:
    """Copy the model attributes a data class declares (composites through their properties)."""
    values: dict[str, Any] = {}
    code_lists = CODE_LISTS.get(data_class, {})
    children = CHILDREN.get(data_class, {})
    for name in data_class.__dataclass_fields__:
        if name in children:
            continue
        if name in code_lists:
            related, code_field = code_lists[name]
            values[name] = [getattr(child, code_field) for child in getattr(row, related).all()]
        elif name == "site":
            values[name] = row.site.code
        elif name in ("mother", "first_case_patient", "foetus", "record"):
            values[name] = getattr(row, f"{name}_id")  # presence only: no query
        elif _is_partial_date(row, name):
            values[name] = getattr(row, f"{name}_partial")
        else:
            values[name] = getattr(row, name)
    return data_class(**values)


def _is_partial_date(row: Any, name: str) -> bool:
    return hasattr(row, f"{name}_precision")
