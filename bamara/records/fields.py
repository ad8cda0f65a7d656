"""Composite model fields of the SDM-MR: coded values, partial dates and age classes.

Each composite adds plain typed columns to its model (so the tables stay readable and
queryable) and a descriptor that reads and writes them as one value object:

- ``status = CodedField()`` adds ``status_code`` and ``status_system``; ``obj.status`` is a
  ``Code`` (or None).
- ``birth_date = PartialDateField()`` adds ``birth_date`` (the first day of the known period,
  sortable) and ``birth_date_precision`` (Y, M or D); ``obj.birth_date_partial`` is a
  ``PartialDate``.
- ``onset_age = AgeClassField()`` adds ``onset_age_code``, ``onset_age_system``,
  ``onset_age_value`` and ``onset_age_unit``; ``obj.onset_age`` is an ``AgeAt``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Code:
    code: str
    system: str

    def __str__(self) -> str:
        return self.code


class Precision(models.TextChoices):
    YEAR = "Y", "année"
    MONTH = "M", "mois"
    DAY = "D", "jour"


_PARTIAL_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("un jour sans mois n'est pas une date partielle valide")
        dt.date(self.year, self.month or 1, self.day or 1)  # raises ValueError if impossible

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse YYYY, YYYY-MM, YYYY-MM-DD, or the CDA forms YYYY, YYYYMM, YYYYMMDD."""
        text = text.strip()
        if re.fullmatch(r"\d{4}(\d{2}){0,2}", text) and len(text) in (4, 6, 8):
            text = "-".join(filter(None, (text[:4], text[4:6], text[6:8])))
        match = _PARTIAL_RE.match(text)
        if not match:
            raise ValueError(f"date partielle illisible : {text!r}")
        year, month, day = (int(g) if g else None for g in match.groups())
        return cls(year, month, day)  # type: ignore[arg-type]

    @classmethod
    def from_date(cls, value: dt.date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @classmethod
    def from_columns(cls, value: dt.date | None, precision: str | None) -> PartialDate | None:
        if value is None:
            return None
        if precision == Precision.YEAR:
            return cls(value.year)
        if precision == Precision.MONTH:
            return cls(value.year, value.month)
        return cls(value.year, value.month, value.day)

    @property
    def precision(self) -> str:
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    @property
    def earliest(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> dt.date:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def isoformat(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
        if self.day is not None:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def __str__(self) -> str:
        if self.day is not None:
            return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"
        if self.month is not None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.year:04d}"


@dataclass(frozen=True)
class AgeAt:
    """An SDM-MR age class (VS-AGE), with a quantity when the class is postnatal life."""

    code: str
    system: str
    value: Decimal | None = None
    unit: str | None = None  # UCUM: "mo" (months) or "a" (years)


class AgeUnit(models.TextChoices):
    MONTHS = "mo", "mois"
    YEARS = "a", "ans"


class _Composite:
    """Not a Django field: contributes concrete columns and a descriptor to the model."""

    def __init__(self, verbose_name: str = "", *, blank: bool = True, db_index: bool = False):
        self.verbose_name = verbose_name
        self.blank = blank
        self.db_index = db_index
        self.name = ""

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        self.name = name
        for column, field in self.columns():
            field.contribute_to_class(cls, column)
        # A property, so that Model(**kwargs) accepts the composite name too.
        setattr(cls, self.descriptor_name, property(self.read, self.write))

    @property
    def descriptor_name(self) -> str:
        return self.name

    def columns(self) -> list[tuple[str, models.Field]]:
        raise NotImplementedError

    def read(self, instance: Any) -> Any:
        raise NotImplementedError

    def write(self, instance: Any, value: Any) -> None:
        raise NotImplementedError


class CodedField(_Composite):
    """A code with its code-system OID, in ``<name>_code`` and ``<name>_system``."""

    def __init__(self, verbose_name: str = "", *, max_length: int = 64, **kwargs: Any):
        super().__init__(verbose_name, **kwargs)
        self.max_length = max_length

    def columns(self) -> list[tuple[str, models.Field]]:
        return [
            (
                f"{self.name}_code",
                models.CharField(
                    self.verbose_name,
                    max_length=self.max_length,
                    blank=True,
                    default="",
                    db_index=self.db_index,
                ),
            ),
            (
                f"{self.name}_system",
                models.CharField(
                    f"{self.verbose_name} (système de codes)", max_length=64, blank=True, default=""
                ),
            ),
        ]

    def read(self, instance: Any) -> Code | None:
        code = getattr(instance, f"{self.name}_code")
        return Code(code, getattr(instance, f"{self.name}_system")) if code else None

    def write(self, instance: Any, value: Code | None) -> None:
        setattr(instance, f"{self.name}_code", value.code if value else "")
        setattr(instance, f"{self.name}_system", value.system if value else "")


class PartialDateField(_Composite):
    """A partial date, in ``<name>`` (first day of the period) and ``<name>_precision``."""

    @property
    def descriptor_name(self) -> str:
        return f"{self.name}_partial"

    def columns(self) -> list[tuple[str, models.Field]]:
        return [
            (
                self.name,
                models.DateField(self.verbose_name, null=True, blank=True, db_index=self.db_index),
            ),
            (
                f"{self.name}_precision",
                models.CharField(
                    f"{self.verbose_name} (précision)",
                    max_length=1,
                    choices=Precision.choices,
                    blank=True,
                    default="",
                ),
            ),
        ]

    def read(self, instance: Any) -> PartialDate | None:
        return PartialDate.from_columns(
            getattr(instance, self.name), getattr(instance, f"{self.name}_precision")
        )

    def write(self, instance: Any, value: PartialDate | dt.date | str | None) -> None:
        if isinstance(value, str):
            value = PartialDate.parse(value)
        elif isinstance(value, dt.date):
            value = PartialDate.from_date(value)
        setattr(instance, self.name, value.earliest if value else None)
        setattr(instance, f"{self.name}_precision", value.precision if value else "")


class AgeClassField(_Composite):
    """An age class (VS-AGE) with an optional quantity and UCUM unit."""

    def columns(self) -> list[tuple[str, models.Field]]:
        label = self.verbose_name
        return [
            (f"{self.name}_code", models.CharField(label, max_length=32, blank=True, default="")),
            (
                f"{self.name}_system",
                models.CharField(f"{label} (système de codes)", max_length=64, blank=True, default=""),
            ),
            (
                f"{self.name}_value",
                models.DecimalField(
                    f"{label} (valeur)", max_digits=6, decimal_places=2, null=True, blank=True
                ),
            ),
            (
                f"{self.name}_unit",
                models.CharField(
                    f"{label} (unité)", max_length=2, choices=AgeUnit.choices, blank=True, default=""
                ),
            ),
        ]

    def read(self, instance: Any) -> AgeAt | None:
        code = getattr(instance, f"{self.name}_code")
        if not code:
            return None
        return AgeAt(
            code,
            getattr(instance, f"{self.name}_system"),
            getattr(instance, f"{self.name}_value"),
            getattr(instance, f"{self.name}_unit") or None,
        )

    def write(self, instance: Any, value: AgeAt | None) -> None:
        setattr(instance, f"{self.name}_code", value.code if value else "")
        setattr(instance, f"{self.name}_system", value.system if value else "")
        setattr(instance, f"{self.name}_value", value.value if value else None)
        setattr(instance, f"{self.name}_unit", (value.unit or "") if value else "")
