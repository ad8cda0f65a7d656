import datetime as dt
from decimal import Decimal

import pytest

from bamara.organisations.models import Hospital
from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.models import Diagnosis, Patient
from bamara.sdm import oids


def test_it_parses_partial_dates_in_iso_and_cda_forms():
    assert PartialDate.parse("2001") == PartialDate(2001)
    assert PartialDate.parse("2001-03") == PartialDate(2001, 3)
    assert PartialDate.parse("20010315") == PartialDate(2001, 3, 15)
    assert PartialDate.parse("200103").precision == "M"


@pytest.mark.parametrize("text", ["", "01/03/2001", "2001-13", "2001-02-30", "20011", "abcd"])
def test_it_rejects_impossible_partial_dates(text):
    with pytest.raises(ValueError):
        PartialDate.parse(text)


def test_it_gives_the_bounds_of_a_partial_date():
    assert PartialDate(2024, 2).earliest == dt.date(2024, 2, 1)
    assert PartialDate(2024, 2).latest == dt.date(2024, 2, 29)
    assert PartialDate(2023).latest == dt.date(2023, 12, 31)
    assert str(PartialDate(2023, 5)) == "05/2023"


@pytest.mark.django_db
def test_it_stores_composite_values_as_typed_columns():
    hospital = Hospital.objects.create(finess_et="750100125", name="Hôpital test")
    patient = Patient(hospital=hospital, birth_name="MARTIN", first_birth_given_name="Léa")
    patient.sex = Code("F", oids.HL7_GENDER)
    patient.birth_date_partial = "2019-06"
    patient.save()

    patient.refresh_from_db()
    assert (patient.sex_code, patient.sex_system) == ("F", oids.HL7_GENDER)
    assert patient.birth_date == dt.date(2019, 6, 1)
    assert patient.birth_date_precision == "M"
    assert patient.birth_date_partial == PartialDate(2019, 6)
    assert Patient.objects.filter(birth_date__year=2019, sex_code="F").count() == 1

    diagnosis = Diagnosis(patient=patient, disease=Code("586", oids.ORPHA))
    diagnosis.onset_age = AgeAt("767023003", oids.SNOMED_CT, Decimal("18"), "mo")
    diagnosis.save()
    diagnosis.refresh_from_db()
    assert diagnosis.onset_age == AgeAt("767023003", oids.SNOMED_CT, Decimal("18.00"), "mo")
    assert diagnosis.disease == Code("586", oids.ORPHA)
    diagnosis.onset_age = None
    assert diagnosis.onset_age_code == "" and diagnosis.onset_age_value is None
