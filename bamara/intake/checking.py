"""The parsed record through the domain validation layer (bamara.records.validation)."""

from __future__ import annotations

import re
import time
from dataclasses import fields
from typing import Any

from bamara.records.validation import (
    ActivityData,
    CareEpisodeData,
    DiagnosisData,
    FoetusData,
    PregnancyData,
    RecordData,
    validate,
)
from bamara.records.validation.reference import DbTerminologies

from .ack import AckMessage
from .parser import ParsedDocument, Row

_NAMES = {cls: {f.name for f in fields(cls)} for cls in
          (RecordData, DiagnosisData, ActivityData, CareEpisodeData, PregnancyData, FoetusData)}
_INDEX = re.compile(r"^(diagnoses|activities|care_episodes|pregnancies)\[(\d+)\]")

# One terminology cache per process (the validation layer makes a new one per call otherwise:
# a handful of queries per document). Refreshed every few minutes to see reloads.
_TERMINOLOGIES: tuple[float, DbTerminologies] | None = None
TERMINOLOGY_TTL = 600.0


def terminologies() -> DbTerminologies:
    global _TERMINOLOGIES
    now = time.monotonic()
    if _TERMINOLOGIES is None or now - _TERMINOLOGIES[0] > TERMINOLOGY_TTL:
        _TERMINOLOGIES = (now, DbTerminologies())
    return _TERMINOLOGIES[1]


def reset_terminologies() -> None:
    global _TERMINOLOGIES
    _TERMINOLOGIES = None


def _pick(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = _NAMES[cls]
    return {key: value for key, value in values.items() if key in names}


def record_data(parsed: ParsedDocument) -> RecordData:
    record = RecordData(**_pick(RecordData, parsed.patient))
    record.sdm_version = parsed.sdm_version
    record.is_foetus = False
    record.diagnoses = [
        DiagnosisData(**_pick(DiagnosisData, {**row.values, "foetus": row.values.get("foetus") or None}),
                      signs=[code for _, code in row.lists.get("signs", [])],
                      investigations=list(row.lists.get("investigations", [])),
                      techniques=[code for code, _ in row.lists.get("techniques", [])],
                      genes=[code for code, _ in row.lists.get("genes", []) if code is not None])
        for row in parsed.diagnoses
    ]
    record.activities = [
        ActivityData(**_pick(ActivityData, {**row.values, "foetus": row.values.get("foetus") or None}),
                     objectives=list(row.lists.get("objectives", [])),
                     professions=list(row.lists.get("professions", [])))
        for row in parsed.activities
    ]
    record.care_episodes = [
        CareEpisodeData(**_pick(CareEpisodeData, row.values), referrals=list(row.lists.get("referrals", [])))
        for row in parsed.care_episodes
    ]
    record.pregnancies = [
        PregnancyData(**_pick(PregnancyData, row.values),
                      foetuses=[FoetusData(**_pick(FoetusData, f.values)) for f in row.lists.get("foetuses", [])])
        for row in parsed.pregnancies
    ]
    return record


def check(parsed: ParsedDocument) -> list[AckMessage]:
    """Validation messages of the parsed record, located in the document where possible."""
    messages = validate(record_data(parsed), sdm_version=parsed.sdm_version, terminologies=terminologies())
    rows: dict[str, list[Row]] = {
        "diagnoses": parsed.diagnoses, "activities": parsed.activities,
        "care_episodes": parsed.care_episodes, "pregnancies": parsed.pregnancies,
    }
    result = []
    for message in messages:
        path = message.path
        match = _INDEX.match(path)
        if match and int(match.group(2)) < len(rows[match.group(1)]):
            path = f"{rows[match.group(1)][int(match.group(2))].path} ({path})"
        result.append(AckMessage(message.level, message.code, message.text, message.item_id, path[:300]))
    return result
