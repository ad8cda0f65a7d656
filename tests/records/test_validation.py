"""The domain validation layer (bamara.records.validation): one accepted and one rejected case
per rule, partial-date edge cases, junk input, records read back from the database."""

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.validation import (
    RULES,
    RULES_BY_ID,
    ActivityData,
    CareEpisodeData,
    DiagnosisData,
    FoetusData,
    HpoInfo,
    Message,
    NoTerminologies,
    OrphaInfo,
    PregnancyData,
    RecordData,
    checks,
    validate,
)
from bamara.records.validation.docs import rules_markdown
from bamara.records.validation.identifiers import finess_problem, ins_problem, nir_key
from bamara.sdm import definition, oids

TODAY = dt.date(2025, 6, 1)
SNOMED = oids.SNOMED_CT
FOETAL, NEONATAL, POSTNATAL = "303112003", "255407002", "767023003"
UNDETERMINED, POST_MORTEM, NO_SIGN = "373068000", "303113008", "MED-1288"
CONFIRMED, IN_PROGRESS, PROBABLE = "255545003", "385651009", "2931005"
RPPS = "10003456789"


def age(code: str, value: int | str | None = None, unit: str | None = None) -> AgeAt:
    system = oids.TA_ASIP if code.startswith(("MED-", "GEN-")) else SNOMED
    return AgeAt(code, system, Decimal(value) if value is not None else None, unit)


def diagnosis(**changes) -> DiagnosisData:
    base = DiagnosisData(
        date="2019-06",
        disease=Code("586", oids.ORPHA),
        status=Code(CONFIRMED, SNOMED),
        onset_age=age(POSTNATAL, 18, "mo"),
        clinical_diagnosis_age=age(POSTNATAL, 3, "a"),
        genetic_diagnosis_age=age(POSTNATAL, 4, "a"),
    )
    return dataclasses.replace(base, **changes)


def activity(**changes) -> ActivityData:
    base = ActivityData(
        site="S0101",
        date=dt.date(2020, 1, 15),
        context=Code("11429006", SNOMED),
        objectives=[Code("MED-097", oids.TA_ASIP)],
        performer_rpps=RPPS,
        professions=[Code("G15_10", oids.RPPS_PROFESSIONS)],
    )
    return dataclasses.replace(base, **changes)


def episode(**changes) -> CareEpisodeData:
    base = CareEpisodeData(
        site="S0101",
        inclusion_date="2019-05",
        referent_rpps=RPPS,
        referrals=[Code("ORG-019", oids.TA_ASIP)],
    )
    return dataclasses.replace(base, **changes)


def record(**changes) -> RecordData:
    """A complete record of the current version without any problem (see the first test)."""
    base = RecordData(
        birth_name="MARTIN",
        first_birth_given_name="Léa",
        birth_date="2015-04-10",
        sex=Code("F", oids.HL7_GENDER),
        diagnoses=[diagnosis()],
        activities=[activity()],
        care_episodes=[episode()],
    )
    return dataclasses.replace(base, **changes)


def check(data, **kwargs) -> list[Message]:
    kwargs.setdefault("today", TODAY)
    kwargs.setdefault("terminologies", NoTerminologies())
    messages = validate(data, **kwargs)
    assert all(isinstance(message, Message) for message in messages)
    assert all(message.code in RULES_BY_ID for message in messages)
    assert not [m for m in messages if m.code == "check_failed"], messages
    for message in messages:
        assert message.level == RULES_BY_ID[message.code].level
    return messages


def found(data, code: str, **kwargs) -> list[Message]:
    return [message for message in check(data, **kwargs) if message.code == code]


def test_it_accepts_a_complete_valid_record():
    assert check(record()) == []


# -- reading values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "path"),
    [
        ({"birth_date": "2015-13-01"}, "invalid_date", "birth_date"),
        ({"birth_date": "31/02/2015"}, "invalid_date", "birth_date"),
        ({"opposition_on": "2020-05"}, "invalid_date", "opposition_on"),  # a full date is expected
        ({"birth_weight_g": "trois kilos"}, "invalid_number", "birth_weight_g"),
        ({"birth_weight_g": -5}, "invalid_number", "birth_weight_g"),
        ({"birth_length_cm": "12.345"}, "invalid_number", "birth_length_cm"),
        ({"deceased": "peut-être"}, "invalid_boolean", "deceased"),
        ({"sex": "F"}, "invalid_code", "sex"),  # a code without its code system
        ({"birth_name": 12}, "invalid_text", "birth_name"),
        ({"birth_name": "X" * 101}, "invalid_text", "birth_name"),
        ({"death_related_to_rd": "peut-être"}, "invalid_text", "death_related_to_rd"),
        ({"diagnoses": "586"}, "invalid_structure", "diagnoses"),
        ({"diagnoses": [42]}, "invalid_structure", "diagnoses[0]"),
    ],
)
def test_it_reports_unreadable_values(changes, code, path):
    messages = found(record(**changes), code)
    assert [message.path for message in messages] == [path]


def test_it_reads_french_and_cda_date_forms():
    assert check(record(birth_date="10/04/2015")) == []
    assert check(record(birth_date="201504")) == []
    assert check(record(birth_date=PartialDate(2015, 4))) == []


def test_it_reads_plain_mappings_and_reports_unknown_keys():
    data = dataclasses.asdict(record())
    assert check(data) == []
    data["diagnoses"][0]["date_of_birth"] = "2015"
    messages = found(data, "unknown_field")
    assert [message.path for message in messages] == ["diagnoses[0].date_of_birth"]


def test_it_reports_a_record_that_is_not_a_record():
    assert [m.code for m in check(None)] == ["invalid_structure"]
    assert [m.code for m in check(["MARTIN"])] == ["invalid_structure"]


def test_it_warns_about_dates_before_1900():
    assert found(record(birth_date="1899"), "date_too_old")
    assert not found(record(birth_date="1900"), "date_too_old")


# -- mandatory data ------------------------------------------------------------------------


def test_it_requires_the_identity_and_a_diagnosis():
    messages = found(record(birth_name="", birth_date=None, sex=None, diagnoses=[]), "required")
    assert {(m.item_id, m.path) for m in messages} == {
        ("nom_naissance", "birth_name"),
        ("date_naissance", "birth_date"),
        ("sexe", "sex"),
        ("diagnostic_code", "diagnoses"),
    }
    assert all(m.level == "error" for m in messages)


def test_it_requires_status_and_onset_age_of_each_diagnosis():
    messages = found(
        record(diagnoses=[diagnosis(), diagnosis(status=None, onset_age=None)]), "required"
    )
    assert {m.path for m in messages} == {"diagnoses[1].status", "diagnoses[1].onset_age"}
    assert {m.item_id for m in messages} == {"statut_diagnostic", "age_premiers_signes"}


def test_it_requires_date_context_and_an_objective_of_each_activity():
    messages = found(
        record(activities=[activity(date=None, context=None, objectives=[])]), "required"
    )
    assert {m.path for m in messages} == {
        "activities[0].date",
        "activities[0].context",
        "activities[0].objectives",
    }


def test_it_requires_site_inclusion_date_and_a_referral_of_each_care_episode():
    messages = found(
        record(care_episodes=[episode(site=None, inclusion_date="", referrals=[])]), "required"
    )
    assert {m.item_id for m in messages} == {"site_mr", "date_inclusion", "adresse_par"}


def test_it_does_not_report_an_unreadable_mandatory_value_twice():
    messages = check(record(birth_date="hier"))
    assert [m.code for m in messages] == ["invalid_date"]


def test_it_warns_about_other_mandatory_items_of_the_definition():
    messages = found(
        record(diagnoses=[diagnosis(date=None, disease=None)]), "mandatory_item_missing"
    )
    assert {m.item_id for m in messages} == {"diagnostic_date", "diagnostic_code"}
    assert not found(record(), "mandatory_item_missing")


def test_it_follows_the_version_for_mandatory_items():
    # The age at genetic diagnosis exists since 2024.01 only.
    missing = record(diagnoses=[diagnosis(genetic_diagnosis_age=None)])
    assert {m.item_id for m in found(missing, "mandatory_item_missing")} == {"age_diag_genetique"}
    in_2022 = found(dataclasses.replace(missing, sdm_version="2022.01"), "mandatory_item_missing")
    # ... and the investigations were mandatory in 2022.01.
    assert {m.item_id for m in in_2022} == {"investigations_realisees"}


# -- value sets and versions -----------------------------------------------------------------


def test_it_checks_codes_against_the_value_set_of_the_version():
    [message] = found(record(sex=Code("X", oids.HL7_GENDER)), "code_not_in_value_set")
    assert message.item_id == "sexe"
    assert "SDM-MR 2024.01" in message.text
    assert not found(record(sex=Code("UN", oids.HL7_GENDER)), "code_not_in_value_set")


def test_it_rejects_a_known_code_in_the_wrong_code_system():
    assert found(record(sex=Code("F", oids.SNOMED_CT)), "code_not_in_value_set")


def test_it_accepts_older_codes_of_a_concept_still_in_the_version():
    # GEN-035 (TA_ASIP, until 2023) is the same concept as SNOMED CT 255545003 "confirmé".
    old = record(diagnoses=[diagnosis(status=Code("GEN-035", oids.TA_ASIP))])
    assert check(old) == []


def test_it_flags_codes_of_another_version_without_equivalent():
    # "probable" left the value set in 2024.01: valid in a 2022.01 record only.
    probable = record(diagnoses=[diagnosis(status=Code(PROBABLE, SNOMED))])
    [message] = found(probable, "code_from_other_version")
    assert message.level == "warning"
    assert "2022.01" in message.text and "2024.01" in message.text
    in_2022 = dataclasses.replace(
        probable,
        sdm_version="2022.01",
        diagnoses=[diagnosis(status=Code(PROBABLE, SNOMED), genetic_diagnosis_age=None)],
    )
    assert not found(in_2022, "code_from_other_version")


def test_it_checks_the_status_under_its_own_version():
    probable = diagnosis(status=Code(PROBABLE, SNOMED), status_sdm_version="2022.01")
    assert not found(record(diagnoses=[probable]), "code_from_other_version")


def test_it_checks_local_codes_held_in_plain_columns():
    [message] = found(record(diagnoses=[diagnosis(inheritance="XL")]), "code_not_in_value_set")
    assert message.item_id == "heredite"
    assert "XLR" in message.text
    assert not found(record(diagnoses=[diagnosis(inheritance="XLR")]), "code_not_in_value_set")


def test_it_rejects_a_code_system_the_item_does_not_take():
    bad = record(diagnoses=[diagnosis(signs=[Code("E84", oids.CIM10), Code("586", oids.ORPHA)])])
    [message] = found(bad, "code_system_not_allowed")
    assert message.path == "diagnoses[0].signs[1]"
    assert message.item_id == "description_clinique"


def test_it_reports_an_unknown_sdm_version_and_checks_with_the_current_one():
    [message] = found(record(sdm_version="1999.01"), "unknown_sdm_version")
    assert "2024.01" in message.text
    assert not found(record(sdm_version="2024.01"), "unknown_sdm_version")


def test_it_warns_about_data_the_version_does_not_collect():
    messages = found(
        record(diagnoses=[diagnosis(investigations=[Code("58147004", SNOMED)])]),
        "item_not_in_version",
    )
    assert [m.item_id for m in messages] == ["investigations_realisees"]
    old = record(
        sdm_version="2022.01",
        diagnoses=[
            diagnosis(investigations=[Code("58147004", SNOMED)], genetic_diagnosis_age=None)
        ],
    )
    assert not found(old, "item_not_in_version")


# -- identifiers ------------------------------------------------------------------------------


def test_it_computes_the_nir_key_including_corsica():
    assert nir_key("2550814168025") == 38  # the published example
    assert ins_problem("255081416802538") is None
    assert ins_problem("184052A00412308") is None
    assert "clé" in ins_problem("255081416802539")
    assert ins_problem("955081416802538") is not None  # no NIR/NIA starts with 9


def test_it_checks_the_ins():
    assert not found(record(ins="255081416802538"), "ins_invalid")
    [message] = found(record(ins="255081416802539"), "ins_invalid")
    assert "38" in message.text
    assert found(record(ins="2 55 08 14 168 025 38"), "ins_invalid")
    [message] = found(record(ins="2550814168025"), "ins_without_key")
    assert message.level == "warning"


def test_it_checks_finess_numbers_with_their_luhn_key():
    assert finess_problem("010000024") is None
    assert finess_problem("2A0000014") is None  # Corsica: A counts as 1, B as 2
    assert finess_problem("2B0000012") is None
    assert finess_problem("2B0000013") is not None
    assert finess_problem("010000025") is not None
    assert finess_problem("01000002") is not None
    assert not found(record(gp_finess="010000024"), "finess_invalid")
    assert found(record(activities=[activity(place_finess="010000025")]), "finess_invalid")


@pytest.mark.shared
def test_it_accepts_every_finess_number_of_the_reference_extract():
    import csv
    import gzip

    from django.conf import settings

    path = settings.SHARED_DIR / "data/finess/finess_hopitaux_2025.tsv.gz"
    if not path.exists():
        pytest.skip("the shared reference data (BAMARA_SHARED_DIR) is absent")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        numbers = [row["finess_et"] for row in csv.DictReader(handle, delimiter="\t")]
    assert len(numbers) > 4000
    assert [number for number in numbers if finess_problem(number)] == []


def test_it_checks_rpps_numbers():
    assert not found(record(gp_rpps=RPPS), "rpps_invalid")
    [message] = found(record(gp_rpps="8" + RPPS), "rpps_invalid")
    assert "préfixe 8" in message.text
    assert found(record(care_episodes=[episode(referent_rpps="1234")]), "rpps_invalid")


def test_it_checks_insee_commune_and_country_codes():
    assert check(record(birth_commune="2A004", birth_country="FR", residence_commune="75115")) == []
    assert check(record(birth_commune="99134")) == []  # born abroad (INSEE country code)
    assert found(record(birth_commune="7511"), "commune_invalid")
    assert found(record(activities=[activity(place_commune="2C004")]), "commune_invalid")
    assert found(record(residence_country="fr"), "country_invalid")
    assert found(record(birth_country="FRA"), "country_invalid")


# -- plausible values ----------------------------------------------------------------------


def test_it_applies_the_limits_of_the_definition():
    [message] = found(record(birth_weight_g=9000), "out_of_range")
    assert message.item_id == "poids_naissance"
    assert "8000" in message.text
    assert not found(
        record(birth_weight_g=3200, birth_length_cm="49,5", birth_head_circumference_cm=34),
        "out_of_range",
    )
    assert found(record(birth_length_cm=61), "out_of_range")
    foetus = FoetusData(outcome_gestational_age_weeks=3)
    assert found(
        record(pregnancies=[PregnancyData(foetus_count=1, foetuses=[foetus])]), "out_of_range"
    )
    foetus = FoetusData(outcome_gestational_age_weeks=12)
    assert not found(
        record(pregnancies=[PregnancyData(foetus_count=1, foetuses=[foetus])]), "out_of_range"
    )


def test_it_warns_about_an_unusual_gestational_age_at_birth():
    [message] = found(record(gestational_age_at_birth_weeks=23), "implausible_value")
    assert message.level == "warning"
    assert not found(record(gestational_age_at_birth_weeks=33), "implausible_value")
    assert found(record(gestational_age_at_birth_weeks=46), "out_of_range")


def test_it_limits_age_values():
    assert found(
        record(diagnoses=[diagnosis(genetic_diagnosis_age=age(POSTNATAL, 130, "a"))]),
        "out_of_range",
    )
    assert not found(
        record(diagnoses=[diagnosis(genetic_diagnosis_age=age(POSTNATAL, 9, "a"))]), "out_of_range"
    )


# -- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_date": "2025-06-02"},
        {"deceased": True, "death_date": "2026"},
        {"opposition": True, "opposition_on": dt.date(2025, 7, 1)},
        {"diagnoses": [diagnosis(date="2025-07")]},
        {"activities": [activity(date=dt.date(2025, 6, 2))]},
        {"care_episodes": [episode(inclusion_date="2026")]},
    ],
)
def test_it_rejects_dates_in_the_future(changes):
    [message] = found(record(**changes), "date_in_future")
    assert "01/06/2025" in message.text


def test_it_accepts_today_and_a_partial_date_of_the_current_month():
    assert not found(
        record(activities=[activity(date=TODAY)], diagnoses=[diagnosis(date="2025-06")]),
        "date_in_future",
    )


def test_it_rejects_a_death_before_birth():
    [message] = found(
        record(deceased=True, death_date="2001-03-12", birth_date="2003-05-04"),
        "death_before_birth",
    )
    assert (
        message.text
        == "La date de décès (12/03/2001) est antérieure à la date de naissance (04/05/2003)."
    )
    assert message.item_id == "date_deces"


def test_it_accepts_a_death_that_may_follow_the_birth():
    # Same year, day unknown: not a certain contradiction.
    assert not found(
        record(deceased=True, death_date="2015", birth_date="2015-04-10"), "death_before_birth"
    )


def test_it_rejects_an_activity_before_birth():
    messages = found(
        record(activities=[activity(date=dt.date(2015, 4, 9))]), "activity_before_birth"
    )
    assert [m.path for m in messages] == ["activities[0].date"]
    assert not found(
        record(activities=[activity(date=dt.date(2015, 4, 10))]), "activity_before_birth"
    )


def test_it_compares_activities_with_a_partial_birth_date_by_its_bounds():
    assert not found(
        record(birth_date="2015", activities=[activity(date=dt.date(2015, 1, 1))]),
        "activity_before_birth",
    )
    assert found(
        record(birth_date="2015", activities=[activity(date=dt.date(2014, 12, 31))]),
        "activity_before_birth",
    )


def test_it_accepts_prenatal_activities_of_a_foetus():
    early = activity(date=dt.date(2015, 1, 5))
    assert not found(
        record(
            is_foetus=True, mother_birth_name="DURAND", mother_first_name="Anne", activities=[early]
        ),
        "activity_before_birth",
    )
    assert not found(
        record(activities=[dataclasses.replace(early, foetus=1)]), "activity_before_birth"
    )


def test_it_rejects_an_activity_after_death():
    dead = {"deceased": True, "death_date": "2020"}
    [message] = found(
        record(**dead, activities=[activity(date=dt.date(2021, 1, 4))]), "activity_after_death"
    )
    assert message.text == "L'activité du 04/01/2021 est postérieure au décès (2020)."


def test_it_accepts_an_activity_in_the_year_of_a_death_known_to_the_year():
    dead = {"deceased": True, "death_date": "2020"}
    assert not found(
        record(**dead, activities=[activity(date=dt.date(2020, 3, 31))]), "activity_after_death"
    )
    dead_in_march = {"deceased": True, "death_date": "2020-03"}
    assert not found(
        record(**dead_in_march, activities=[activity(date=dt.date(2020, 3, 31))]),
        "activity_after_death",
    )
    assert found(
        record(**dead_in_march, activities=[activity(date=dt.date(2020, 4, 1))]),
        "activity_after_death",
    )


def test_it_rejects_an_inclusion_before_birth():
    assert found(record(care_episodes=[episode(inclusion_date="2014")]), "inclusion_before_birth")
    assert not found(
        record(care_episodes=[episode(inclusion_date="2015")]), "inclusion_before_birth"
    )
    foetus = {"is_foetus": True, "mother_birth_name": "DURAND", "mother_first_name": "Anne"}
    assert not found(
        record(**foetus, care_episodes=[episode(inclusion_date="2014")]), "inclusion_before_birth"
    )


def test_it_rejects_an_opposition_date_without_opposition():
    assert found(
        record(opposition=False, opposition_on=dt.date(2020, 1, 1)),
        "opposition_date_without_opposition",
    )
    assert not found(
        record(opposition=True, opposition_on=dt.date(2020, 1, 1)),
        "opposition_date_without_opposition",
    )


def test_it_rejects_an_opposition_before_birth():
    assert found(
        record(opposition=True, opposition_on=dt.date(2015, 4, 9)), "opposition_before_birth"
    )
    assert not found(
        record(opposition=True, opposition_on=dt.date(2015, 4, 10)), "opposition_before_birth"
    )


def test_it_rejects_death_details_of_a_patient_not_recorded_deceased():
    messages = found(
        record(deceased=None, death_date="2020", death_related_to_rd="non"),
        "death_details_without_death",
    )
    assert {m.path for m in messages} == {"death_date", "death_related_to_rd"}
    assert found(record(deceased=False, death_cause_orpha=586), "death_details_without_death")
    assert not found(
        record(deceased=True, death_date="2020", death_related_to_rd="non"),
        "death_details_without_death",
    )


def test_it_wants_the_orpha_cause_of_a_death_related_to_the_rare_disease():
    dead = {"deceased": True, "death_date": "2020"}
    [message] = found(record(**dead, death_related_to_rd="oui"), "death_cause_missing")
    assert message.level == "warning"
    assert not found(
        record(**dead, death_related_to_rd="oui", death_cause_orpha=586), "death_cause_missing"
    )
    assert found(
        record(**dead, death_related_to_rd="non", death_cause_orpha=586), "death_cause_missing"
    )


def test_it_rejects_a_birth_rank_without_multiple_birth():
    assert found(record(multiple_birth_rank=2), "multiple_birth_rank_without_multiple_birth")
    assert found(
        record(multiple_birth=False, multiple_birth_rank=2),
        "multiple_birth_rank_without_multiple_birth",
    )
    assert not found(
        record(multiple_birth=True, multiple_birth_rank=2),
        "multiple_birth_rank_without_multiple_birth",
    )
    twins = PregnancyData(
        foetus_count=2, foetuses=[FoetusData(multiple=True, rank=1), FoetusData(rank=2)]
    )
    [message] = found(record(pregnancies=[twins]), "multiple_birth_rank_without_multiple_birth")
    assert message.path == "pregnancies[0].foetuses[1].rank"


def test_it_wants_the_mother_of_a_foetus():
    assert found(record(is_foetus=True), "foetus_without_mother")
    assert found(record(is_foetus=True, mother_birth_name="DURAND"), "foetus_without_mother")
    assert not found(
        record(is_foetus=True, mother_birth_name="DURAND", mother_first_name="Anne"),
        "foetus_without_mother",
    )
    assert not found(record(is_foetus=True, mother=17), "foetus_without_mother")


def test_it_rejects_a_pregnancy_ending_before_it_starts():
    assert found(
        record(pregnancies=[PregnancyData(start="2020-05", end="2020-04")]),
        "pregnancy_end_before_start",
    )
    assert not found(
        record(pregnancies=[PregnancyData(start="2020-05", end="2020-05")]),
        "pregnancy_end_before_start",
    )


# -- diagnoses ------------------------------------------------------------------------------


def test_it_codes_a_complex_non_rare_disease_in_cim10():
    assert found(
        record(diagnoses=[diagnosis(complex_non_rare=True)]), "complex_disease_code_system"
    )
    assert found(
        record(diagnoses=[diagnosis(disease=Code("E84.0", oids.CIM10))]),
        "complex_disease_code_system",
    )
    assert not found(
        record(diagnoses=[diagnosis(complex_non_rare=True, disease=Code("E84.0", oids.CIM10))]),
        "complex_disease_code_system",
    )


def test_it_wants_a_precision_for_the_other_context():
    other = Code("GEN-092.05.04", oids.TA_ASIP)
    [message] = found(record(activities=[activity(context=other)]), "context_other_without_detail")
    assert message.item_id == "activite_contexte_precision"
    assert not found(
        record(activities=[activity(context=other, context_detail="Visite à domicile")]),
        "context_other_without_detail",
    )
    # The code of "autre contexte" before 2024 (GEN-031) is the same concept.
    old_other = Code("GEN-031", oids.TA_ASIP)
    assert found(record(activities=[activity(context=old_other)]), "context_other_without_detail")


# -- ages -----------------------------------------------------------------------------------


def ages(
    onset: AgeAt | None, clinical: AgeAt | None = None, genetic: AgeAt | None = None, **changes
) -> RecordData:
    return record(
        diagnoses=[
            diagnosis(
                onset_age=onset,
                clinical_diagnosis_age=clinical,
                genetic_diagnosis_age=genetic or age(UNDETERMINED),
                **changes,
            )
        ]
    )


@pytest.mark.parametrize(
    ("onset", "clinical"),
    [
        (age(POSTNATAL, 5, "a"), age(POSTNATAL, 59, "mo")),
        (age(NEONATAL), age(FOETAL)),
        (age(POSTNATAL, 2, "mo"), age(NEONATAL)),
        (age(POST_MORTEM), age(POSTNATAL, 40, "a")),
    ],
)
def test_it_rejects_a_clinical_diagnosis_before_the_first_signs(onset, clinical):
    [message] = found(ages(onset, clinical), "clinical_diagnosis_before_onset")
    assert message.path == "diagnoses[0].clinical_diagnosis_age"
    assert message.level == "error"


@pytest.mark.parametrize(
    ("onset", "clinical"),
    [
        (age(POSTNATAL, 5, "a"), age(POSTNATAL, 5, "a")),
        (age(POSTNATAL, 5, "a"), age(POSTNATAL, 60, "mo")),
        (age(POSTNATAL, 18, "mo"), age(POSTNATAL, 1, "a")),  # 1 year = 12 to 23 months
        (age(FOETAL), age(FOETAL)),
        (age(POSTNATAL, 0, "mo"), age(NEONATAL)),
        (age(POSTNATAL, 7, "a"), age(UNDETERMINED)),  # not comparable
        (age(NO_SIGN), age(POSTNATAL, 2, "a")),  # not comparable
        (age(POSTNATAL, 7, "a"), age(POST_MORTEM)),  # post-mortem after all
    ],
)
def test_it_accepts_a_clinical_diagnosis_after_or_with_the_first_signs(onset, clinical):
    changes = {"date": "2024"}
    assert not found(ages(onset, clinical, **changes), "clinical_diagnosis_before_onset")


def test_it_warns_about_a_genetic_diagnosis_before_the_first_signs():
    [message] = found(
        ages(age(POSTNATAL, 8, "a"), age(POSTNATAL, 8, "a"), age(POSTNATAL, 2, "a"), date="2024"),
        "genetic_diagnosis_before_onset",
    )
    assert message.level == "warning"
    assert not found(
        ages(age(POSTNATAL, 2, "a"), age(POSTNATAL, 3, "a"), age(POSTNATAL, 3, "a")),
        "genetic_diagnosis_before_onset",
    )


def test_it_maps_older_age_codes_before_comparing():
    # GEN-020 (TA_ASIP) is the former "à l'âge de": postnatal.
    old_postnatal = AgeAt("GEN-020", oids.TA_ASIP, Decimal(1), "a")
    assert found(ages(age(POSTNATAL, 5, "a"), old_postnatal), "clinical_diagnosis_before_onset")


def test_it_wants_a_quantity_for_a_postnatal_age_only():
    [message] = found(ages(age(POSTNATAL)), "age_quantity_missing")
    assert message.item_id == "age_premiers_signes_precision"
    assert found(ages(age(POSTNATAL, 3, "wk")), "age_quantity_missing")
    assert found(ages(age(NEONATAL, 3, "mo")), "age_quantity_forbidden")
    assert not found(ages(age(NEONATAL), age(POSTNATAL, 3, "mo")), "age_quantity_missing")
    assert not found(ages(age(NEONATAL), age(POSTNATAL, 3, "mo")), "age_quantity_forbidden")


def test_it_checks_ages_against_the_diagnosis_date():
    # Born 10/04/2015; clinical diagnosis at 6 years cannot be dated 06/2019.
    [message] = found(
        ages(age(POSTNATAL, 1, "a"), age(POSTNATAL, 6, "a")), "age_inconsistent_with_dates"
    )
    assert message.path == "diagnoses[0].clinical_diagnosis_age"
    assert "06/2019" in message.text
    assert not found(
        ages(age(POSTNATAL, 1, "a"), age(POSTNATAL, 4, "a")), "age_inconsistent_with_dates"
    )


def test_it_checks_ages_against_today_and_the_death():
    assert found(
        ages(age(POSTNATAL, 12, "a"), age(POSTNATAL, 12, "a"), date=None),
        "age_inconsistent_with_dates",
    )
    dead = {"deceased": True, "death_date": "2018"}
    at_4, at_2 = age(POSTNATAL, 4, "a"), age(POSTNATAL, 2, "a")
    assert found(
        dataclasses.replace(ages(at_4, at_4, date=None), **dead), "age_inconsistent_with_dates"
    )
    assert not found(
        dataclasses.replace(ages(at_2, at_2, date=None), **dead), "age_inconsistent_with_dates"
    )


def test_it_checks_a_neonatal_age_against_a_diagnosis_dated_before_birth():
    assert found(ages(age(NEONATAL), age(NEONATAL), date="2014"), "age_inconsistent_with_dates")
    assert not found(ages(age(FOETAL), age(FOETAL), date="2014"), "age_inconsistent_with_dates")


def test_it_rejects_a_post_mortem_age_of_a_living_patient():
    assert found(
        dataclasses.replace(ages(age(POSTNATAL, 1, "a"), age(POST_MORTEM)), deceased=False),
        "age_inconsistent_with_dates",
    )
    assert not found(
        dataclasses.replace(
            ages(age(POSTNATAL, 1, "a"), age(POST_MORTEM)), deceased=True, death_date="2019-05"
        ),
        "age_inconsistent_with_dates",
    )


# -- terminologies ----------------------------------------------------------------------------


class FakeTerminologies:
    """Answers like bamara.terminologies with a handful of codes."""

    def orpha(self, codes):
        known = {
            586: OrphaInfo(True, "disorder", ()),
            98053: OrphaInfo(True, "group", ()),
            166068: OrphaInfo(False, "disorder", (166063,)),
        }
        return {code: known[code] for code in codes if code in known}

    def hpo(self, ids):
        known = {"HP:0001250": HpoInfo(False), "HP:0001425": HpoInfo(True, "HP:0000005")}
        return {term: known[term] for term in ids if term in known}

    def cim10(self, codes):
        return {code for code in codes if code in {"E840", "E84"}}

    def communes(self, codes):
        return {code for code in codes if code in {"75115", "2A004"}}

    def countries(self, codes):
        return {code for code in codes if code in {"FR", "BE"}}


def test_it_checks_orpha_codes_and_proposes_the_replacement_of_an_inactive_one():
    terms = FakeTerminologies()
    assert check(record(), terminologies=terms) == []
    [message] = found(
        record(diagnoses=[diagnosis(disease=Code("999999", oids.ORPHA))]),
        "orpha_unknown",
        terminologies=terms,
    )
    assert message.level == "error"
    [message] = found(
        record(diagnoses=[diagnosis(disease=Code("166068", oids.ORPHA))]),
        "orpha_inactive",
        terminologies=terms,
    )
    assert message.level == "warning"
    assert "ORPHA:166063" in message.text
    dead = {"deceased": True, "death_date": "2020", "death_related_to_rd": "oui"}
    assert found(record(**dead, death_cause_orpha=999999), "orpha_unknown", terminologies=terms)
    assert not found(record(**dead, death_cause_orpha=586), "orpha_unknown", terminologies=terms)


def test_it_warns_when_a_confirmed_diagnosis_has_a_group_code():
    terms = FakeTerminologies()
    group = Code("98053", oids.ORPHA)
    [message] = found(
        record(diagnoses=[diagnosis(disease=group)]), "confirmed_group_code", terminologies=terms
    )
    assert message.level == "warning"
    in_progress = diagnosis(disease=group, status=Code(IN_PROGRESS, SNOMED))
    assert not found(record(diagnoses=[in_progress]), "confirmed_group_code", terminologies=terms)


def test_it_checks_hpo_and_cim10_codes():
    terms = FakeTerminologies()
    signs = [
        Code("HP:0001250", oids.HPO),
        Code("HP:9999999", oids.HPO),
        Code("HP:0001425", oids.HPO),
        Code("E84.0", oids.CIM10),
        Code("Q99.9", oids.CIM10),
    ]
    messages = check(record(diagnoses=[diagnosis(signs=signs)]), terminologies=terms)
    assert [(m.code, m.path) for m in messages] == [
        ("hpo_unknown", "diagnoses[0].signs[1]"),
        ("hpo_obsolete", "diagnoses[0].signs[2]"),
        ("cim10_unknown", "diagnoses[0].signs[4]"),
    ]


def test_it_checks_communes_and_countries_exist():
    terms = FakeTerminologies()
    assert (
        check(
            record(birth_commune="2A004", birth_country="BE", residence_commune="99134"),
            terminologies=terms,
        )
        == []
    )
    assert found(record(birth_commune="75999"), "commune_unknown", terminologies=terms)
    assert found(record(residence_country="ZZ"), "country_unknown", terminologies=terms)


def test_it_skips_terminology_checks_when_nothing_is_loaded():
    assert check(record(diagnoses=[diagnosis(disease=Code("999999", oids.ORPHA))])) == []


@pytest.mark.django_db
def test_it_uses_the_terminologies_loaded_in_the_database():
    from bamara.terminologies.models import OrphaConcept, OrphaRedirection

    # Hand-built concepts only: another module may have loaded the real release for the
    # session (rolled back with this test's transaction).
    OrphaRedirection.objects.all().delete()
    OrphaConcept.objects.all().delete()

    def concept(code: int, level: str, status: str = "active") -> OrphaConcept:
        return OrphaConcept.objects.create(
            code=code,
            name_fr=f"maladie {code}",
            name_en="",
            disorder_type="Disease",
            level=level,
            status=status,
            flag_value=0,
        )

    concept(586, "disorder")
    concept(98053, "group")
    old = concept(166068, "disorder", "obsolete")
    OrphaRedirection.objects.create(
        source=old, target=concept(166063, "disorder"), association_type="Moved to"
    )
    assert check(record(), terminologies=None) == []
    assert found(
        record(diagnoses=[diagnosis(disease=Code("4", oids.ORPHA))]),
        "orpha_unknown",
        terminologies=None,
    )
    [message] = found(
        record(diagnoses=[diagnosis(disease=Code("166068", oids.ORPHA))]),
        "orpha_inactive",
        terminologies=None,
    )
    assert "ORPHA:166063" in message.text
    assert found(
        record(diagnoses=[diagnosis(disease=Code("98053", oids.ORPHA))]),
        "confirmed_group_code",
        terminologies=None,
    )


@pytest.mark.django_db
def test_it_checks_hpo_and_cim10_codes_in_the_database_without_sending_it_junk():
    from bamara.terminologies.models import Cim10Code, HpoTerm

    HpoTerm.objects.create(id="HP:0001250", name="Seizure")
    HpoTerm.objects.create(id="HP:0001425", name="old", is_obsolete=True, replaced_by="HP:0001250")
    Cim10Code.objects.create(code="E840", code_dotted="E84.0", label="x", category="E84", atih_type=0)
    signs = [
        Code("HP:0001250", oids.HPO),
        Code("hp_1425", oids.HPO),  # read as HP:0001425, obsolete
        Code("HP:\x00", oids.HPO),  # NUL: PostgreSQL would refuse it in a query
        Code("E84.0", oids.CIM10),
        Code("E84.9", oids.CIM10),
        Code("E8\x004", oids.CIM10),
        Code("Q87.4", oids.CIM10),  # not checkable: no Q87 code loaded (partial CIM-10)
    ]
    messages = check(record(diagnoses=[diagnosis(signs=signs)]), terminologies=None)
    assert [(m.code, m.path) for m in messages] == [
        ("hpo_unknown", "diagnoses[0].signs[2]"),
        ("cim10_unknown", "diagnoses[0].signs[5]"),
        ("hpo_obsolete", "diagnoses[0].signs[1]"),
        ("cim10_unknown", "diagnoses[0].signs[4]"),
    ]


# -- the rules table ------------------------------------------------------------------------------


def test_it_lists_each_rule_once_with_known_items():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    current = definition.current()
    every_item = {
        item.id for version in definition.versions() for item in definition.get(version).items
    }
    for rule in RULES:
        assert rule.level in ("error", "warning")
        assert rule.description_fr.endswith(".")
        assert all(item == "*" or item in every_item for item in rule.items), rule
    assert current.has_item("date_naissance")


def test_it_names_concepts_that_exist_in_the_definition():
    current = definition.current()
    for name, oid in [
        ("AGE_FOETAL", "1.2.250.1.213.1.1.5.43"),
        ("AGE_NEONATAL", "1.2.250.1.213.1.1.5.43"),
        ("AGE_POSTNATAL", "1.2.250.1.213.1.1.5.43"),
        ("AGE_UNDETERMINED", "1.2.250.1.213.1.1.5.43"),
        ("AGE_POST_MORTEM", "1.2.250.1.213.1.1.5.43"),
        ("AGE_NO_SIGN", "1.2.250.1.213.1.1.5.43"),
        ("STATUS_CONFIRMED", "1.2.250.1.213.1.1.5.45"),
        ("CONTEXT_OTHER", "1.2.250.1.213.1.1.5.40"),
    ]:
        code = getattr(checks, name)
        assert current.value_set(oid).contains(code.code, code.system), name


def test_it_keeps_the_rules_table_of_the_docs_up_to_date():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text(
        encoding="utf-8"
    )
    table = re.search(r"<!-- rules:start -->\n(.*)<!-- rules:end -->", docs, re.DOTALL)
    assert table, "docs/validation.md has no generated rules table"
    assert table.group(1) == rules_markdown(), (
        "run: uv run bamara shell -c 'from bamara.records.validation import docs; docs.main()'"
    )


def test_it_does_not_require_a_birth_date_or_name_for_an_unborn_foetus():
    from bamara.records.validation import RecordData, validate

    foetus = RecordData(is_foetus=True, sex=("UN", "2.16.840.1.113883.5.1"),
                        mother_birth_name="MARTIN", mother_first_name="Marie")
    person = RecordData(sex=("F", "2.16.840.1.113883.5.1"))
    required = lambda msgs: {m.path for m in msgs if m.code == "required"}  # noqa: E731
    assert not required(validate(foetus)) & {"birth_date", "birth_name"}
    assert {"birth_date", "birth_name"} <= required(validate(person))
