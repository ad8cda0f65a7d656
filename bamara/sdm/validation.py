"""Plausibility checks of a single item value, driven by the SDM-MR definition.

``validate_value`` checks what the definition states about one value: value-set membership,
allowed terminologies, numeric bounds and units, patterns and lengths. It does not check
cardinalities or cross-item conditions (that is the job of the forms and the CDA reader).
Messages are in French, for the user.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import oids
from .schema import Item, ItemType, to_decimal

if TYPE_CHECKING:
    from .registry import SdmDefinition


def _code_and_system(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, tuple | list) and len(value) == 2:
        return str(value[0]), (str(value[1]) if value[1] is not None else None)
    code = getattr(value, "code", None)
    return (str(code) if code is not None else None), getattr(value, "system", None)


def _number_and_unit(value: Any) -> tuple[Decimal | None, str | None]:
    unit = None
    if isinstance(value, tuple | list) and len(value) == 2:
        value, unit = value
    elif hasattr(value, "value") and hasattr(value, "unit"):
        value, unit = value.value, value.unit
    if isinstance(value, bool) or value is None:
        return None, unit
    try:
        return to_decimal(value), unit
    except (InvalidOperation, ValueError):
        return None, unit


def validate_value(definition: SdmDefinition, item: Item, value: Any) -> list[str]:
    errors: list[str] = []
    label = f"« {item.label_fr} »"
    if value is None or value == "":
        return errors  # presence is the business of requirement/cardinality checks
    rules = item.rules

    if item.type in (ItemType.CODE, ItemType.AGE_CLASS) and item.value_set:
        code, system = _code_and_system(value)
        value_set = definition.value_set_for(item)
        if code is None or value_set is None or not value_set.contains(code, system):
            errors.append(
                f"{label} : le code {code!r} n'appartient pas au jeu de valeurs "
                f"{value_set.name_fr if value_set else item.value_set} (SDM-MR {definition.version})"
            )
        if item.type == ItemType.AGE_CLASS and hasattr(value, "value") and value.value is not None:
            number, unit = _number_and_unit(value)
            if number is None or number < 0:
                errors.append(f"{label} : âge invalide {value.value!r}")
            if unit not in (None, "mo", "a"):
                errors.append(f"{label} : unité d'âge {unit!r} invalide (mo ou a)")
    elif item.type == ItemType.CODED:
        code, system = _code_and_system(value)
        if system is not None and system not in item.terminologies:
            allowed = ", ".join(oids.NAMES.get(s, s) for s in item.terminologies)
            errors.append(
                f"{label} : système de codes {oids.NAMES.get(system, system)} non admis ({allowed})"
            )
        if code and rules and rules.pattern and not re.fullmatch(rules.pattern, code):
            errors.append(f"{label} : code {code!r} mal formé")
    elif item.type in (ItemType.INTEGER, ItemType.DECIMAL, ItemType.QUANTITY):
        number, unit = _number_and_unit(value)
        if number is None:
            errors.append(f"{label} : nombre attendu, reçu {value!r}")
        else:
            if item.type == ItemType.INTEGER and number != number.to_integral_value():
                errors.append(f"{label} : nombre entier attendu")
            if rules and rules.min is not None and number < to_decimal(rules.min):
                errors.append(f"{label} : {number} est inférieur au minimum {rules.min}")
            if rules and rules.max is not None and number > to_decimal(rules.max):
                errors.append(f"{label} : {number} est supérieur au maximum {rules.max}")
            if (
                unit is not None
                and rules
                and rules.allowed_units
                and unit not in rules.allowed_units
            ):
                errors.append(
                    f"{label} : unité {unit!r} non admise ({', '.join(rules.allowed_units)})"
                )
    elif item.type == ItemType.BOOLEAN:
        if not isinstance(value, bool):
            errors.append(f"{label} : oui/non attendu")
    elif item.type in (ItemType.DATE, ItemType.DATETIME):
        if not isinstance(value, dt.date):
            errors.append(f"{label} : date attendue")
        elif (value.date() if isinstance(value, dt.datetime) else value) > dt.date.today():
            errors.append(f"{label} : date dans le futur")
    elif item.type in (ItemType.STRING, ItemType.TEXT, ItemType.IDENTIFIER, ItemType.PERSON):
        text = str(value)
        if rules and rules.max_length is not None and len(text) > rules.max_length:
            errors.append(f"{label} : {len(text)} caractères, maximum {rules.max_length}")
        if rules and rules.pattern and not re.fullmatch(rules.pattern, text):
            errors.append(f"{label} : format invalide ({text!r})")
    return errors
