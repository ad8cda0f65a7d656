import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from bamara.identity.idmr import compute, for_patient
from bamara.identity.models import FormerIdentifier
from bamara.identity.normalise import IdentityTraits
from bamara.identity.services import refresh_national_id
from bamara.organisations.models import Hospital
from bamara.records.models import Foetus, Patient, Pregnancy

KEY = "refresh-test-key-0123456789abcdef"
OTHER_KEY = "rotated-test-key-0123456789abcdef"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("idmr_key")]


@pytest.fixture
def idmr_key():
    with override_settings(IDMR_KEY=KEY):
        yield


@pytest.fixture
def hospital():
    return Hospital.objects.create(finess_et="750100125", name="Hôpital test")


def _patient(hospital, **fields) -> Patient:
    birth_date = fields.pop("birth_date", "1980-05-12")
    values = {"birth_name": "DUPONT", "first_birth_given_name": "Jean", "sex_code": "M"}
    patient = Patient(hospital=hospital, **{**values, **fields})
    patient.birth_date_partial = birth_date
    # As bulk loads do: without the post_save signal that refreshes the identifier on saves,
    # so that these tests exercise the service and the command alone.
    Patient.objects.bulk_create([patient])
    return patient


def test_it_computes_the_identifier_of_a_patient_record(hospital):
    patient = _patient(hospital, birth_name="de La Fontaine", first_birth_given_name="",
                       birth_given_names="Jean-Pierre Marie")
    expected = compute(IdentityTraits("DELAFONTAINE", "JEAN-PIERRE", birth_date="1980-05-12", sex="M"), key=KEY)
    assert for_patient(patient) == expected
    assert for_patient(Patient(hospital=hospital, birth_name="DUPONT")) is None  # no birth date
    assert for_patient(Patient(hospital=hospital, birth_name="", birth_date_partial="1980")) is None


def test_it_keeps_the_former_identifier_when_traits_are_corrected(hospital):
    patient = _patient(hospital, birth_name="DUPOND")
    assert refresh_national_id(patient, "création") is True
    first = patient.national_id
    assert FormerIdentifier.objects.count() == 0  # nothing was replaced

    assert refresh_national_id(patient, "rien n'a changé") is False
    patient.birth_name = "DUPONT"  # corrected on the birth certificate
    Patient.objects.filter(pk=patient.pk).update(birth_name="DUPONT")
    assert refresh_national_id(patient, "correction du nom de naissance") is True

    patient.refresh_from_db()
    assert patient.national_id == for_patient(patient) != first
    former = FormerIdentifier.objects.get()
    assert (former.patient, former.national_id, former.replaced_by) == (patient, first, patient.national_id)
    assert former.reason == "correction du nom de naissance" and former.replaced_at is not None


def test_it_saves_only_the_identifier(hospital):
    patient = _patient(hospital)
    patient.used_name = "NOT SAVED"
    refresh_national_id(patient)
    patient.refresh_from_db()
    assert patient.national_id and patient.used_name == ""


def test_it_clears_the_identifier_when_traits_become_insufficient(hospital):
    patient = _patient(hospital)
    refresh_national_id(patient)
    old = patient.national_id
    patient.birth_date_partial = None
    assert refresh_national_id(patient, "date de naissance supprimée") is True
    patient.refresh_from_db()
    assert patient.national_id == ""
    assert FormerIdentifier.objects.get().national_id == old


def test_it_identifies_a_foetus_record_through_its_mother_and_pregnancy(hospital):
    mother = _patient(hospital, birth_name="MARTIN", first_birth_given_name="", birth_given_names="Marie Anne",
                      sex_code="F", birth_date="1990-01-02")
    pregnancy = Pregnancy.objects.create(patient=mother, start_partial="2024-03-04")
    twins = []
    for rank in (1, 2):
        record = _patient(hospital, birth_name="", first_birth_given_name="", birth_date=None, sex_code="",
                          is_foetus=True, mother=mother, foetus_local_id=f"F-{rank}")
        Foetus.objects.create(pregnancy=pregnancy, mother=mother, record=record, rank=rank)
        twins.append(record)
    expected = compute(IdentityTraits(is_foetus=True, mother_birth_name="Martin", mother_first_name="Marie",
                                      foetus_rank=1, pregnancy_start="2024-03"), key=KEY)
    assert for_patient(twins[0]) == expected
    assert for_patient(twins[1]) not in (None, expected)


def test_the_command_refreshes_every_record_in_batches_and_keeps_former_identifiers(hospital):
    patients = [_patient(hospital, birth_name=f"NOM{i}") for i in range(25)]
    stale = patients[:10]
    Patient.objects.filter(pk__in=[p.pk for p in stale]).update(national_id="19999999999999999990")
    no_date = _patient(hospital, birth_name="SANSDATE", birth_date=None)

    out = io.StringIO()
    call_command("refresh_idmr", "--batch-size", "7", "--reason", "test", stdout=out, verbosity=0)

    assert "26 dossiers lus, 25 identifiants modifiés" in out.getvalue()
    for patient in patients:
        patient.refresh_from_db()
        assert patient.national_id == for_patient(patient)
    no_date.refresh_from_db()
    assert no_date.national_id == ""
    assert FormerIdentifier.objects.filter(reason="test", national_id="19999999999999999990").count() == 10

    # Running it again changes nothing.
    call_command("refresh_idmr", stdout=io.StringIO(), verbosity=0)
    assert FormerIdentifier.objects.count() == 10


def test_the_command_after_a_key_rotation_keeps_the_whole_mapping(hospital):
    patients = [_patient(hospital, birth_name=f"NOM{i}") for i in range(5)]
    call_command("refresh_idmr", stdout=io.StringIO(), verbosity=0)
    before = {p.pk: Patient.objects.get(pk=p.pk).national_id for p in patients}

    with override_settings(IDMR_KEY=OTHER_KEY):
        call_command("refresh_idmr", "--reason", "rotation de clé", stdout=io.StringIO(), verbosity=0)
    mapping = {f.national_id: f.replaced_by for f in FormerIdentifier.objects.filter(reason="rotation de clé")}
    assert set(mapping) == set(before.values())
    for patient in patients:
        patient.refresh_from_db()
        assert mapping[before[patient.pk]] == patient.national_id != before[patient.pk]


def test_the_dry_run_writes_nothing(hospital):
    patient = _patient(hospital)
    out = io.StringIO()
    call_command("refresh_idmr", "--dry-run", stdout=out, verbosity=0)
    patient.refresh_from_db()
    assert patient.national_id == "" and "1 identifiants modifiés" in out.getvalue()


def test_the_command_writes_the_same_through_its_fallback_for_old_sqlite(hospital, monkeypatch):
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))  # no UPDATE ... FROM
    patients = [_patient(hospital, birth_name=f"NOM{i}") for i in range(3)]
    call_command("refresh_idmr", stdout=io.StringIO(), verbosity=0)
    for patient in patients:
        patient.refresh_from_db()
        assert patient.national_id == for_patient(patient) != ""


def test_it_refreshes_on_every_save_of_identity_traits(hospital):
    patient = Patient(hospital=hospital, birth_name="DUPOND", first_birth_given_name="Jean", sex_code="M")
    patient.birth_date_partial = "1980-05-12"
    patient.save()
    first = patient.national_id
    assert first == for_patient(patient)
    patient.birth_name = "DUPONT"
    patient.save()
    patient.refresh_from_db()
    assert patient.national_id == for_patient(patient) != first
    assert FormerIdentifier.objects.get().national_id == first
