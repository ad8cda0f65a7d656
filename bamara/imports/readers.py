"""Stream the rows of a CSV or XLSX export as {column: text}, one at a time.

XLSX is read with openpyxl in read-only mode (rows are parsed as they are read, so a
1,000,000-row sheet does not sit in memory); CSV with the mapping's delimiter and encoding.
Row numbers are those of the spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from .mapping import Mapping


class ReadError(ValueError):
    pass


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # Spreadsheets store dates as date-times: keep the day, in the mapping's first format
        # family (ISO is always accepted).
        return value.date().isoformat() if not (value.hour or value.minute) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def is_xlsx(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def read_rows(path: str | Path, mapping: Mapping) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every non-empty data row; ``ReadError`` when the file
    cannot be read or lacks columns the mapping needs."""
    shape, rows = open_rows(path, mapping)
    for number, values in rows:
        row = shape(values)
        if row is not None:
            yield number, row


class RowShape:
    """A row's cells (a list) stripped and named by the file's header ({column: text}), or
    None for a blank row. (Stripped here, not by the reader: in a parallel dry run, by the
    workers.)"""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.width = len(header)
        self.plain = all(header) and len(set(header)) == self.width  # no unnamed or repeated column

    def __call__(self, values: list[str]) -> dict[str, str] | None:
        values = [v.strip() for v in values]
        if not any(values):
            return None
        if self.plain:
            if len(values) < self.width:
                values = [*values, *[""] * (self.width - len(values))]
            return dict(zip(self.header, values, strict=False))  # extra cells dropped
        return {h: (values[i] if i < len(values) else "") for i, h in enumerate(self.header) if h}


def open_rows(path: str | Path, mapping: Mapping) -> tuple[RowShape, Iterator[tuple[int, list[str]]]]:
    """The header read and checked (``ReadError``), and (row number, cells) for every non-empty
    data row: what ``read_rows`` gives before the cells are named (cheaper to send to another
    process)."""
    rows = _xlsx(path) if is_xlsx(path) else _csv(path, mapping)
    return _shape(next(rows, None), mapping), _numbered(rows)


@dataclass(frozen=True, slots=True)
class Lines:
    """Consecutive lines of a CSV file with no quote character, so one row each (a quoted
    cell may hold a line break): rows ``first``, ``first + 1``... once parsed (``rows``)."""

    first: int
    lines: list[str]

    def rows(self, delimiter: str) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of the non-empty lines, as ``open_rows`` gives them."""
        try:
            yield from _numbered(csv.reader(self.lines, delimiter=delimiter), self.first)
        except csv.Error as exc:
            raise ReadError(f"CSV illisible : {exc}") from None


Chunk = list[tuple[int, list[str]]] | Lines


def open_chunks(path: str | Path, mapping: Mapping, size: int) -> tuple[RowShape, Iterator[Chunk]]:
    """``open_rows`` in chunks of ``size`` rows, for the workers of a parallel dry run. A CSV
    is cut into ``Lines`` (parsed by the workers: the cells of a row cost ~10 times more to
    send than its line) until a chunk has a quote character; from there on its rows are
    parsed here, as ``open_rows`` does. An XLSX sheet is always parsed here."""
    if is_xlsx(path):
        shape, rows = open_rows(path, mapping)
        return shape, chunked(rows, size)
    chunks = _csv_chunks(path, mapping, size)
    return _shape(next(chunks, None), mapping), chunks  # type: ignore[arg-type]


def _csv_chunks(path: str | Path, mapping: Mapping, size: int) -> Iterator[Any]:
    """The header's cells, then the chunks of ``open_chunks``; errors as ``_csv``'s."""
    options = mapping.spec.csv
    try:
        with open(path, encoding=options.encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=options.delimiter), None)
            if header is None:
                return
            yield header
            number = 2  # the csv reader stopped at the end of the header's row
            while lines := list(islice(handle, size)):
                if any('"' in line for line in lines):
                    rows = csv.reader(chain(lines, handle), delimiter=options.delimiter)
                    yield from chunked(_numbered(rows, number), size)
                    return
                yield Lines(number, lines)
                number += len(lines)
    except UnicodeDecodeError as exc:
        raise ReadError(f"encodage inattendu (attendu : {options.encoding}) : {exc}") from None
    except csv.Error as exc:
        raise ReadError(f"CSV illisible : {exc}") from None


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items (the last one shorter)."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _shape(header: list[str] | None, mapping: Mapping) -> RowShape:
    """The file's header checked against the mapping (``ReadError``)."""
    if header is None:
        raise ReadError("fichier vide (pas de ligne d'en-tête)")
    header = [h.strip() for h in header]
    wanted = mapping.columns()
    required = [c for c in wanted if "{n}" not in c]
    missing = [c for c in required if c not in header and not _optional_repeat(c, mapping)]
    if missing:
        raise ReadError(f"colonne(s) absente(s) du fichier : {', '.join(missing)}")
    return RowShape(header)


def _numbered(rows: Iterable[list[str]], start: int = 2) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(rows, start=start):
        if any(values):  # blank cells (spaces) are found by RowShape
            yield number, values


def _optional_repeat(column: str, mapping: Mapping) -> bool:
    # Repeated columns beyond the first (ORPHA_2, ORPHA_3...) may be absent from an export.
    for group in mapping.repeated().values():
        for n in range(2, group.repeat + 1):
            if any(c.column.replace("{n}", str(n)) == column for c in group.fields.values()):
                return True
    return False


def _csv(path: str | Path, mapping: Mapping) -> Iterator[list[str]]:
    options = mapping.spec.csv
    try:
        with open(path, encoding=options.encoding, newline="") as handle:
            yield from csv.reader(handle, delimiter=options.delimiter)
    except UnicodeDecodeError as exc:
        raise ReadError(f"encodage inattendu (attendu : {options.encoding}) : {exc}") from None
    except csv.Error as exc:
        raise ReadError(f"CSV illisible : {exc}") from None


def _xlsx(path: str | Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ReadError(f"classeur XLSX illisible : {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        workbook.close()
