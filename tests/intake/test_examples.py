"""Every official ANS example (2021.01, 2022.01, three 2024.01) is accepted, and what is stored
is checked item by item."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from bamara.intake.models import ReceivedDocument, Status
from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.models import CaptureMode, Source
from bamara.sdm import oids

from .conftest import (
    AFTER_PREGNANCY,
    ALL_EXAMPLES,
    NEWBORN,
    PREGNANT,
    V2021,
    V2022,
    example,
    ingest,
    record,
    requires_examples,
)

pytestmark = requires_examples

SNOMED, TA = oids.SNOMED_CT, oids.TA_ASIP
POSTNATAL = "767023003"


def assert_values(obj, expected: dict) -> None:
    for name, value in expected.items():
        actual = getattr(obj, f"{name}_partial") if hasattr(type(obj), f"{name}_partial") else getattr(obj, name)
        assert actual == value, f"{type(obj).__name__}.{name}: {actual!r} != {value!r}"


def only(queryset):
    rows = list(queryset)
    assert len(rows) == 1, rows
    return rows[0]


def codes(rows, attribute: str) -> list:
    return sorted((getattr(row, f"{attribute}_code"), getattr(row, f"{attribute}_system")) for row in rows)


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_it_accepts_every_official_example(debre, name):
    ack = ingest(example(name), debre)
    assert ack.status in (Status.ACCEPTED, Status.WARNINGS), ack.messages
    assert not [m for m in ack.messages if m.level == "error"]
    stored = ReceivedDocument.objects.get(pk=ack.received_id)
    assert stored.raw() == example(name) and stored.status == ack.status and stored.patient is not None
    assert stored.sdm_version == name.split("_")[1].removesuffix(".xml")


def test_it_stores_the_newborn_example_item_by_item(debre):
    ack = ingest(example(NEWBORN), debre)
    patient = record(ack)
    assert_values(patient, {
        "cda_set_id": "1.2.250.1.213.1.1.1.30.2024.1", "cda_version": 2, "sdm_version": "2024.01",
        "source": Source.EHR, "capture_mode": CaptureMode.CONNECTED,
        # the dossier id of the example (…4ZA5) is no UUID: a stable UUID is derived from it
        "uuid": uuid.uuid5(uuid.NAMESPACE_OID, "dossier|33341B85-96D9-4FFC-A165-37152FEA4ZA5"),
        "record_created_on": dt.date(2024, 2, 28),
        "ins": "224027511583555", "ins_oid": oids.INS_NIR_TEST, "ins_status": "qualifiee",
        "ipp": "9ec5518caaab70962222", "ipp_oid": "1.2.3.4.567.8.9.10", "foetus_local_id": "8ec5518caaab70961082",
        "birth_name": "DECOURCY", "birth_given_names": "Léa Marie", "first_birth_given_name": "Léa",
        "used_name": "DECOURCY", "used_given_name": "", "sex": Code("F", oids.HL7_GENDER),
        "birth_date": PartialDate(2024, 2, 28), "multiple_birth": True, "multiple_birth_rank": 1,
        "birth_commune": "75115", "birth_country": "FR",
        "address_line": "28 Avenue de Breteuil, Escalier A", "postal_code": "75007",
        "residence_commune": "75056", "residence_country": "FR",
        "phone": "0144534551", "email": "224027511583555@patient.mssante.fr",
        "representative_name": "DECOURCY", "representative_given_name": "Ruth", "representative_phone": "0144534551",
        "mother_birth_name": "NESSI", "mother_first_name": "Ruth", "mother_used_name": "",
        "author_rpps": "01234567897", "author_name": "Charles BOILEAU",
        "gp_rpps": "01234567897", "gp_name": "Stéphane MEDIONI", "gp_finess": "",  # a SIREN, not a FINESS
        "opposition": True, "opposition_on": None, "deceased": None, "lost_to_follow_up": None,
        "consanguinity": "non",
        "first_case_relation": Code("PCOUSN", oids.HL7_ROLE_CODE), "first_case_identifier": "1234567890112345678902",
        "first_case_identifier_oid": "1.2.3.4.5.6.7.8.9.10", "first_case_sex": Code("M", oids.HL7_GENDER),
        "assisted_reproduction": True, "gestational_age_at_birth_weeks": 37, "antenatal_malformation": None,
        "birth_weight_g": 2850, "birth_length_cm": Decimal("45.0"), "birth_head_circumference_cm": Decimal("19.0"),
        "research_contact_agreement": True, "sample_for_research": False, "sample_for_molecular_diagnosis": True,
        "biobanks": "(texte libre)", "research_protocol": None,
    })
    assert patient.national_id  # computed from the identity traits
    assert [c.registry for c in patient.registry_consents.all()] == ["ERN EuRREB"]
    assert [d.orpha_code for d in patient.first_case_diseases.all()] == [513]

    episode = only(patient.care_episodes.all())
    assert_values(episode, {
        "uuid": uuid.UUID("6917FE7A-2F04-458E-8224-D273C6B643E7"), "encounter_type": Code("IMP", oids.HL7_ACT_CODE),
        "inclusion_date": PartialDate(2018, 12, 13), "referent_rpps": "01234567897",
        "referent_name": "Charles BOILEAU", "outside_labelling": True, "source": Source.EHR,
    })
    assert episode.site.code == "S001"
    assert codes(episode.referrals.all(), "referred_by") == [("ORG-020", TA)]

    activity = only(patient.activities.all())
    assert_values(activity, {
        "uuid": uuid.UUID("C38D726B-6DE0-43A0-B309-96FF1D525588"), "date": dt.date(2024, 2, 28),
        "context": Code("GEN-092.05.04", TA), "performer_rpps": "01234567897", "performer_name": "Charles BOILEAU",
        "place_finess": "750803454", "place_commune": "75056", "place_country": "FR", "foetus": None,
    })
    assert activity.site.code == "S001"
    assert codes(activity.objectives.all(), "objective") == [("ORG-047", TA)]
    assert codes(activity.professions.all(), "profession") == [("G15_10", oids.RPPS_PROFESSIONS)]

    diagnosis = only(patient.diagnoses.all())
    month = AgeAt(POSTNATAL, SNOMED, Decimal("1.00"), "mo")
    assert_values(diagnosis, {
        "uuid": uuid.UUID("5F7B8B9A-83D6-4B26-BB30-1D7B95F9FF71"), "date": None,
        "disease": Code("513", oids.ORPHA), "complex_non_rare": False, "status": Code("385651009", SNOMED),
        "onset_age": month, "clinical_diagnosis_age": month, "genetic_diagnosis_age": month,
        "appraisal_at_entry": Code("2667000", SNOMED), "sporadic_or_familial": Code("75741005", SNOMED),
        "diagnosing_site_code": "S001", "other_genetic_description": "(texte libre)", "comment": "(texte libre)",
        "foetus": None,
    })
    assert diagnosis.diagnosing_site_name.startswith("HU ROBERT DEBRE APHP - 75019 PARIS")
    assert [(s.kind, s.sign) for s in diagnosis.signs.all()] == [("description", Code("98006", oids.ORPHA_GROUPS))]
    assert [(t.technique, t.detail) for t in diagnosis.techniques.all()] == [(Code("GEN-092.04.17", TA), "(texte libre)")]
    assert [g.gene for g in diagnosis.genes.all()] == [Code("HGNC:39983", oids.HGNC)]
    assert not patient.pregnancies.exists()


def test_it_stores_the_pregnant_patient_example_with_her_foetuses(debre):
    ack = ingest(example(PREGNANT), debre)
    patient = record(ack)
    assert_values(patient, {
        "uuid": uuid.UUID("33341B85-96D9-4FFC-A165-37152FEA4FE1"), "cda_version": 1,
        "ins": "277076322082910", "ipp": "1234567890121", "foetus_local_id": "",
        "birth_name": "NESSI", "birth_given_names": "Ruth Isabelle", "first_birth_given_name": "Ruth",
        "used_name": "DECOURCY", "used_given_name": "Ruth", "birth_date": PartialDate(1977, 7, 14),
        "consanguinity": "oui", "opposition": True, "antenatal_malformation": Code("50607009", SNOMED),
        "birth_weight_g": 2500, "birth_length_cm": Decimal("40.0"), "birth_head_circumference_cm": Decimal("17.0"),
        "record_created_on": dt.date(2024, 1, 12), "deceased": None,
    })
    assert [(s.date, s.icf) for s in patient.functional_scores.all()] == [(dt.date(2024, 7, 22), Code("b117.3", oids.ICF))]
    pregnancy = only(patient.pregnancies.all())
    assert_values(pregnancy, {"start": PartialDate(2023, 9, 1), "end": None, "foetus_count": 2,
                              "assisted_reproduction": False, "source": Source.EHR})
    foetuses = list(pregnancy.foetuses.order_by("rank"))
    assert [(f.local_id, f.given_name, f.sex_code, f.multiple, f.rank, f.outcome) for f in foetuses] == [
        ("8ec5518caaab70961082", "Léa", "F", True, 1, None),
        ("8ec5518caaab70961083", "Pierre", "M", True, 2, None),
    ]
    assert all(f.mother_id == patient.pk for f in foetuses)
    first, second = sorted(patient.activities.all(), key=lambda a: a.date)
    assert (first.context, first.date, first.foetus) == (Code("ORG-029", TA), dt.date(2018, 12, 13), None)
    assert (second.context, second.date, second.foetus) == (Code("GEN-092.05.04", TA), dt.date(2024, 1, 12), foetuses[0])
    assert second.context_detail == "(autre contexte : texte libre)"
    for activity in (first, second):
        assert codes(activity.objectives.all(), "objective") == [("ORG-047", TA)]
    diagnosis = only(patient.diagnoses.all())
    assert diagnosis.onset_age == AgeAt(POSTNATAL, SNOMED, Decimal("5.00"), "mo")
    assert diagnosis.clinical_diagnosis_age == diagnosis.genetic_diagnosis_age == AgeAt(POSTNATAL, SNOMED, Decimal("12.00"), "mo")


def test_it_stores_the_post_pregnancy_example_with_death_and_pregnancy_outcomes(debre):
    ack = ingest(example(AFTER_PREGNANCY), debre)
    assert "icf_pattern" in [m.code for m in ack.messages]  # "bl17.3": kept, reported
    patient = record(ack)
    assert_values(patient, {
        "cda_version": 2, "deceased": True, "death_date": PartialDate(2024, 2, 28),
        "death_related_to_rd": "oui", "death_cause_orpha": 513, "clinical_status": Code("419620001", SNOMED),
        "lost_to_follow_up": True, "opposition": True,
    })
    pregnancy = only(patient.pregnancies.all())
    assert (pregnancy.start_partial, pregnancy.end_partial) == (PartialDate(2023, 9, 1), PartialDate(2024, 2, 28))
    newborn, foetus = pregnancy.foetuses.order_by("rank")
    assert_values(newborn, {"local_id": "8ec5518caaab70961082", "birth_name": "DECOURCY", "given_name": "Léa",
                            "birth_date": PartialDate(2024, 2, 28), "sex": Code("F", oids.HL7_GENDER),
                            "outcome": Code("236973005", SNOMED), "outcome_gestational_age_weeks": None, "rank": 1})
    assert_values(foetus, {"local_id": "8ec5518caaab70961083", "given_name": "Pierre", "birth_date": None,
                           "outcome": Code("O04", oids.CIM10), "outcome_gestational_age_weeks": 27,
                           "fetopathology": True, "rank": 2, "multiple": True})
    assert [(s.icf_code) for s in patient.functional_scores.all()] == ["bl17.3"]


def test_it_stores_the_2022_example_with_its_retired_items(debre):
    patient = record(ingest(example(V2022), debre))
    assert_values(patient, {
        "sdm_version": "2022.01", "ins": "279035121518989", "birth_name": "PAT-TROIS",
        "birth_given_names": "DOMINIQUE MARIE-LOUISE", "first_birth_given_name": "DOMINIQUE",
        "used_name": "PAT-TROIS", "used_given_name": "DOMINIQUE", "birth_date": PartialDate(1979, 3, 28),
        "birth_commune": "51215", "opposition": False, "consanguinity": "oui",
        "clinical_status": Code("27624003", SNOMED), "research_protocol": True,
        "research_contact_agreement": True, "sample_for_research": False, "sample_for_molecular_diagnosis": True,
        "assisted_reproduction": True, "gestational_age_at_birth_weeks": 2,
        "antenatal_malformation": Code("50607009", SNOMED), "record_created_on": dt.date(2018, 12, 13),
        "first_case_relation": Code("PCOUSN", oids.HL7_ROLE_CODE),
    })
    assert not patient.first_case_diseases.exists()  # "-" in the example: no disease given
    treatment = only(patient.treatments.all())
    assert (treatment.product, treatment.atc, treatment.label, treatment.start_partial, treatment.end_partial) == (
        Code("EMEA/H/C/002221", oids.EMA_RD_PRODUCTS), Code("L01BC08", oids.ATC), "Dacogen",
        PartialDate(2017, 5, 11), PartialDate(2017, 6, 11))
    episode = only(patient.care_episodes.all())
    assert (episode.encounter_type, episode.outside_labelling) == (Code("IMP", oids.HL7_ACT_CODE), True)
    activity = only(patient.activities.all())
    assert (activity.context, activity.residence_country, activity.residence_commune) == (Code("ORG-029", TA), "FR", "75056")
    diagnosis = only(patient.diagnoses.all())
    assert_values(diagnosis, {
        "date": PartialDate(2018, 12, 13), "disease": Code("513", oids.ORPHA), "status": Code("385651009", SNOMED),
        "onset_age": AgeAt(POSTNATAL, SNOMED, Decimal("5.00"), "mo"),
        "clinical_diagnosis_age": AgeAt(POSTNATAL, SNOMED, Decimal("12.00"), "mo"), "genetic_diagnosis_age": None,
        "apparently_healthy": False, "other_genetic_description": "texte pour décrire la mutation",
        "verification_status_2022": Code("confirmed", oids.HL7_CONDITION_VER_STATUS_CS),
    })
    assert sorted((s.kind, s.sign_code) for s in diagnosis.signs.all()) == [("complementaire", "98006"), ("inhabituel", "R26.0")]
    assert codes(diagnosis.investigations.all(), "investigation") == [("58147004", SNOMED)]


def test_it_maps_the_2021_codes_onto_the_same_stored_concepts(debre):
    ack = ingest(example(V2021), debre)
    patient = record(ack)
    # TA_ASIP and SNOMED 3.5 codes of 2021.01 are stored as their SNOMED CT concept
    assert patient.clinical_status == Code("27624003", SNOMED)  # CDA_004
    assert patient.antenatal_malformation == Code("50607009", SNOMED)  # G-A224
    assert (patient.ins, patient.ins_oid, patient.opposition) == ("277076322082910", oids.INS_NIR, False)
    diagnosis = only(patient.diagnoses.all())
    assert diagnosis.status == Code("385651009", SNOMED)  # GEN-034
    assert diagnosis.onset_age == AgeAt(POSTNATAL, SNOMED, Decimal("5.00"), "mo")  # GEN-020
    assert diagnosis.appraisal_at_entry == Code("2667000", SNOMED)  # MED-426
    assert diagnosis.sporadic_or_familial == Code("75741005", SNOMED)  # G-A646
    assert codes(diagnosis.techniques.all(), "technique") == [("GEN-092.04.17", TA)]  # GEN-092
    assert codes(diagnosis.investigations.all(), "investigation") == [("58147004", SNOMED)]  # G-A304
    assert only(patient.treatments.all()).label == "Decitabine"  # from the narrative
    # Codes outside their value set are stored as sent, and reported
    unknown = {m.text.split()[1] for m in ack.messages if m.code == "unknown_code"}
    assert unknown == {"ORG-045", "G15_10/SCH39"}
    assert only(patient.care_episodes.all()).encounter_type == Code("ORG-045", TA)
