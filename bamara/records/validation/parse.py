"""Lenient reading of raw values: each parser returns (value, problem) and never raises.

``problem`` is a short French reason when the raw value cannot be read; the value is then None.
What a field expects (its kind, length, choices) is read from the model it mirrors, so the
validation layer follows the models without restating them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.models import Site

from .data import CHILDREN, CODE_LISTS, MODELS

Parsed = tuple[Any, str | None]

_FR_DATE = re.compile(r"(?:(\d{1,2})/)?(\d{1,2})/(\d{4})")
_TRUE = {"true", "vrai", "oui", "yes", "1"}
_FALSE = {"false", "faux", "non", "no", "0"}
_INT_MAX = {models.PositiveSmallIntegerField: 32767, models.SmallIntegerField: 32767}
_INT_MAX_DEFAULT = 2147483647


@dataclass(frozen=True)
class Spec:
    """What one attribute of a data class holds."""

    kind: str  # partial_date, date, code, age, bool, int, decimal, text, uuid, ref, codes, children
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    max_value: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None


@cache
def spec(data_class: type, name: str) -> Spec:
    """The Spec of ``data_class.name``, from the model columns behind it (see fields.py)."""
    if name in CHILDREN.get(data_class, {}):
        return Spec("children")
    model = MODELS[data_class]
    if name in CODE_LISTS.get(data_class, {}):
        related, code_field = CODE_LISTS[data_class][name]
        child = model._meta.get_field(related).related_model
        return Spec("codes", max_length=_field(child, f"{code_field}_code").max_length)
    if name == "site":
        return Spec("text", max_length=Site._meta.get_field("code").max_length)
    if _has(model, f"{name}_precision"):
        return Spec("partial_date")
    if _has(model, f"{name}_value") and _has(model, f"{name}_code"):
        return Spec("age", max_length=_field(model, f"{name}_code").max_length)
    if _has(model, f"{name}_code") and _has(model, f"{name}_system"):
        return Spec("code", max_length=_field(model, f"{name}_code").max_length)
    column = _field(model, name)
    if column.is_relation:
        return Spec("ref")
    if isinstance(column, models.BooleanField):
        return Spec("bool")
    if isinstance(column, models.DateField):
        return Spec("date")
    if isinstance(column, models.UUIDField):
        return Spec("uuid")
    if isinstance(column, models.DecimalField):
        return Spec("decimal", max_digits=column.max_digits, decimal_places=column.decimal_places)
    if isinstance(column, models.IntegerField):
        return Spec("int", max_value=_INT_MAX.get(type(column), _INT_MAX_DEFAULT))
    choices = tuple(str(value) for value, _label in column.choices or ())
    return Spec("text", max_length=column.max_length, choices=choices)


@cache
def columns(data_class: type, name: str) -> dict[str, str]:
    """The columns behind an attribute, by part, as the definition's storage bindings name
    them: ``sex`` -> {"code": "records.Patient.sex_code", "system": ...}; an age adds
    "value" and "unit"; a partial date is {"value": ..., "precision": ...}."""
    model = MODELS[data_class]
    kind = spec(data_class, name).kind
    if kind == "children":
        return {}
    if kind == "codes":
        related, code_field = CODE_LISTS[data_class][name]
        child = model._meta.get_field(related).related_model
        prefix, parts = f"records.{child.__name__}.{code_field}", ("code", "system")
    else:
        prefix = f"records.{model.__name__}.{name}"
        parts = {"code": ("code", "system"), "age": ("code", "system", "value", "unit")}.get(
            kind, ()
        )
    if not parts:
        found = {"value": prefix}
        if kind == "partial_date":
            found["precision"] = f"{prefix}_precision"
        return found
    return {part: f"{prefix}_{part}" for part in parts}


def _has(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def is_empty(value: Any) -> bool:
    """None, an empty or blank string, or an empty list: nothing was given."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False


def parse(kind: str, value: Any, the_spec: Spec | None = None) -> Parsed:
    """Read ``value`` as ``kind``; (None, None) when nothing was given."""
    if is_empty(value) and kind not in ("bool", "ref"):
        return None, None
    return _PARSERS[kind](value, the_spec)


def parse_partial_date(value: Any, _spec: Spec | None = None) -> Parsed:
    if isinstance(value, PartialDate):
        return value, None
    if isinstance(value, dt.datetime):
        return PartialDate.from_date(value.date()), None
    if isinstance(value, dt.date):
        return PartialDate.from_date(value), None
    if not isinstance(value, str):
        return None, "une date est attendue"
    text = value.strip()
    try:
        return PartialDate.parse(text), None
    except ValueError:
        pass
    match = _FR_DATE.fullmatch(text)
    if match:
        day, month, year = (int(group) if group else None for group in match.groups())
        try:
            return PartialDate(year, month, day), None  # type: ignore[arg-type]
        except ValueError:
            return None, f"« {_short(text)} » n'est pas une date possible"
    return None, f"« {_short(text)} » n'est pas une date (AAAA, AAAA-MM ou AAAA-MM-JJ, JJ/MM/AAAA)"


def parse_full_date(value: Any, _spec: Spec | None = None) -> Parsed:
    date, problem = parse_partial_date(value)
    if date is not None and date.day is None:
        return None, f"une date complète (jour, mois, année) est attendue, pas « {date} »"
    return date, problem


def parse_code(value: Any, the_spec: Spec | None = None) -> Parsed:
    if isinstance(value, Code | AgeAt):
        code, system = value.code, value.system
    elif isinstance(value, Mapping):
        code, system = value.get("code"), value.get("system")
    elif isinstance(value, tuple | list) and len(value) == 2:
        code, system = value
    elif isinstance(value, str):
        return None, f"le code « {_short(value)} » est donné sans son système de codes"
    else:
        return None, "un code avec son système de codes est attendu"
    if not isinstance(code, str) or not isinstance(system, str | type(None)):
        return None, "un code avec son système de codes est attendu"
    code, system = code.strip(), (system or "").strip()
    if not code:
        return None, None
    if not system:
        return None, f"le code « {_short(code)} » est donné sans son système de codes"
    if the_spec and the_spec.max_length and len(code) > the_spec.max_length:
        return None, f"le code « {_short(code)} » dépasse {the_spec.max_length} caractères"
    return Code(code, system), None


def parse_age(value: Any, the_spec: Spec | None = None) -> Parsed:
    code, problem = parse_code(value, the_spec)
    if code is None:
        return None, problem
    if isinstance(value, AgeAt):
        raw_value, raw_unit = value.value, value.unit
    elif isinstance(value, Mapping):
        raw_value, raw_unit = value.get("value"), value.get("unit")
    else:
        raw_value, raw_unit = None, None
    quantity, problem = parse("decimal", raw_value, Spec("decimal", max_digits=6, decimal_places=2))
    if problem:
        return None, f"précision de l'âge : {problem}"
    if raw_unit not in (None, "") and not isinstance(raw_unit, str):
        return None, "l'unité de l'âge doit être « mo » (mois) ou « a » (ans)"
    return AgeAt(code.code, code.system, quantity, (raw_unit or "").strip() or None), None


def parse_bool(value: Any, _spec: Spec | None = None) -> Parsed:
    if value is None or isinstance(value, bool):
        return value, None
    if isinstance(value, int) and value in (0, 1):
        return bool(value), None
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None, None
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
    return None, f"« {_short(value)} » n'est pas une valeur oui/non"


def parse_int(value: Any, the_spec: Spec | None = None) -> Parsed:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        try:
            # adjusted() first: int() of a 10**9-digit Decimal would take forever.
            if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 18:
                raise OverflowError
            if value == int(value):
                number = int(value)
        except (ValueError, OverflowError, InvalidOperation):
            number = None
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
        number = int(value)
    if number is None:
        return None, f"« {_short(value)} » n'est pas un nombre entier"
    maximum = the_spec.max_value if the_spec and the_spec.max_value else _INT_MAX_DEFAULT
    if not 0 <= number <= maximum:
        return None, f"{_short(number)} est hors des limites (0 à {maximum})"
    return number, None


def parse_decimal(value: Any, the_spec: Spec | None = None) -> Parsed:
    number: Decimal | None = None
    try:
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str) and len(value) <= 40:
            number = Decimal(value.strip().replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        return None, f"« {_short(value)} » n'est pas un nombre"
    if the_spec and the_spec.max_digits is not None and the_spec.decimal_places is not None:
        integer_digits = the_spec.max_digits - the_spec.decimal_places
        # adjusted() is the power of ten of the first digit: no arithmetic on huge values.
        if number.adjusted() >= integer_digits:
            return (
                None,
                f"{_short(number)} est hors des limites ({integer_digits} chiffres avant la virgule au plus)",
            )
        if number.as_tuple().exponent < -the_spec.decimal_places:  # type: ignore[operator]
            return None, f"{_short(number)} a plus de {the_spec.decimal_places} décimales"
    return number, None


def parse_text(value: Any, the_spec: Spec | None = None) -> Parsed:
    if not isinstance(value, str):
        return None, "un texte est attendu"
    if the_spec and the_spec.max_length and len(value) > the_spec.max_length:
        return None, f"le texte dépasse {the_spec.max_length} caractères ({len(value)})"
    if the_spec and the_spec.choices and value not in the_spec.choices:
        return (
            None,
            f"« {_short(value)} » n'est pas une valeur permise ({', '.join(the_spec.choices)})",
        )
    return value, None


def parse_uuid(value: Any, _spec: Spec | None = None) -> Parsed:
    if isinstance(value, uuid.UUID):
        return value, None
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip()), None
        except ValueError:
            pass
    return None, f"« {_short(value)} » n'est pas un identifiant UUID"


def parse_ref(value: Any, _spec: Spec | None = None) -> Parsed:
    """A reference to another row: only whether one is given matters."""
    return (not is_empty(value) and value is not False), None


def parse_list(value: Any) -> tuple[list[Any], str | None]:
    if value is None:
        return [], None
    if isinstance(value, list | tuple):
        return list(value), None
    return [], "une liste est attendue"


_PARSERS = {
    "partial_date": parse_partial_date,
    "date": parse_full_date,
    "code": parse_code,
    "age": parse_age,
    "bool": parse_bool,
    "int": parse_int,
    "decimal": parse_decimal,
    "text": parse_text,
    "uuid": parse_uuid,
    "ref": parse_ref,
}


def _short(value: Any, limit: int = 40) -> str:
    """A printable excerpt of any value, for messages (repr of huge or odd objects is cut)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
