"""Every indicator on the hand-built year of tests/reports/conftest.py."""

from __future__ import annotations

import datetime as dt

import pytest

from bamara.reports import indicators as ind
from bamara.reports import scopes
from bamara.reports.compute import Period, age_band, compute
from tests.reports.conftest import EXPECTED_OWN_2025

pytestmark = pytest.mark.django_db


def figures(kind, key, period):
    return compute(scopes.resolve(kind, key), period)


def test_it_gives_every_indicator_of_a_site_for_a_year(year):
    f = figures("site", "S9001", Period.year(2025))
    assert {key: f.values[key] for key in EXPECTED_OWN_2025} == EXPECTED_OWN_2025
    assert set(f.values) == {i.key for i in ind.INDICATORS}  # every defined indicator is computed


def test_it_breaks_the_file_active_down_by_diagnosis_status(year):
    f = figures("site", "S9001", Period.year(2025))
    # ALPHA confirmed (confirmed wins over in progress), HUGO confirmed, BETA in progress, GAMMA
    # equivocal, EPSILON carrier, GRETA refuted, FOETUS without diagnosis.
    assert f.by_status == {"255545003": 2, "385651009": 1, "42425007": 1, "24800002": 1,
                           "723511001": 1, ind.NO_STATUS: 1}


def test_it_builds_the_age_and_sex_pyramid_at_the_last_day_of_the_period(year):
    f = figures("site", "S9001", Period.year(2025))
    nonzero = {(band, sex): n for band, cells in f.pyramid.items() for sex, n in cells.items() if n}
    assert nonzero == {
        ("20-29", "F"): 1,  # ALPHA, 25
        ("15-19", "M"): 1,  # BETA, 15 on 2025-12-31
        ("70+", "F"): 1,  # GAMMA, deceased, counted
        ("40-49", "M"): 1,  # EPSILON born 1980-12-31: 45 on the last day
        ("inconnu", "autre"): 1,  # FOETUS: no birth date, undetermined sex
        ("30-39", "F"): 1,  # GRETA
        ("0-4", "M"): 1,  # HUGO
    }


def test_it_counts_activities_by_month_and_context(year):
    f = figures("site", "S9001", Period.year(2025))
    assert f.monthly["2025-01"] == 1 and f.monthly["2025-12"] == 1 and f.monthly["2025-03"] == 2
    assert sum(f.monthly.values()) == 11 and len(f.monthly) == 12
    assert f.by_context["ORG-199"] == 2 and f.by_context["11429006"] == 2
    assert sum(f.by_context.values()) == 11


def test_it_ranks_the_most_frequent_diagnoses_without_refuted_ones(year):
    f = figures("site", "S9001", Period.year(2025))
    assert [(code, n) for code, _name, n in f.top_diagnoses] == [("586", 4), ("232", 1), ("79254", 1)]


def test_it_respects_the_first_and_last_day_of_a_year(year):
    f2024 = figures("site", "S9001", Period.year(2024))
    # LEFEVRE (2024-05-02), ALPHA (2024-12-31), DELTA (2024-10-01, died 2024-11-01)
    assert (f2024.values["file_active"], f2024.values["activities"], f2024.values["deceased"]) == (3, 3, 1)
    # HUGO's inclusion is known to the year only (2024): new in 2024, without 2024 activity
    assert f2024.values["new_patients"] == 0
    f2026 = figures("site", "S9001", Period.year(2026))
    assert (f2026.values["file_active"], f2026.values["activities"]) == (1, 1)  # ALPHA 2026-01-01
    assert f2026.values["deceased"] == 0  # EPSILON died in 2026 but had no 2026 activity
    one_day = figures("site", "S9001", Period(dt.date(2025, 1, 1), dt.date(2025, 1, 1)))
    assert (one_day.values["file_active"], one_day.values["new_patients"]) == (1, 1)


def test_it_counts_a_patient_of_two_sites_at_each_site_and_once_above(year):
    sibling = figures("site", "S9002", Period.year(2025))
    assert sibling.values["file_active"] == 1 and sibling.values["new_patients"] == 1  # BETA new there
    assert sibling.values["teleconsultations"] == 1 and sibling.values["full_stays"] == 1
    hospital = figures("etablissement", "750100208", Period.year(2025))
    assert hospital.values["file_active"] == 7  # BETA once
    assert hospital.values["activities"] == 13
    assert hospital.values["new_patients"] == 3  # BETA: first inclusion in the hospital in 2019


def test_it_adds_up_filiere_and_instance(year):
    for kind, key in (("filiere", "muco-cftr"), ("national", "france")):
        f = figures(kind, key, Period.year(2025))
        assert f.values["file_active"] == 8 and f.values["activities"] == 15
        assert f.values["new_patients"] == 4 and f.values["consultations"] == 5
    far = figures("site", "S9003", Period.year(2025))
    assert far.values["file_active"] == 1 and far.values["new_patients"] == 1


def test_it_counts_nothing_for_an_empty_period(year):
    f = figures("site", "S9001", Period.year(2010))
    assert f.values["file_active"] == 0 and f.values["activities_per_patient"] == 0.0
    assert not f.top_diagnoses and sum(f.monthly.values()) == 0


@pytest.mark.parametrize(("age", "band"), [(None, "inconnu"), (0, "0-4"), (4, "0-4"), (5, "5-9"),
                                           (19, "15-19"), (20, "20-29"), (69, "60-69"), (70, "70+")])
def test_it_places_ages_in_bands(age, band):
    assert age_band(age) == band


def test_it_defines_every_indicator_in_french():
    for indicator in ind.INDICATORS:
        assert len(str(indicator.definition)) > 30, indicator.key
    assert len({i.key for i in ind.INDICATORS}) == len(ind.INDICATORS)
