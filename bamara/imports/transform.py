"""One source row → the values of an SDM-MR record (patient, care episode, diagnoses,
activities), with every problem found as a message on the SDM-MR item concerned.

A row with an error is rejected as a whole (nothing half-written); warnings (an inactive ORPHA
code replaced by its current code, day and month swapped, a recommended item missing) let the
row through and appear in the correction report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, NamedTuple

from bamara.records.fields import PartialDate
from bamara.sdm import oids
from bamara.sdm.schema import RequirementLevel
from bamara.terminologies.models import OrphaConcept, OrphaRedirection

from .mapping import TARGETS, Column, Mapping, Target, requirement, value_set_codes

ERROR = "erreur"
WARNING = "avertissement"
INFO = "information"

# Message codes: what the report counts, per fault class.
MISSING = "obligatoire_manquant"
RECOMMENDED_MISSING = "recommande_manquant"
SWAPPED = "jour_mois_inverses"
BAD_DATE = "date_invalide"
FUTURE_DATE = "date_future"
INACTIVE = "code_orpha_inactif"
UNKNOWN_ORPHA = "code_orpha_inconnu"
UNKNOWN_VALUE = "valeur_inconnue"
TOO_LONG = "trop_long"
UNKNOWN_SITE = "site_inconnu"
FORBIDDEN_SITE = "site_non_autorise"
NO_SOURCE_ID = "identifiant_source_manquant"
REPEATED_ID = "identifiant_source_repete"
IPP_CONFLICT = "ipp_conflit"
FEDERATED = "doublon_federe"
ELSEWHERE = "meme_identite_autre_etablissement"
PROBABLE_DUPLICATE = "doublon_probable"


@dataclass(frozen=True)
class Message:
    item: str
    level: str
    code: str
    text: str
    value: str = ""

    def as_list(self) -> list[str]:
        return [self.item, self.level, self.code, self.text, self.value]


@dataclass
class Parsed:
    number: int
    content_hash: str
    site_code: str = ""
    source_id: str = ""
    patient: dict[str, Any] = field(default_factory=dict)
    episode: dict[str, Any] = field(default_factory=dict)
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    # Set by the planner, or beforehand by a dry run's worker process (engine.prepare).
    national_id: str | None = None
    traits: tuple | None = None  # engine._TRAIT_COLUMNS, for the probable duplicates

    @property
    def rejected(self) -> bool:
        return bool(self.messages) and any(m.level == ERROR for m in self.messages)

    def error(self, item: str, code: str, text: str, value: str = "") -> None:
        self.messages.append(Message(item, ERROR, code, text, value))

    def warn(self, item: str, code: str, text: str, value: str = "") -> None:
        self.messages.append(Message(item, WARNING, code, text, value))


class Orphanet:
    """ORPHA codes of the loaded nomenclature, inactive ones followed through their
    redirections; cached for the whole run (a few thousand codes)."""

    def __init__(self) -> None:
        self.status = dict(OrphaConcept.objects.values_list("code", "status"))
        self._resolved: dict[int, list[int]] = {}

    @property
    def loaded(self) -> bool:
        return bool(self.status)

    def resolve(self, code: int) -> list[int]:
        if code not in self._resolved:
            from bamara.terminologies import orphanet

            self._resolved[code] = orphanet.resolve(code)
        return self._resolved[code]

    def preload(self) -> None:
        """Every inactive code resolved now, from one query of the redirections, as
        ``terminologies.orphanet.resolve`` does: a dry run's worker processes have no database."""
        targets: dict[int, set[int]] = {}
        for source, target in OrphaRedirection.objects.values_list("source_id", "target_id"):
            targets.setdefault(source, set()).add(target)
        active = OrphaConcept.Status.ACTIVE
        for start, status in self.status.items():
            if status == active or start in self._resolved:
                continue
            found: set[int] = set()
            seen, todo = {start}, [start]
            while todo:
                following = set().union(*(targets.get(code, ()) for code in todo))
                todo = []
                for code in following - seen:
                    if code not in self.status:
                        continue
                    seen.add(code)
                    if self.status[code] == active:
                        found.add(code)
                    else:
                        todo.append(code)
            self._resolved[start] = sorted(found)


_ORPHA = re.compile(r"^\s*(?:orpha(?:code)?\s*[:_ -]?\s*)?(\d{1,7})\s*$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$|^(\d{4})-(\d{1,2})$")
# strptime's own patterns for the directives of a date format (_strptime.TimeRE), so that a
# format made of these and literal text is read by one regex with the same result.
_DIRECTIVES = {"d": r"(?P<d>3[01]|[12]\d|0[1-9]|[1-9]| [1-9])", "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
               "Y": r"(?P<Y>\d\d\d\d)"}


def _date_reader(fmt: str):
    """A function text -> date or None, equal to strptime(text, fmt).date() (None where
    strptime raises); strptime itself when the format has other directives."""
    parts = re.split(r"%(.)", fmt)
    if all(d in _DIRECTIVES for d in parts[1::2]) and "%%" not in fmt:
        pattern = re.compile("".join(re.escape(p) if i % 2 == 0 else _DIRECTIVES[p]
                                     for i, p in enumerate(parts)), re.IGNORECASE)

        def read(text: str) -> dt.date | None:
            match = pattern.fullmatch(text)
            if match is None:
                return None
            try:
                return dt.date(int(match["Y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
        return read

    def read_strptime(text: str) -> dt.date | None:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            return None
    return read_strptime


_TRUE = {"oui", "o", "1", "vrai", "true", "yes", "y", "x"}
_FALSE = {"non", "n", "0", "faux", "false", "no"}


@dataclass(frozen=True)
class _Field:
    """One mapped column, resolved once per run (not per row): its target, the item named in
    messages (with the repetition's suffix) and what an empty cell means."""

    name: str
    target: Target
    item: str
    column: Column
    missing: Message | None  # the message of an empty cell (shared: messages are immutable)
    source: str = ""  # column.column, read per cell
    text: bool = False
    # Non-text cells: {cell: (value, messages)}, computed once per distinct cell.
    memo: dict[str, tuple[Any, list[Message]]] = field(default_factory=dict, compare=False)
    # The memo's cells with messages ("" too when an empty cell has one): a column with none
    # of them needs no loop to find its messages (``Transformer.columns``).
    noisy: set[str] = field(default_factory=set, compare=False)


_MEMO_LIMIT = 200_000


class Checked(NamedTuple):
    """``Transformer.columns_of``: per row, in the rows' order."""

    content_hashes: list[str]
    site_codes: list[str]
    source_ids: list[str]
    messages: list[list[Message]]
    # The patient's values by field, None where Parsed.patient has none: the workers read
    # the identity's columns from here (a dict per row cost them ~1 µs).
    patient: dict[str, list[Any]]

    def patients(self) -> list[dict[str, Any]]:
        """Each row's values as ``Parsed.patient``."""
        names = list(self.patient)
        if not names:
            return [{} for _ in self.messages]
        return [{name: value for name, value in zip(names, values, strict=True)
                 if value is not None} for values in zip(*self.patient.values(), strict=True)]


class Transformer:
    def __init__(self, mapping: Mapping, orphanet: Orphanet, *, today: dt.date | None = None):
        self.mapping = mapping
        self.orphanet = orphanet
        self.today = today or dt.date.today()
        self.formats = mapping.spec.date_formats
        # Day and month swapped: the same formats with %d and %m exchanged.
        self.swapped_formats = [f.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
                                for f in self.formats]
        # strptime was the costliest step of a dry run: one regex per format instead.
        self._readers = [_date_reader(f) for f in self.formats]
        self._swapped_readers = [_date_reader(f) for f in self.swapped_formats]
        self.columns = mapping.columns()
        self._codes: dict[str, dict[str, str]] = {}
        self._levels: dict[str, RequirementLevel] = {}
        self._dates: dict[tuple[str, bool], tuple[Any, bool]] = {}
        # The fields of every group and repetition, resolved once: building them per row (with
        # pydantic models) was half the cost of a dry run.
        self._groups = [(group, self._fields(group, fields, ""))
                        for group, fields in mapping.groups().items()]
        self._repeated = [
            (group, [self._fields(group, {name: Column(column=c.column.replace("{n}", str(n)),
                                                        codes=c.codes)
                                          for name, c in repeated.fields.items()}, f"[{n}]")
                     for n in range(1, repeated.repeat + 1)])
            for group, repeated in mapping.repeated().items()]
        # Non-text cells repeat across rows (codes, dates): their value and messages are
        # computed once per (field, cell), in each field's memo; _memo_size counts them all.
        self._memo_size = 0
        self._scratch = Parsed(0, "")
        self._hash = hashlib.sha256(f"{mapping.sha256}\x1e".encode())
        # A repetition is skipped when all its cells are empty.
        self._repeated_columns = [[[f.source for f in fields] for fields in repetitions]
                                  for _, repetitions in self._repeated]

    def _fields(self, group: str, fields: dict[str, Column], suffix: str) -> list[_Field]:
        result = []
        for name, column in fields.items():
            target = TARGETS[group][name]
            missing = None
            if target.required:
                missing = (ERROR, MISSING, f"élément obligatoire vide (colonne {column.column})")
            elif self._level(target) in (RequirementLevel.MANDATORY, RequirementLevel.RECOMMENDED):
                missing = (WARNING, RECOMMENDED_MISSING,
                           f"élément attendu par le SDM-MR vide (colonne {column.column})")
            item = target.item + suffix
            result.append(_Field(name, target, item, column,
                                 Message(item, *missing) if missing else None,
                                 column.column, target.kind == "text"))
        return result

    def content_hash(self, row: dict[str, str]) -> str:
        # sha256(mapping hash, \x1e, the mapped cells joined by \x1f): the prefix hashed once.
        digest = self._hash.copy()
        digest.update("\x1f".join(map(row.get, self.columns, repeat(""))).encode())
        return digest.hexdigest()

    def __call__(self, number: int, row: dict[str, str]) -> Parsed:
        spec = self.mapping.spec
        parsed = Parsed(number, self.content_hash(row))
        parsed.site_code = row.get(spec.site.column, "").strip() if spec.site else ""
        parsed.source_id = row.get(spec.source_id.column, "").strip()
        if not parsed.source_id:
            parsed.error("identifiant_source", NO_SOURCE_ID,
                         f"identifiant de l'enregistrement source vide (colonne "
                         f"{spec.source_id.column})")
        for group, fields in self._groups:
            target = parsed.patient if group == "patient" else parsed.episode
            self._group(parsed, row, fields, target)
        get = row.get
        for (group, repetitions), columns in zip(self._repeated, self._repeated_columns, strict=True):
            into = parsed.diagnoses if group == "diagnoses" else parsed.activities
            for fields, sources in zip(repetitions, columns, strict=True):
                for source in sources:
                    if get(source, "").strip():
                        break
                else:
                    continue  # an empty repetition: nothing to write
                values: dict[str, Any] = {}
                self._group(parsed, row, fields, values)
                into.append(values)
        birth = parsed.patient.get("birth_date")
        if birth is not None and birth.earliest > self.today:
            parsed.error("date_naissance", FUTURE_DATE, f"date de naissance future : {birth}")
        return parsed

    # ------------------------------------------------------------------ items

    def _level(self, target: Target) -> RequirementLevel:
        if target.item not in self._levels:
            self._levels[target.item] = requirement(target)
        return self._levels[target.item]

    def _group(self, parsed: Parsed, row: dict[str, str], fields: list[_Field],
               values: dict[str, Any]) -> None:
        messages = parsed.messages
        get = row.get
        for f in fields:
            raw = get(f.source, "").strip()
            if not raw:
                if f.missing is not None:
                    messages.append(f.missing)
                continue
            if f.text:
                max_length = f.target.max_length
                if not max_length or len(raw) <= max_length:
                    values[f.name] = raw
                else:
                    parsed.error(f.item, TOO_LONG, f"plus de {max_length} caractères", raw)
                continue
            memo = f.memo.get(raw)
            if memo is None:
                if self._memo_size >= _MEMO_LIMIT:
                    self._clear_memos()
                self._memo_size += 1
                scratch = self._scratch
                scratch.messages = []
                memo = f.memo[raw] = (
                    self._value(scratch, f.item, f.target, f.column, raw), scratch.messages)
            value, found = memo
            if found:
                messages.extend(found)
            if value is not None:
                values[f.name] = value

    def _clear_memos(self) -> None:
        for _, fields in self._groups:
            for f in fields:
                f.memo.clear()
                f.noisy.clear()
        for _, repetitions in self._repeated:
            for fields in repetitions:
                for f in fields:
                    f.memo.clear()
                    f.noisy.clear()
        self._memo_size = 0

    # ------------------------------------------------------------------ by columns

    def columns_of(self, header: list[str], rows: list[list[str]]) -> Checked:
        """What ``__call__`` finds for each row of ``rows`` (cells in ``header``'s order, as
        ``readers.RowShape`` names them; no blank row), computed a column at a time for a dry
        run's worker: a row's content hash, site code, source id, messages (in the same order)
        and patient values. The episode's, diagnoses' and activities' values are not kept (the
        dry run's planner reads none of them), their messages are. Per row, ``__call__`` cost
        the worker half its time in attribute and dict look-ups for each of ~25 fields; here
        most of that is a list comprehension or C (``map``, set operations) per column."""
        count = len(rows)
        width = len(header)
        if any(len(cells) != width for cells in rows):  # missing cells empty, extra ones dropped
            rows = [(cells + [""] * width)[:width] for cells in rows]
        # The last column of a repeated name, as RowShape's dict keeps it; "" if absent.
        index = {name: i for i, name in enumerate(header) if name}
        cells = list(zip(*rows, strict=True)) if rows else [()] * width
        empty = [""] * count
        stripped: dict[str, list[str]] = {}

        def column(name: str) -> list[str]:
            if name not in stripped:
                i = index.get(name)
                stripped[name] = empty if i is None else list(map(str.strip, cells[i]))
            return stripped[name]

        spec = self.mapping.spec
        base = self._hash

        def digest(text: str) -> str:
            one = base.copy()
            one.update(text.encode())
            return one.hexdigest()

        hashes = list(map(digest, map("\x1f".join, zip(*map(column, self.columns), strict=True))))
        site_codes = column(spec.site.column) if spec.site else empty
        source_ids = column(spec.source_id.column)
        # Each field's {row: messages}, in __call__'s order.
        found: list[dict[int, list[Message]]] = []
        if "" in source_ids:
            message = Message("identifiant_source", ERROR, NO_SOURCE_ID,
                              f"identifiant de l'enregistrement source vide (colonne "
                              f"{spec.source_id.column})")
            found.append({i: [message] for i, source in enumerate(source_ids) if not source})
        patient: dict[str, list[Any]] = {}
        for group, fields in self._groups:
            for f in fields:
                values = self._column(f, column(f.source), found, group == "patient")
                if values is not None:
                    patient[f.name] = values
        for (_group, repetitions), sources in zip(self._repeated, self._repeated_columns,
                                                  strict=True):
            for fields, names in zip(repetitions, sources, strict=True):
                # A repetition whose cells are all empty is skipped, messages included.
                used = list(map(any, zip(*map(column, names), strict=True)))
                if all(used):
                    for f in fields:
                        self._column(f, column(f.source), found, False)
                    continue
                # Only the rows that fill it (few, for a second or third repetition): their
                # empty cells would otherwise each get a "missing" message, then be dropped.
                filled = [i for i, any_cell in enumerate(used) if any_cell]
                for f in fields:
                    column_cells = column(f.source)
                    part: list[dict[int, list[Message]]] = []
                    self._column(f, [column_cells[i] for i in filled], part, False)
                    found.append({filled[j]: more for j, more in part[0].items()})
        births = patient.get("birth_date")
        if births is not None:
            today = self.today
            found.append({i: [Message("date_naissance", ERROR, FUTURE_DATE,
                                      f"date de naissance future : {birth}")]
                          for i, birth in enumerate(births)
                          if birth is not None and birth.earliest > today})
        messages: list[list[Message]] = [[] for _ in range(count)]
        for by_row in found:
            for i, more in by_row.items():
                messages[i].extend(more)
        return Checked(hashes, list(site_codes), list(source_ids), messages, patient)

    def _column(self, f: _Field, cells: list[str], found: list[dict[int, list[Message]]],
                keep: bool) -> list[Any] | None:
        """One field over a column (``columns_of``): its {row: messages} appended to
        ``found``, its values (None where ``__call__`` sets none) if ``keep``."""
        if f.text:
            messages: dict[int, list[Message]] = {}
            if f.missing is not None and "" in cells:
                missing = [f.missing]
                messages = {i: missing for i, raw in enumerate(cells) if not raw}
            max_length = f.target.max_length
            if max_length and cells and max(map(len, cells)) > max_length:
                for i, raw in enumerate(cells):
                    if len(raw) > max_length:
                        messages[i] = [Message(f.item, ERROR, TOO_LONG,
                                               f"plus de {max_length} caractères", raw)]
                found.append(messages)
                return [raw if raw and len(raw) <= max_length else None for raw in cells] \
                    if keep else None
            found.append(messages)
            return [raw or None for raw in cells] if keep else None
        memo = f.memo
        new = set(cells).difference(memo)
        if new:
            if self._memo_size + len(new) >= _MEMO_LIMIT:
                self._clear_memos()
                new = set(cells)
            scratch = self._scratch
            for raw in new:
                if raw:
                    scratch.messages = []
                    value = self._value(scratch, f.item, f.target, f.column, raw)
                    memo[raw] = (value, scratch.messages)
                    self._memo_size += 1
                else:  # as __call__: an empty cell has no value, only its "missing" message
                    memo[raw] = (None, [f.missing] if f.missing is not None else [])
                if memo[raw][1]:
                    f.noisy.add(raw)
        results = list(map(memo.__getitem__, cells))
        found.append({} if f.noisy.isdisjoint(cells) else
                     {i: more for i, (_value, more) in enumerate(results) if more})
        return [value for value, _more in results] if keep else None

    def _value(self, parsed: Parsed, item: str, target: Target, column: Column, raw: str) -> Any:
        kind = target.kind
        if kind == "text":
            if target.max_length and len(raw) > target.max_length:
                parsed.error(item, TOO_LONG, f"plus de {target.max_length} caractères", raw)
                return None
            return raw
        if kind == "bool":
            folded = raw.casefold()
            if folded in _TRUE or folded in _FALSE:
                return folded in _TRUE
            parsed.error(item, UNKNOWN_VALUE, "oui/non attendu", raw)
            return None
        if kind in ("date", "partial_date"):
            return self._date(parsed, item, raw, partial=kind == "partial_date")
        if kind == "code":
            return self._code(parsed, item, target, column, raw)
        return self._orpha(parsed, item, raw)

    def _date(self, parsed: Parsed, item: str, raw: str, *, partial: bool) -> Any:
        text = raw.split("T")[0].split(" ")[0]
        # The same dates recur across rows (strptime was the costliest step of a dry run).
        key = (text, partial)
        if key not in self._dates:
            if len(self._dates) > 200_000:
                self._dates.clear()
            self._dates[key] = self._read_date(text, partial)
        value, swapped = self._dates[key]
        if value is None:
            parsed.error(item, BAD_DATE, f"date illisible ou impossible (formats : "
                                         f"{', '.join(self.formats)})", raw)
        elif swapped:
            day = value if isinstance(value, dt.date) else value.earliest
            parsed.warn(item, SWAPPED, f"jour et mois inversés : {raw} lu {day:%d/%m/%Y}", raw)
        return value

    def _read_date(self, text: str, partial: bool) -> tuple[Any, bool]:
        """(date or partial date or None if unreadable, read with day and month swapped)."""
        for read in self._readers:
            day = read(text)
            if day is not None:
                return (PartialDate.from_date(day) if partial else day), False
        if partial and (year := _YEAR.match(text)):
            return PartialDate(int(year.group(1))), False
        if partial and (month := _MONTH.match(text)):
            m, y = (month.group(1), month.group(2)) if month.group(1) else (month.group(4), month.group(3))
            try:
                return PartialDate(int(y), int(m)), False
            except ValueError:
                pass
        for read in self._swapped_readers:
            day = read(text)
            if day is not None:
                return (PartialDate.from_date(day) if partial else day), True
        return None, False

    def _code(self, parsed: Parsed, item: str, target: Target, column: Column, raw: str) -> Any:
        if target.item not in self._codes:
            self._codes[target.item] = value_set_codes(target)
        allowed = self._codes[target.item]
        code = column.codes.get(raw.casefold(), raw)
        if code not in allowed:
            parsed.error(item, UNKNOWN_VALUE, f"valeur absente de la table de correspondance et du "
                                              f"jeu de valeurs ({', '.join(allowed)})", raw)
            return None
        return (code, allowed[code])

    def _orpha(self, parsed: Parsed, item: str, raw: str) -> Any:
        match = _ORPHA.match(raw)
        code = int(match.group(1)) if match else None
        if code is None or code not in self.orphanet.status:
            parsed.error(item, UNKNOWN_ORPHA, "code ORPHA inconnu de la nomenclature Orphanet", raw)
            return None
        if self.orphanet.status[code] == OrphaConcept.Status.ACTIVE:
            return (str(code), oids.ORPHA)
        targets = self.orphanet.resolve(code)
        if len(targets) == 1:
            parsed.warn(item, INACTIVE, f"ORPHA:{code} inactif, remplacé par ORPHA:{targets[0]} "
                                        f"(redirection Orphanet)", raw)
            return (str(targets[0]), oids.ORPHA)
        if targets:
            parsed.error(item, INACTIVE, f"ORPHA:{code} inactif, renvoyé vers plusieurs codes "
                                         f"({', '.join(f'ORPHA:{t}' for t in targets)}) : à choisir",
                         raw)
        else:
            parsed.error(item, INACTIVE, f"ORPHA:{code} inactif sans code de remplacement", raw)
        return None
