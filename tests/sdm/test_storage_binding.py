"""Every SDM-MR item is bound to existing model fields, or says why it is not stored."""

from __future__ import annotations

import pytest
from django.db import models

from bamara.sdm import definition, storage
from bamara.sdm.schema import ItemType


def _all_items() -> list:
    return [item for version in definition.versions() for item in definition.get(version).items]


def test_it_binds_every_item_of_the_current_version_to_model_fields(current) -> None:
    for item in current.items:
        if item.not_stored:
            assert not item.storage, item
            continue
        assert item.storage, item
        for bound in storage.fields_for(item):
            assert bound.field.concrete, bound.reference


@pytest.mark.parametrize("version", ["2021.01", "2022.01", "2024.01"])
def test_it_binds_every_item_of_every_version(version: str) -> None:
    assert storage.problems(list(definition.get(version).items)) == []


def test_it_gives_a_reason_for_every_item_not_stored() -> None:
    not_stored = {item.id: item.not_stored for item in _all_items() if item.not_stored}
    assert set(not_stored) == {"impasse_flag", "errance_duree", "sdmg_exists"}
    assert all(len(reason) > 20 for reason in not_stored.values())


def test_it_stores_the_national_pseudonym_as_the_national_id(current) -> None:
    assert current.item("national_pseudonym").storage == ("records.Patient.national_id",)


def test_it_binds_composite_values_to_their_concrete_columns() -> None:
    """Coded values keep their system, partial dates their precision, ages their quantity."""
    for item in _all_items():
        columns = {ref.rsplit(".", 1)[1] for ref in item.storage}
        if (
            item.type in (ItemType.CODE, ItemType.AGE_CLASS)
            and item.value_set
            and not item.value_set.startswith("bamara:")
        ):
            assert any(c.endswith("_code") for c in columns), item
            assert any(c.endswith("_system") for c in columns), item
        if item.type == ItemType.PARTIAL_DATE:
            assert any(c.endswith("_precision") for c in columns), item
    ages = definition.current().item("age_premiers_signes_precision").storage
    assert ages == ("records.Diagnosis.onset_age_value", "records.Diagnosis.onset_age_unit")


def test_it_matches_local_value_sets_with_the_model_choices() -> None:
    """A local value set bound to one column with choices lists exactly those choices."""
    checked = 0
    for item in _all_items():
        if not (item.value_set and item.value_set.startswith("bamara:") and len(item.storage) == 1):
            continue
        field = storage.resolve(item.storage[0]).field
        stored = {
            c.stored_value for c in definition.get(item.version).value_set(item.value_set).codes
        }
        if field.choices:
            assert stored == {value for value, _ in field.choices}, item
            checked += 1
        elif isinstance(field, models.BooleanField):
            assert stored <= {True, False, None}, item
        elif isinstance(field, models.CharField):
            assert all(isinstance(v, str) and len(v) <= field.max_length for v in stored), item
        elif isinstance(field, models.IntegerField):
            assert all(isinstance(v, int) for v in stored), item
    assert checked >= 3


def test_it_binds_component_value_sets_to_matching_choices() -> None:
    site = definition.current().item("site_annuaire")
    for part, column in (("type", "kind"), ("deploiement", "deployment_mode")):
        field = storage.resolve(f"organisations.Site.{column}").field
        codes = {
            c.code for c in definition.current().value_set(site.component_value_sets[part]).codes
        }
        assert codes == {value for value, _ in field.choices}
    ins_status = storage.resolve("records.Patient.ins_status").field
    codes = {c.code for c in definition.current().value_set("bamara:statut-ins").codes}
    assert codes == {value for value, _ in ins_status.choices}


def test_it_reports_a_binding_to_a_missing_field(current) -> None:
    broken = current.item("ins").model_copy(update={"storage": ("records.Patient.no_such_field",)})
    assert "no_such_field" in storage.problems([broken])[0]
    with pytest.raises(storage.StorageError, match="NoSuchModel"):
        storage.resolve("records.NoSuchModel.x")
    with pytest.raises(storage.StorageError, match="relation inverse"):
        storage.resolve("records.Patient.diagnoses")
