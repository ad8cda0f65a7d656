"""The per-(site, patient) facts behind the figures: kept exact on every save and delete, rebuilt
when a bulk load left them missing."""

from __future__ import annotations

import datetime as dt

import pytest

from bamara.records.models import Activity, CareEpisode, Diagnosis, Patient
from bamara.reports import scopes
from bamara.reports.compute import Period, compute
from bamara.reports.models import SitePatientFact
from bamara.sdm import oids
from tests.reports.conftest import CONFIRMED, EXPECTED_OWN_2025, REFUTED, act

pytestmark = pytest.mark.django_db
YEAR = Period.year(2025)


def own():
    return compute(scopes.resolve("site", "S9001"), YEAR)


def test_it_keeps_one_row_per_site_and_patient_with_the_patients_characteristics(year):
    beta = Patient.objects.get(birth_name="BETA")
    rows = {r.site_id: r for r in SitePatientFact.objects.filter(patient=beta)}
    assert set(rows) == {year.own.pk, year.sibling.pk}
    assert rows[year.own.pk].first_inclusion == dt.date(2019, 3, 1)
    assert rows[year.sibling.pk].first_inclusion == dt.date(2025, 6, 1)
    assert {(r.sex_code, r.birth_date, r.status_rank, r.orpha_codes) for r in rows.values()} == {
        ("M", dt.date(2010, 1, 1), 1, "586")}
    alpha = SitePatientFact.objects.get(patient__birth_name="ALPHA")
    assert sorted(alpha.orpha_codes.split(",")) == ["586", "79254"] and alpha.status_rank == 0


def test_it_follows_a_diagnosis_a_death_and_an_inclusion_saved_after_the_fact(year):
    gamma = Patient.objects.get(birth_name="GAMMA")
    diagnosis = Diagnosis.objects.get(patient=gamma)
    diagnosis.status_code = CONFIRMED
    diagnosis.save()
    epsilon = Patient.objects.get(birth_name="EPSILON")
    epsilon.death_date_partial = "2025-03-01"
    epsilon.save()
    beta = CareEpisode.objects.get(patient__birth_name="BETA", site=year.own)
    beta.inclusion_date_partial = "2025-02-01"
    beta.save()
    f = own()
    assert f.by_status["255545003"] == 3 and f.by_status["42425007"] == 0  # GAMMA now confirmed
    assert f.values["deceased"] == 2  # GAMMA and EPSILON
    assert f.values["new_patients"] == 4  # BETA now included in 2025
    diagnosis.delete()
    assert own().by_status["255545003"] == 2 and own().by_status["aucun"] == 2  # GAMMA: none left


def test_it_counts_a_patient_whose_first_activity_at_a_site_is_just_saved(year):
    iris = Patient.objects.get(birth_name="IRIS")
    act(iris, year.own, "2025-10-10", "11429006")  # no care episode at the own site
    f = own()
    assert f.values["file_active"] == EXPECTED_OWN_2025["file_active"] + 1
    assert f.values["new_patients"] == EXPECTED_OWN_2025["new_patients"]  # no inclusion there
    Activity.objects.get(patient=iris, site=year.own).delete()
    assert own().values == pytest.approx(EXPECTED_OWN_2025)  # the pair left behind is harmless


def test_it_rebuilds_the_facts_a_bulk_load_left_missing(year):
    # bulk_create bypasses signals: a new patient and its activity have no facts row yet.
    ghost = Patient.objects.bulk_create([Patient(hospital=year.own.hospital, birth_name="ZETA", sex_code="F",
                                                 sex_system=oids.HL7_GENDER)])[0]
    Diagnosis.objects.bulk_create([Diagnosis(patient=ghost, disease_code="586", disease_system=oids.ORPHA,
                                             status_code=REFUTED, status_system=oids.SNOMED_CT)])
    Activity.objects.bulk_create([Activity(patient=ghost, site=year.own, date=dt.date(2025, 7, 7),
                                           context_code="11429006", context_system=oids.SNOMED_CT)])
    assert not SitePatientFact.objects.filter(patient=ghost).exists()
    f = own()
    assert f.values["file_active"] == 8 and f.by_status["723511001"] == 2
    assert SitePatientFact.objects.filter(patient=ghost, site=year.own).exists()


def test_it_forgets_a_deleted_patient(year):
    gamma = Patient.objects.get(birth_name="GAMMA")
    gamma.delete()
    assert not SitePatientFact.objects.filter(patient_id=gamma.pk).exists()
    assert own().values["file_active"] == 6


def test_it_catches_up_with_changes_written_without_signals(year):
    # The CDA intake updates records with queryset updates that set updated_at: the next figures
    # rebuild the facts of the patients changed since the previous ones.
    from django.utils import timezone

    assert own().values["deceased"] == 1
    Patient.objects.filter(birth_name="EPSILON").update(death_date="2025-03-01", updated_at=timezone.now())
    Diagnosis.objects.filter(patient__birth_name="GAMMA").update(status_code=CONFIRMED, updated_at=timezone.now())
    f = own()
    assert f.values["deceased"] == 2 and f.by_status["255545003"] == 3
