"""One domain validation layer for SDM-MR records: web forms, CDA intake and imports.

    from bamara.records.validation import RecordData, DiagnosisData, validate
    messages = validate(RecordData(birth_name="MARTIN", ...))

See docs/validation.md.
"""

from .checks import validate
from .data import (
    ActivityData,
    CareEpisodeData,
    DiagnosisData,
    FoetusData,
    PregnancyData,
    RecordData,
    prefetch_for_validation,
    record_data_from_patient,
    records_from_patients,
)
from .reference import (
    CodeCheck,
    DbTerminologies,
    Definition,
    HpoInfo,
    Limits,
    NoTerminologies,
    OrphaInfo,
    SdmReference,
    Terminologies,
)
from .rules import CATEGORIES, RULES, RULES_BY_ID, Message, Rule

__all__ = [
    "CATEGORIES",
    "RULES",
    "RULES_BY_ID",
    "ActivityData",
    "CareEpisodeData",
    "CodeCheck",
    "DbTerminologies",
    "Definition",
    "DiagnosisData",
    "FoetusData",
    "HpoInfo",
    "Limits",
    "Message",
    "NoTerminologies",
    "OrphaInfo",
    "PregnancyData",
    "RecordData",
    "Rule",
    "SdmReference",
    "Terminologies",
    "prefetch_for_validation",
    "record_data_from_patient",
    "records_from_patients",
    "validate",
]
