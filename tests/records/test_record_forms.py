"""The form factory (bamara.records.sdm_forms) against the SDM-MR definition."""

from decimal import Decimal

import pytest
from django.utils import translation

from bamara.records import sdm_forms
from bamara.records.models import Diagnosis, Investigation, Patient
from bamara.sdm import definition, oids, storage


def user_items(version: str):
    d = definition.get(version)
    return [i for i in d.items if i.entry == "user" and i.stored and i.active]


@pytest.mark.parametrize("version", ["2021.01", "2022.01", "2024.01"])
def test_it_puts_every_user_entered_stored_active_item_in_exactly_one_form(version):
    covered = sdm_forms.covered_items(version)
    problems = []
    for item in user_items(version):
        where = covered.get(item.id, [])
        if item.id in sdm_forms.EXCLUDED:
            if where:
                problems.append(f"{item.id}: excluded but in {where}")
        elif len(where) != 1:
            problems.append(f"{item.id}: in {where or 'no form'}")
    assert problems == []


def test_it_gives_a_reason_for_every_excluded_item():
    d = definition.current()
    for item_id, reason in sdm_forms.EXCLUDED.items():
        item = d.item(item_id)
        assert item.entry == "user" and item.stored
        assert len(reason) > 20


def test_it_binds_every_part_to_the_items_storage():
    for section in sdm_forms.SECTIONS:
        for part in sdm_forms.form_class(section.key).parts:
            references = {b.reference for b in storage.fields_for(part.item)}
            for extra in part.extra_items:
                references |= {b.reference for b in storage.fields_for(extra)}
            assert set(part.columns) <= references, (section.key, part.name)


def test_it_takes_labels_help_texts_and_requirements_from_the_definition(db):
    d = definition.current()
    form = sdm_forms.form_class("administratif")(instance=Patient(), patient=Patient())
    birth_name, birth_date = d.item("nom_naissance"), d.item("date_naissance")
    assert form.fields["birth_name"].label == birth_name.label_fr
    assert form.fields["birth_name"].help_text == birth_name.definition_fr
    assert form.fields["birth_name"].required  # mandatory
    assert form.fields["birth_date"].label == birth_date.label_fr
    assert not form.fields["first_birth_given_name"].required  # recommended
    entries = {e.item.id: e for fs in form.fieldsets() for e in fs.entries}
    assert entries["premier_prenom_naissance"].requirement == "recommended"
    html = form.as_div()
    assert "Nom de naissance" in html


def test_it_uses_english_labels_in_english(db):
    with translation.override("en"):
        form = sdm_forms.form_class("statut-vital")(instance=Patient(), patient=Patient())
        assert form.fields["death_date"].label == definition.current().item("date_deces").label_en
    with translation.override("fr"):
        form = sdm_forms.form_class("statut-vital")(instance=Patient(), patient=Patient())
        assert form.fields["death_date"].label == "Date de décès"


def test_it_offers_the_value_set_of_the_records_version(db):
    def statuses(version):
        form = sdm_forms.form_class("diagnostics", version)(instance=Diagnosis(), patient=Patient())
        return {value for value, _label in form.fields["status"].choices}

    assert "2931005" in statuses("2022.01") and "723511001" not in statuses("2022.01")  # probable
    assert "723511001" in statuses("2024.01") and "2931005" not in statuses("2024.01")  # réfuté
    labels = dict(sdm_forms.form_class("diagnostics")(instance=Diagnosis(), patient=Patient()).fields["status"].choices)
    assert labels["255545003"] == "diagnostic définitif"


def test_it_takes_bounds_from_the_rules(db):
    form = sdm_forms.form_class("ante-neonatal")(
        {"birth_weight_g": "9000", "gestational_age_at_birth_weeks": "3"}, instance=Patient(), patient=Patient())
    assert not form.is_valid()
    assert "8000" in form.errors["birth_weight_g"][0]
    assert "4" in form.errors["gestational_age_at_birth_weeks"][0]


def test_it_asks_an_age_quantity_only_for_postnatal_life(db):
    form_class = sdm_forms.form_class("diagnostics")
    base = {"onset_age": "767023003", "clinical_diagnosis_age": "255407002", "genetic_diagnosis_age": "373068000",
            "clinical_diagnosis_age_value": "3", "clinical_diagnosis_age_unit": "a",
            "status": "385651009", "date": "2020"}
    form = form_class(base, instance=Diagnosis(), patient=Patient())
    assert not form.is_valid()
    assert "mois ou ans" in form.errors["onset_age_value"][0]
    assert "période postnatale" in form.errors["clinical_diagnosis_age_value"][0]
    fixed = {**base, "onset_age_value": "18", "onset_age_unit": "mo",
             "clinical_diagnosis_age_value": "", "clinical_diagnosis_age_unit": ""}
    form = form_class(fixed, instance=Diagnosis(), patient=Patient())
    assert form.is_valid(), form.errors
    onset = form.values()["onset_age"]
    assert (onset.code, onset.system, onset.value, onset.unit) == ("767023003", oids.SNOMED_CT, Decimal(18), "mo")


def test_it_shows_retired_items_read_only_and_only_when_they_hold_a_value(world):
    patient = world.patients["own"]
    diagnosis = patient.diagnoses.get()
    form_class = sdm_forms.form_class("diagnostics", "2024.01")
    assert "investigations" not in form_class(instance=diagnosis, patient=patient).fields
    Investigation.objects.create(diagnosis=diagnosis, investigation_code="58147004",
                                 investigation_system=oids.SNOMED_CT)
    form = form_class(instance=diagnosis, patient=patient)
    assert form.fields["investigations"].disabled
    assert form.initial["investigations"] == ["58147004"]
    # In 2022.01 the item is active, and mandatory.
    assert sdm_forms.form_class("diagnostics", "2022.01")(instance=diagnosis, patient=patient).fields[
        "investigations"].required


def test_it_keeps_a_code_of_another_version_selectable(world):
    patient = world.patients["own"]
    diagnosis = patient.diagnoses.get()
    diagnosis.status_code, diagnosis.status_system = "2931005", oids.SNOMED_CT  # « probable », 2022.01
    diagnosis.save()
    form = sdm_forms.form_class("diagnostics", "2024.01")(instance=diagnosis, patient=patient)
    values = [v for v, _label in form.fields["status"].choices]
    assert form.initial["status"] in values
    assert form.initial["status"] == f"2931005|{oids.SNOMED_CT}"


def test_it_reads_french_partial_dates_and_writes_them_through_the_bindings(world):
    patient = world.patients["own"]
    form = sdm_forms.form_class("statut-vital")(
        {"deceased": "decede", "death_date": "03/2024", "death_related_to_rd": "oui",
         "death_cause_orpha": "ORPHA:586", "lost_to_follow_up": "non", "clinical_status": ""},
        instance=patient, patient=patient)
    assert form.is_valid(), form.errors
    changes = form.save()
    patient.refresh_from_db()
    assert patient.deceased is True
    assert patient.death_date_partial.isoformat() == "2024-03" and patient.death_date_precision == "M"
    assert patient.death_related_to_rd == "oui" and patient.death_cause_orpha == 586
    assert patient.lost_to_follow_up is False
    assert changes["deceased"] == [None, True]


def test_it_records_web_provenance_of_the_fields_it_changes(world):
    patient = world.patients["own"]
    patient.source = "dpi"
    patient.save()
    form = sdm_forms.form_class("recherche")({"biobanks": "Biobanque Necker", "research_contact_agreement": "oui"},
                                             instance=patient, patient=patient)
    assert form.is_valid(), form.errors
    form.save()
    patient.refresh_from_db()
    assert patient.field_sources["biobanks"] == "web"
    assert patient.field_sources["research_contact_agreement"] == "web"
    assert "sample_for_research" not in patient.field_sources
