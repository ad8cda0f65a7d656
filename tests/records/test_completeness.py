"""Completeness of a record: mandatory and recommended items that apply to it."""


from bamara.records.completeness import completeness, completeness_many, counted_items
from bamara.records.models import (
    ActivityObjective,
    ActivityProfession,
    ClinicalSign,
    Foetus,
    Patient,
    Pregnancy,
    Referral,
)
from bamara.sdm import oids


def complete(patient: Patient) -> None:
    """Fill every mandatory and recommended item of the world's patient."""
    patient.patient_informed = True
    patient.ins = "270037512345634"
    patient.birth_given_names, patient.birth_commune, patient.birth_country = "Léa Marie", "75115", "FR"
    patient.residence_commune, patient.residence_country = "75056", "FR"
    patient.deceased = False
    patient.save()
    episode = patient.care_episodes.get()
    episode.referent_name = "Dr Martin"
    episode.save()
    Referral.objects.create(episode=episode, referred_by_code="ORG-021", referred_by_system=oids.TA_ASIP)
    activity = patient.activities.get()
    activity.performer_name = "Dr Martin"
    activity.save()
    ActivityObjective.objects.create(activity=activity, objective_code="ORG-047", objective_system=oids.TA_ASIP)
    ActivityProfession.objects.create(activity=activity, profession_code="G15_10", profession_system=oids.RPPS_PROFESSIONS)
    diagnosis = patient.diagnoses.get()
    for name, code in (("onset_age", "255407002"), ("clinical_diagnosis_age", "255407002"),
                       ("genetic_diagnosis_age", "373068000")):
        setattr(diagnosis, f"{name}_code", code)
        setattr(diagnosis, f"{name}_system", oids.SNOMED_CT)
    diagnosis.appraisal_at_entry_code, diagnosis.appraisal_at_entry_system = "88323005", oids.SNOMED_CT
    diagnosis.date_partial = "2016"
    diagnosis.save()
    ClinicalSign.objects.create(diagnosis=diagnosis, sign_code="HP:0001250", sign_system=oids.HPO)


def fresh(patient: Patient) -> Patient:
    return Patient.objects.get(pk=patient.pk)


def test_it_counts_mandatory_and_recommended_items_of_the_records_version(world):
    result = completeness(world.patients["own"])
    missing = {m.item_id for m in result.missing}
    assert {"medecin_referent", "adresse_par", "activite_objectif", "age_premiers_signes",
            "diagnostic_date"} <= missing
    assert {"appreciation_diag_entree", "description_clinique", "ins"} <= missing
    assert "nom_naissance" not in missing and "diagnostic_code" not in missing
    assert 0 < result.mandatory_percent < 100 and 0 <= result.recommended_percent < 100
    assert result.mandatory_filled + len(result.missing_mandatory) == result.mandatory_total


def test_it_reaches_one_hundred_percent_when_everything_is_filled(world):
    patient = world.patients["own"]
    complete(patient)
    result = completeness(fresh(patient))
    assert result.missing == ()
    assert (result.mandatory_percent, result.recommended_percent) == (100, 100)


def test_it_asks_death_items_only_of_a_deceased_patient(world):
    patient = world.patients["own"]
    complete(patient)
    assert "date_deces" not in {m.item_id for m in completeness(fresh(patient)).missing}
    patient = fresh(patient)
    patient.deceased = True
    patient.save()
    missing = {m.item_id for m in completeness(fresh(patient)).missing_mandatory}
    assert missing == {"date_deces", "deces_lie_mr"}


def test_it_asks_the_objection_date_only_of_an_objecting_patient(world):
    patient = world.patients["own"]
    complete(patient)
    patient = fresh(patient)
    patient.opposition = True
    patient.save()
    assert {m.item_id for m in completeness(fresh(patient)).missing} == {"opposition_date"}


def test_it_asks_foetus_items_only_for_foetuses(world):
    patient = world.patients["own"]
    complete(patient)
    assert "foetus_identite" in {item.id for item, _level in counted_items("2024.01")}
    assert completeness(fresh(patient)).missing == ()
    pregnancy = Pregnancy.objects.create(patient=patient, foetus_count=1, assisted_reproduction=False)
    pregnancy.start_partial = "2023-05"
    pregnancy.save()
    Foetus.objects.create(pregnancy=pregnancy, mother=patient)
    missing = {m.item_id: m.where for m in completeness(fresh(patient)).missing}
    assert missing == {"foetus_identite": "fœtus n° 1", "ipp_foetus": "fœtus n° 1"}


def test_it_does_not_ask_a_foetus_record_for_the_traits_of_a_born_person(world):
    patient = world.patients["own"]
    complete(patient)
    patient = fresh(patient)
    patient.is_foetus, patient.ins, patient.residence_commune, patient.residence_country = True, "", "", ""
    patient.patient_informed = None
    patient.mother_birth_name, patient.mother_first_name = "LEFEVRE", "Marie"
    patient.save()
    assert completeness(fresh(patient)).missing == ()


def test_it_counts_a_missing_diagnosis_once_per_mandatory_diagnosis_item(world):
    patient = world.patients["own"]
    patient.diagnoses.all().delete()
    missing = [m.item_id for m in completeness(fresh(patient)).missing_mandatory if m.where.startswith("diagnostic")]
    assert sorted(missing) == sorted(["age_premiers_signes", "age_diag_clinique", "age_diag_genetique",
                                      "diagnostic_date", "diagnostic_code", "statut_diagnostic"])


def test_it_asks_the_age_quantity_only_for_postnatal_life(world):
    patient = world.patients["own"]
    complete(patient)
    diagnosis = patient.diagnoses.get()
    diagnosis.onset_age_code = "767023003"
    diagnosis.save()
    assert {m.item_id for m in completeness(fresh(patient)).missing} == {"age_premiers_signes_precision"}


def test_it_computes_many_records_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    patients = Patient.objects.filter(pk__in=[p.pk for p in world.patients.values()])
    with django_assert_max_num_queries(20):
        results = completeness_many(patients)
    assert set(results) == {p.pk for p in world.patients.values()}


def test_it_shows_the_completeness_on_the_record_page(client, world):
    client.force_login(world.users["saisie"])
    patient = world.patients["own"]
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    result = completeness(fresh(patient))
    assert f"Données obligatoires : {result.mandatory_percent} %" in html
    assert 'id="record-completeness"' in html and "<progress" in html
    complete(patient)
    response = client.post(f"/patients/{patient.pk}/dossier/recherche/modifier/", {"biobanks": "x"},
                           HTTP_HX_REQUEST="true")
    assert "Données obligatoires : 100 %" in response.content.decode()  # swapped out of band
