"""Invariants of 300 generated demo patients, checked against the real reference files."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Count, F, Q

from bamara.demo.bulk import foreign_key_violations
from bamara.demo.generator import ACTIVITY_START, INACTIVE_COMMENT
from bamara.demo.organisation import read_tsv
from bamara.demo.reference import luhn_valid, nir_key
from bamara.organisations.models import Hospital, Site
from bamara.records.models import (
    Activity,
    ActivityObjective,
    ActivityProfession,
    CareEpisode,
    ClinicalSign,
    Diagnosis,
    Foetus,
    Gene,
    GeneticTechnique,
    Patient,
    Pregnancy,
    Referral,
    Source,
)
from bamara.sdm import oids

from .conftest import AS_OF

pytestmark = [pytest.mark.django_db, pytest.mark.shared]

SNOMED = oids.SNOMED_CT


def test_it_creates_the_requested_number_of_patient_records(demo) -> None:
    assert Patient.objects.filter(source=Source.DEMO).count() == 300
    assert demo.patients == 300


def test_it_gives_every_patient_a_diagnosis_and_a_care_episode(demo) -> None:
    patients = Patient.objects.annotate(
        n_diagnoses=Count("diagnoses", distinct=True), n_episodes=Count("care_episodes", distinct=True)
    )
    assert not patients.filter(Q(n_diagnoses=0) | Q(n_episodes=0)).exists()
    assert patients.filter(n_diagnoses__gte=2).exists()
    assert not patients.filter(n_diagnoses__gt=3).exists()


def test_it_dates_activities_after_birth_and_not_after_death(demo) -> None:
    persons = Activity.objects.filter(patient__is_foetus=False)
    assert not persons.filter(date__lt=F("patient__birth_date")).exists()
    assert not persons.filter(patient__deceased=True, date__gt=F("patient__death_date")).exists()
    assert not Activity.objects.filter(Q(date__lt=ACTIVITY_START) | Q(date__gt=AS_OF)).exists()
    # A foetus has no birth yet: its activities follow the start of the pregnancy.
    for activity in Activity.objects.filter(patient__is_foetus=True).select_related("foetus__pregnancy"):
        assert activity.date >= activity.foetus.pregnancy.start


def test_it_dates_diagnoses_and_deaths_after_birth(demo) -> None:
    persons = Diagnosis.objects.filter(patient__is_foetus=False)
    assert not persons.filter(date__lt=F("patient__birth_date")).exists()
    assert not persons.filter(date__gt=AS_OF).exists()
    dead = Patient.objects.filter(deceased=True)
    assert dead.exists()
    assert not dead.filter(Q(death_date__isnull=True) | Q(death_date__lt=F("birth_date"))).exists()


def test_it_has_realistic_shares(demo) -> None:
    persons = Patient.objects.filter(is_foetus=False)
    assert 0.003 < persons.filter(deceased=True).count() / persons.count() < 0.10
    statuses = Counter(Diagnosis.objects.values_list("status_code", flat=True))
    total = sum(statuses.values())
    assert 0.55 < statuses["255545003"] / total < 0.75  # confirmé ~65 %
    assert 0.12 < statuses["385651009"] / total < 0.28  # en cours ~20 %
    assert 0.06 < statuses["42425007"] / total < 0.19  # indéterminé ~12 %
    mean_activities = Activity.objects.count() / Patient.objects.count()
    assert 5 < mean_activities < 11
    ages = [(AS_OF - b).days / 365.25 for b in persons.values_list("birth_date", flat=True)]
    assert sum(age < 18 for age in ages) / len(ages) > 0.3  # many children


def _days(code: str, value, unit: str) -> float | None:
    """Lower bound in days of an age class, None when not comparable."""
    if code == "303112003":
        return -1
    if code == "255407002":
        return 0
    if code == "767023003":
        return float(value) * (30.44 if unit == "mo" else 365.25)
    return None


def test_it_never_puts_onset_after_diagnosis(demo) -> None:
    compared = 0
    for d in Diagnosis.objects.all():
        onset = _days(d.onset_age_code, d.onset_age_value, d.onset_age_unit)
        for code, value, unit in (
            (d.clinical_diagnosis_age_code, d.clinical_diagnosis_age_value, d.clinical_diagnosis_age_unit),
            (d.genetic_diagnosis_age_code, d.genetic_diagnosis_age_value, d.genetic_diagnosis_age_unit),
        ):
            later = _days(code, value, unit)
            if onset is not None and later is not None:
                compared += 1
                # Classes round down (months, years), monotonically: never before the onset class.
                assert later >= onset, d.pk
    assert compared > 100


def test_it_uses_only_codes_of_the_real_value_sets(demo, jdv) -> None:
    checks = [
        (Diagnosis, "status", "JDV_StatutActuelDiagnostic_CISIS"),
        (Diagnosis, "onset_age", "JDV_Age_CISIS"),
        (Diagnosis, "clinical_diagnosis_age", "JDV_Age_CISIS"),
        (Diagnosis, "genetic_diagnosis_age", "JDV_Age_CISIS"),
        (Diagnosis, "appraisal_at_entry", "JDV_AppreciationDiagnosticCentre_CISIS"),
        (Diagnosis, "sporadic_or_familial", "JDV_CasSporadiqueFamilial_CISIS"),
        (Activity, "context", "JDV_ContexteActivite_CISIS"),
        (ActivityObjective, "objective", "JDV_ObjectifActivite_CISIS"),
        (ActivityProfession, "profession", "JDV_ProfessionPersonnelActivite_CISIS"),
        (Referral, "referred_by", "JDV_PatientAdressePar_CISIS"),
        (GeneticTechnique, "technique", "JDV_TechniquesDiagnostic_CISIS"),
        (Foetus, "outcome", "JDV_IssueGrossesse_CISIS"),
        (Patient, "sex", "JDV_HL7_AdministrativeGender_CISIS"),
        (Patient, "clinical_status", "JDV_HealthStatusCodes_CISIS"),
        (Patient, "representative_relation", "JDV_HL7_PersonalRelationshipRoleType_CISIS"),
        (CareEpisode, "encounter_type", "JDV_HL7_ActEncounterCode_CISIS"),
    ]
    for model, name, value_set in checks:
        used = set(
            model.objects.exclude(**{f"{name}_code": ""}).values_list(f"{name}_code", f"{name}_system")
        )
        allowed = jdv(value_set)
        # Foetuses are few: an outcome only once a pregnancy has ended.
        assert used or model is Foetus, f"{model.__name__}.{name} jamais renseigné"
        assert used <= allowed, f"{model.__name__}.{name}: {sorted(used - allowed)}"
    # Status is always given, with the current SNOMED CT codes.
    assert not Diagnosis.objects.filter(status_code="").exists()
    assert set(Diagnosis.objects.values_list("status_system", flat=True)) == {SNOMED}


def test_it_uses_real_orpha_codes(demo, nomenclature) -> None:
    diseases = Diagnosis.objects.exclude(disease_code="")
    assert set(diseases.values_list("disease_system", flat=True)) == {oids.ORPHA}
    for code, comment in diseases.values_list("disease_code", "comment"):
        row = nomenclature[code]
        assert row["classification_level"] == "Disorder"
        # Inactive codes only on purpose, and flagged so that the "codes to update" lists see them.
        assert (row["status"] == "Active") == (comment != INACTIVE_COMMENT), code
    groups = ClinicalSign.objects.filter(sign_system=oids.ORPHA_GROUPS).values_list("sign_code", flat=True)
    for code in groups:
        assert nomenclature[code]["classification_level"] == "Group of disorders"
        assert nomenclature[code]["status"] == "Active"


def test_it_describes_undetermined_diagnoses_with_real_hpo_terms(demo, hpo_terms) -> None:
    undetermined = Diagnosis.objects.filter(status_code="42425007")
    described = undetermined.filter(signs__isnull=False).distinct().count()
    assert described / undetermined.count() > 0.7
    hpo = ClinicalSign.objects.filter(sign_system=oids.HPO).values_list("sign_code", flat=True)
    assert hpo
    for code in hpo:
        assert hpo_terms.get(code) is False, code  # exists and is not obsolete


def test_it_records_real_gene_symbols(demo) -> None:
    genes = Gene.objects.select_related("diagnosis")
    assert genes.exists()
    assert not genes.filter(symbol="").exists()
    assert not genes.exclude(diagnosis__status_code__in=["255545003", "24800002"]).exists()


def test_it_keeps_ipp_unique_per_hospital(demo) -> None:
    duplicated = (
        Patient.objects.exclude(ipp="").values("hospital_id", "ipp").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicated.exists()
    assert not Patient.objects.filter(ipp="").exists()


def test_it_gives_foetuses_a_mother_and_a_pregnancy(demo) -> None:
    foetuses = Patient.objects.filter(is_foetus=True)
    assert foetuses.exists()
    for record in foetuses.select_related("mother", "foetus_entry__pregnancy"):
        assert record.mother is not None and record.mother.sex_code == "F"
        entry = record.foetus_entry
        assert entry.mother_id == record.mother_id == entry.pregnancy.patient_id
        assert record.mother_birth_name == record.mother.birth_name
    assert Pregnancy.objects.count() == Foetus.objects.count()


def test_it_follows_some_patients_at_two_sites(demo) -> None:
    two_sites = Patient.objects.annotate(n=Count("care_episodes")).filter(n=2)
    assert two_sites.exists()
    for patient in two_sites:
        hospitals = {e.site.hospital_id for e in patient.care_episodes.select_related("site")}
        assert hospitals == {patient.hospital_id}
    # Followed in another hospital: a second record with the same identity there.
    same_person = (
        Patient.objects.filter(is_foetus=False)
        .values("birth_name", "first_birth_given_name", "birth_date", "birth_commune")
        .annotate(hospitals=Count("hospital", distinct=True))
        .filter(hospitals__gt=1)
    )
    assert same_person.exists()


def test_it_marks_a_few_opposed_and_external_review_records(demo) -> None:
    assert Patient.objects.filter(is_external_review=True).exists()
    opposed = Patient.objects.filter(opposition=True)
    assert not opposed.filter(opposition_on__isnull=True).exists()


def test_it_writes_well_formed_identifiers(demo, communes) -> None:
    with_ins = Patient.objects.exclude(ins="")
    assert with_ins.count() > 150
    for ins, oid, sex, birth, commune in with_ins.values_list(
        "ins", "ins_oid", "sex_code", "birth_date", "birth_commune"
    ):
        assert oid == oids.INS_NIR_TEST  # fake identities: the test INS OID
        assert len(ins) == 15 and ins[13:] == nir_key(ins[:13])
        assert ins[0] == ("1" if sex == "M" else "2")
        assert ins[1:5] == birth.strftime("%y%m")
        assert ins[5:10] == (commune or ins[5:10])
    for code in Patient.objects.exclude(birth_commune="").values_list("birth_commune", flat=True):
        assert code in communes
    for code in Patient.objects.values_list("residence_commune", flat=True):
        assert code in communes
    numbers = list(CareEpisode.objects.exclude(referent_rpps="").values_list("referent_rpps", flat=True))
    numbers += list(Activity.objects.exclude(performer_rpps="").values_list("performer_rpps", flat=True))
    assert numbers
    for rpps in set(numbers):
        assert len(rpps) == 11 and rpps.startswith("8") and luhn_valid(rpps), rpps


def test_it_uses_real_finess_hospitals(demo, finess) -> None:
    hospitals = Hospital.objects.filter(finess_et__in=[r["finess_et"] for r in read_tsv("hospitals.tsv")])
    assert hospitals.count() == 12
    for hospital in hospitals:
        row = finess[hospital.finess_et]
        assert hospital.finess_ej == row["finess_ej"]
        assert hospital.commune_code == row["commune_insee"]
        assert hospital.name == row["name_long"]
    sites = Site.objects.filter(code__in=[r["code"] for r in read_tsv("sites.tsv")])
    assert sites.count() == 40
    assert all(site.name.endswith("(démo)") for site in sites)
    assert sites.values("filiere").distinct().count() >= 6


def test_it_writes_every_row_as_demo_data(demo) -> None:
    assert not Patient.objects.exclude(source=Source.DEMO).exists()
    assert not Activity.objects.exclude(source=Source.DEMO).exists()
    assert not Diagnosis.objects.exclude(source=Source.DEMO).exists()


def test_it_only_references_existing_rows(demo) -> None:
    assert foreign_key_violations() == []


def test_it_leaves_the_id_sequences_usable(demo) -> None:
    """Ids were allocated by the generator: the ORM must still insert after them."""
    hospital = Hospital.objects.get(finess_et="750100208")
    patient = Patient.objects.create(
        hospital=hospital, birth_name="TEST", birth_date=dt.date(2000, 1, 1), birth_date_precision="D"
    )
    assert patient.pk > Patient.objects.exclude(pk=patient.pk).order_by("-pk").first().pk


def test_it_passes_the_domain_validation_without_errors(demo) -> None:
    from bamara.records.validation import NoTerminologies, records_from_patients, validate

    errors = []
    for patient, record in records_from_patients(Patient.objects.order_by("pk")):
        for message in validate(record, today=AS_OF, terminologies=NoTerminologies()):
            # An unborn foetus has no birth date yet (reported to the validation layer's owner).
            if message.level == "error" and not (patient.is_foetus and message.path == "birth_date"):
                errors.append((patient.pk, message.code, message.path, message.text))
    assert errors == []
