"""Where each SDM-MR item is stored: ``storage:`` bindings resolved to Django model fields.

A binding is ``"app_label.Model.field"`` (a concrete column: composite fields of the records
app are bound through their columns, e.g. ``records.Diagnosis.status_code`` and
``records.Diagnosis.status_system``). Items that are not stored say why (``not_stored``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .schema import Item


class StorageError(LookupError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class BoundField:
    reference: str
    model: type[models.Model]
    field: models.Field

    @property
    def column(self) -> str:
        return self.field.name


def resolve(reference: str) -> BoundField:
    """``"records.Diagnosis.status_code"`` -> the model class and its field."""
    try:
        app_label, model_name, field_name = reference.split(".")
    except ValueError:
        raise StorageError(
            f"référence de stockage invalide {reference!r} (app.Modèle.champ)"
        ) from None
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise StorageError(f"{reference} : modèle {app_label}.{model_name} introuvable") from None
    try:
        field = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        raise StorageError(
            f"{reference} : le modèle {model_name} n'a pas de champ {field_name!r}"
        ) from None
    if not getattr(field, "concrete", False):
        raise StorageError(
            f"{reference} : {field_name!r} n'est pas une colonne (relation inverse ?)"
        )
    return BoundField(reference, model, field)


def fields_for(item: Item) -> list[BoundField]:
    """The model fields an item is stored in (empty for items not stored)."""
    return [resolve(reference) for reference in item.storage]


def problems(items: list[Item]) -> list[str]:
    """Every binding that does not resolve, or item neither stored nor justified."""
    found: list[str] = []
    for item in items:
        if not item.storage and not (item.not_stored and item.not_stored.strip()):
            found.append(f"{item}: ni storage ni not_stored")
        for reference in item.storage:
            try:
                resolve(reference)
            except StorageError as exc:
                found.append(f"{item}: {exc}")
    return found
