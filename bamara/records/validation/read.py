"""Reading a record (RecordData or a plain mapping) into rows of readable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any

from .data import CHILDREN
from .parse import Spec, parse, parse_list, spec

# The rule reporting an unreadable value, by kind of attribute.
KIND_RULES = {
    "partial_date": "invalid_date",
    "date": "invalid_date",
    "code": "invalid_code",
    "age": "invalid_code",
    "codes": "invalid_code",
    "bool": "invalid_boolean",
    "int": "invalid_number",
    "decimal": "invalid_number",
    "text": "invalid_text",
    "uuid": "invalid_text",
}


@cache
def _names(data_class: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(data_class))


@cache
def _free_spec(data_class: type, name: str) -> Spec:
    """The spec of a text read whatever its length (built once, not per row)."""
    return replace(spec(data_class, name), max_length=None)


@dataclass
class Row:
    """One row of the record (the patient, a diagnosis, an activity...) as read."""

    data_class: type
    path: str  # "" for the patient, "diagnoses[0]"...
    values: dict[str, Any] = field(default_factory=dict)  # readable values only
    invalid: set[str] = field(default_factory=set)  # attributes given but unreadable
    children: dict[str, list[Row]] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def has(self, name: str) -> bool:
        """Given, readable or not (an empty list of codes counts as not given)."""
        return name in self.invalid or self.values.get(name) not in (None, [])

    def where(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


@dataclass(frozen=True)
class Problem:
    """A value that cannot be read."""

    rule_id: str
    data_class: type | None
    name: str | None  # the attribute, when known
    path: str
    text: str


def read(
    data: Any,
    data_class: type,
    path: str,
    problems: list[Problem],
    free_length: frozenset[tuple[type, str]] = frozenset(),
) -> Row | None:
    """Read one row and its children; unreadable values go to ``problems``. The text
    attributes of ``free_length`` are read whatever their length (a later rule checks it)."""
    if isinstance(data, data_class):
        raw = {name: getattr(data, name) for name in _names(data_class)}
    elif isinstance(data, Mapping):
        defaults = data_class()
        raw = {name: getattr(defaults, name) for name in _names(data_class)}
        for key, value in data.items():
            if isinstance(key, str) and key in raw:
                raw[key] = value
            else:
                where = f"{path}.{key}" if path else str(key)
                problems.append(
                    Problem(
                        "unknown_field",
                        None,
                        None,
                        where[:200],
                        f"La donnée « {str(key)[:60]} » est inconnue : elle est ignorée.",
                    )
                )
    else:
        what = "Cet élément" if path else "Le dossier"
        problems.append(
            Problem(
                "invalid_structure",
                None,
                None,
                path,
                f"{what} n'a pas la forme attendue ({type(data).__name__}).",
            )
        )
        return None
    row = Row(data_class, path)
    for name, value in raw.items():
        the_spec = spec(data_class, name)
        where = row.where(name) if the_spec.kind == "children" else ""  # else only for problems
        if the_spec.kind == "children":
            items, problem = parse_list(value)
            if problem:
                row.invalid.add(name)
                problems.append(
                    Problem(
                        "invalid_structure",
                        None,
                        None,
                        where,
                        f"Une liste est attendue ({type(value).__name__}).",
                    )
                )
            child_class = CHILDREN[data_class][name]
            children = [
                read(item, child_class, f"{where}[{index}]", problems, free_length)
                for index, item in enumerate(items)
            ]
            row.children[name] = [child for child in children if child is not None]
            if len(row.children[name]) < len(children):
                row.invalid.add(name)  # an unreadable entry: do not also report the list as empty
        elif the_spec.kind == "codes":
            items, problem = parse_list(value)
            if problem:
                row.invalid.add(name)
                problems.append(
                    Problem(
                        "invalid_code",
                        data_class,
                        name,
                        row.where(name),
                        f"Une liste de codes est attendue ({type(value).__name__}).",
                    )
                )
            codes = []
            for index, item in enumerate(items):
                code, problem = parse("code", item, the_spec)
                if problem:
                    row.invalid.add(name)
                    problems.append(
                        Problem(
                            "invalid_code",
                            data_class,
                            name,
                            f"{row.where(name)}[{index}]",
                            capital(problem) + ".",
                        )
                    )
                elif code is not None:
                    codes.append((index, code))
            row.values[name] = codes
        else:
            if (data_class, name) in free_length:
                the_spec = _free_spec(data_class, name)
            parsed, problem = parse(the_spec.kind, value, the_spec)
            if problem:
                row.invalid.add(name)
                problems.append(
                    Problem(
                        KIND_RULES[the_spec.kind],
                        data_class,
                        name,
                        row.where(name),
                        capital(problem) + ".",
                    )
                )
            elif parsed is not None:
                row.values[name] = parsed
    return row


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
