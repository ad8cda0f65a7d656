"""Validating records read back from the database (record_data_from_patient)."""

import datetime as dt
from decimal import Decimal

import pytest

from bamara.organisations.models import Filiere, Hospital, Site
from bamara.records.fields import AgeAt, Code
from bamara.records.models import (
    Activity,
    ActivityObjective,
    ActivityProfession,
    CareEpisode,
    ClinicalSign,
    Diagnosis,
    Foetus,
    Patient,
    Pregnancy,
    Referral,
)
from bamara.records.validation import (
    NoTerminologies,
    RecordData,
    record_data_from_patient,
    records_from_patients,
    validate,
)
from bamara.sdm import oids

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 6, 1)
SNOMED = oids.SNOMED_CT


@pytest.fixture
def site() -> Site:
    hospital = Hospital.objects.create(finess_et="750100125", name="Hôpital test")
    filiere = Filiere.objects.create(acronym="FILFOIE", name="Filière test")
    return Site.objects.create(
        code="S0101", name="Centre test", kind="CCMR", filiere=filiere, hospital=hospital
    )


def make_patient(site: Site, birth_name: str = "MARTIN") -> Patient:
    patient = Patient(
        hospital=site.hospital,
        birth_name=birth_name,
        first_birth_given_name="Léa",
        gp_rpps="10003456789",
    )
    patient.sex = Code("F", oids.HL7_GENDER)
    patient.birth_date_partial = "2015-04"
    patient.save()
    diagnosis = Diagnosis(
        patient=patient, disease=Code("586", oids.ORPHA), status=Code("255545003", SNOMED)
    )
    diagnosis.date_partial = "2019-06"
    diagnosis.onset_age = AgeAt("767023003", SNOMED, Decimal(18), "mo")
    diagnosis.clinical_diagnosis_age = AgeAt("767023003", SNOMED, Decimal(3), "a")
    diagnosis.genetic_diagnosis_age = AgeAt("373068000", SNOMED)
    diagnosis.save()
    ClinicalSign.objects.create(diagnosis=diagnosis, sign=Code("HP:0001250", oids.HPO))
    activity = Activity.objects.create(
        patient=patient,
        site=site,
        date=dt.date(2020, 1, 15),
        context=Code("11429006", SNOMED),
        performer_rpps="10003456789",
    )
    ActivityObjective.objects.create(activity=activity, objective=Code("MED-097", oids.TA_ASIP))
    ActivityProfession.objects.create(
        activity=activity, profession=Code("G15_10", oids.RPPS_PROFESSIONS)
    )
    episode = CareEpisode(patient=patient, site=site, referent_rpps="10003456789")
    episode.inclusion_date_partial = "2019"
    episode.save()
    Referral.objects.create(episode=episode, referred_by=Code("ORG-019", oids.TA_ASIP))
    pregnancy = Pregnancy(patient=patient, foetus_count=2)
    pregnancy.start_partial = "2010-01"
    pregnancy.end_partial = "2010-09"
    pregnancy.save()
    Foetus.objects.create(
        pregnancy=pregnancy,
        mother=patient,
        multiple=True,
        rank=2,
        outcome=Code("236973005", SNOMED),
        outcome_gestational_age_weeks=36,
    )
    return patient


def test_it_builds_the_record_data_of_a_saved_patient(site):
    patient = make_patient(site)
    data = record_data_from_patient(Patient.objects.get(pk=patient.pk))
    assert isinstance(data, RecordData)
    assert data.birth_date.isoformat() == "2015-04"
    assert data.diagnoses[0].onset_age.value == Decimal(18)
    assert data.diagnoses[0].signs == [Code("HP:0001250", oids.HPO)]
    assert data.activities[0].site == "S0101"
    assert data.care_episodes[0].referrals == [Code("ORG-019", oids.TA_ASIP)]
    assert data.pregnancies[0].foetuses[0].rank == 2
    assert validate(data, today=TODAY, terminologies=NoTerminologies()) == []


def test_it_finds_the_problems_of_a_saved_patient(site):
    patient = make_patient(site)
    patient.deceased = True
    patient.death_date_partial = "2014"
    patient.multiple_birth_rank = 2
    patient.save()
    Diagnosis.objects.filter(patient=patient).update(onset_age_value=None)

    messages = validate(
        record_data_from_patient(patient), today=TODAY, terminologies=NoTerminologies()
    )
    codes = {(message.code, message.path) for message in messages}
    assert ("death_before_birth", "death_date") in codes
    assert ("multiple_birth_rank_without_multiple_birth", "multiple_birth_rank") in codes
    assert ("age_quantity_missing", "diagnoses[0].onset_age") in codes
    assert ("activity_after_death", "activities[0].date") in codes


def test_it_reads_many_patients_in_a_fixed_number_of_queries(site, django_assert_num_queries):
    for index in range(3):
        make_patient(site, f"PATIENT{index}")
    # 1 for the patients + 1 per prefetched relation (12), whatever the number of patients.
    with django_assert_num_queries(13):
        records = [data for _patient, data in records_from_patients(Patient.objects.order_by("pk"))]
    assert [data.birth_name for data in records] == ["PATIENT0", "PATIENT1", "PATIENT2"]
    assert all(
        validate(data, today=TODAY, terminologies=NoTerminologies()) == [] for data in records
    )
