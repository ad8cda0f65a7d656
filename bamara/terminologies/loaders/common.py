"""What every terminology loader shares: reading compressed files, validating TSV headers,
fingerprinting the sources, and replacing a terminology's tables in one transaction.

A loader first reads and validates everything in memory (a `Dataset`), then `store()` swaps
the old rows for the new ones inside a single transaction.atomic(): a malformed or
truncated file is rejected before the database is touched, so the previous release stays.
"""

import csv
import gzip
import hashlib
import io
import lzma
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from bamara.terminologies.models import SearchTerm, SearchVocabulary, SearchWord, TerminologyRelease
from bamara.terminologies.text import normalize, words

BATCH_SIZE = 2000
# Errors raised while decompressing or decoding a damaged file.
READ_ERRORS = (
    UnicodeDecodeError,
    EOFError,
    lzma.LZMAError,
    gzip.BadGzipFile,
    zlib.error,
    csv.Error,
)


class InvalidSource(Exception):
    """A source file that cannot be loaded. The message is French, shown to the user."""

    def __init__(self, label: str, path: Path | str, detail: str):
        self.label, self.path, self.detail = label, Path(path), detail
        super().__init__(f"Fichier {label} invalide : {Path(path).name} : {detail}")


def require_file(label: str, path: Path) -> Path:
    if not path.exists():
        raise InvalidSource(label, path, f"fichier introuvable ({path})")
    return path


def open_binary(path: Path) -> IO[bytes]:
    """Open a plain, .gz or .xz file for reading bytes."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".xz":
        return lzma.open(path, "rb")
    return path.open("rb")


def open_text(path: Path) -> IO[str]:
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors="strict", newline="")


def read_tsv(label: str, path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    """All rows of a UTF-8, tab-separated file with a header row, as dicts.

    Rejects a file that is missing a required column, has a row with the wrong number of
    fields, is not UTF-8 or is a damaged archive.
    """
    require_file(label, path)
    try:
        with open_text(path) as handle:
            reader = csv.DictReader(handle, delimiter="\t", restkey="\x00extra")
            header = reader.fieldnames or []
            missing = [name for name in required if name not in header]
            if missing:
                raise InvalidSource(label, path, f"colonnes manquantes : {', '.join(missing)}")
            rows = []
            for row in reader:
                if "\x00extra" in row or None in row.values():
                    raise InvalidSource(
                        label, path, f"ligne {reader.line_num} : nombre de colonnes incorrect"
                    )
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise InvalidSource(
            label, path, f"encodage invalide, UTF-8 attendu ({exc.reason})"
        ) from exc
    except READ_ERRORS as exc:
        raise InvalidSource(label, path, f"fichier illisible ou tronqué ({exc})") from exc
    if not rows:
        raise InvalidSource(label, path, "aucune ligne de données")
    return rows


def to_int(label: str, path: Path, value: str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidSource(label, path, f"{what} non numérique : {value!r}") from None


def to_float(value: str) -> float | None:
    return float(value) if value not in ("", None) else None


def sha256_of(path: Path) -> str:
    """sha256 of a file, or of a directory's files (names and contents, sorted)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def fingerprint(paths: Iterable[Path]) -> str:
    """One sha256 for a set of source files (a single file: its own sha256)."""
    hashes = [sha256_of(p) for p in paths]
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def progress(
    iterable: Iterable[Any], desc: str, enabled: bool, total: int | None = None
) -> Iterator[Any]:
    return iter(
        tqdm(iterable, desc=desc, total=total, disable=not enabled, unit=" lignes", leave=False)
    )


def bar(desc: str, enabled: bool, total: int) -> tqdm:
    return tqdm(desc=desc, total=total, disable=not enabled, unit=" lignes", leave=False)


@dataclass
class SearchEntry:
    """A text to index for a concept (see SearchTerm)."""

    code: str
    kind: int
    text: str
    active: bool = True
    weight: int = 0


@dataclass
class Dataset:
    """A validated release of one terminology, ready to replace the loaded one."""

    terminology: str
    version: str
    release_date: date | None
    files: list[Path]
    # (model, rows) in insertion order: parents first; deleted in reverse order.
    tables: list[tuple[type[models.Model], list[models.Model]]]
    search: list[SearchEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sha256: str = ""  # fingerprint(files), computed by store() when not set


def is_loaded(terminology: str, sha256: str, model: type[models.Model], count_key: str) -> bool:
    """True when these exact source files are the current release and the rows are there."""
    release = TerminologyRelease.current(terminology)
    return bool(
        release
        and release.sha256 == sha256
        and model.objects.count() == release.counts.get(count_key)
    )


def _delete_all(model: type[models.Model]) -> None:
    # A plain DELETE: the ORM's collector would fetch every row to follow the relations,
    # and the related tables of the same terminology are emptied first anyway.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _insert(model: type[models.Model], rows: list[models.Model], show: bool) -> None:
    with bar(str(model._meta.verbose_name_plural), show, len(rows)) as progress_bar:
        for start in range(0, len(rows), BATCH_SIZE):
            model.objects.bulk_create(rows[start : start + BATCH_SIZE], batch_size=BATCH_SIZE)
            progress_bar.update(len(rows[start : start + BATCH_SIZE]))


def _raw_insert(
    model: type[models.Model], columns: list[str], rows: list[tuple], show: bool
) -> None:
    """executemany INSERT for the search index: its hundreds of thousands of rows are plain
    tuples, and the ORM's per-object cost would dominate the load time (x5 measured)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    with (
        bar(str(model._meta.verbose_name_plural), show, len(rows)) as progress_bar,
        connection.cursor() as cursor,
    ):
        if connection.vendor == "postgresql":
            # COPY: Django's psycopg cursors send an executemany as one statement per row.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for start in range(0, len(rows), BATCH_SIZE * 5):
                    for row in rows[start : start + BATCH_SIZE * 5]:
                        copy.write_row(row)
                    progress_bar.update(len(rows[start : start + BATCH_SIZE * 5]))
            return
        for start in range(0, len(rows), BATCH_SIZE * 5):
            batch = rows[start : start + BATCH_SIZE * 5]
            cursor.executemany(sql, batch)
            progress_bar.update(len(batch))


def _index(terminology: str, entries: list[SearchEntry], show: bool) -> int:
    for model in (SearchVocabulary, SearchWord, SearchTerm):
        model.objects.filter(terminology=terminology).delete()
    # Keep one row per (code, key): the same text as French name, English name and
    # synonym is only worth its best kind.
    best: dict[tuple[str, str], SearchEntry] = {}
    for entry in entries:
        key = normalize(entry.text)
        if key and ((entry.code, key) not in best or entry.kind < best[entry.code, key].kind):
            best[entry.code, key] = entry
    ordered = sorted(
        best.items(),
        key=lambda item: (not item[1].active, item[1].weight, len(item[0][1]), item[0][1]),
    )
    # Explicit ids so the words can point at their term without reading ids back.
    next_id = (SearchTerm.objects.aggregate(models.Max("id"))["id__max"] or 0) + 1
    terms, term_words, vocabulary = [], [], Counter()
    for rank, ((code, key), entry) in enumerate(ordered):
        term_id = next_id + rank
        terms.append(
            (
                term_id,
                terminology,
                code,
                entry.kind,
                entry.text[:400],
                key,
                entry.active,
                entry.weight,
                rank,
            )
        )
        if entry.kind != SearchTerm.Kind.CODE:
            synonym = entry.kind == SearchTerm.Kind.SYNONYM
            for word in words(key):
                term_words.append((term_id, terminology, synonym, word, rank))
                vocabulary[word] += 1
    columns = ["id", "terminology", "code", "kind", "text", "key", "active", "weight", "rank"]
    _raw_insert(SearchTerm, columns, terms, show)
    _raw_insert(SearchWord, ["term", "terminology", "synonym", "word", "rank"], term_words, show)
    _raw_insert(
        SearchVocabulary,
        ["terminology", "word", "frequency"],
        [(terminology, w, n) for w, n in sorted(vocabulary.items())],
        show,
    )
    return len(terms)


def store(dataset: Dataset, show_progress: bool = False) -> TerminologyRelease:
    """Replace the terminology's rows by the dataset's, and record the release, atomically."""
    sha256 = dataset.sha256 or fingerprint(dataset.files)
    with transaction.atomic():
        for model, _rows in reversed(dataset.tables):
            _delete_all(model)
        for model, rows in dataset.tables:
            _insert(model, rows, show_progress)
        dataset.counts["search_terms"] = _index(dataset.terminology, dataset.search, show_progress)
        if connection.vendor == "postgresql":
            # Fresh statistics, or the planner guesses a handful of rows per word prefix and
            # picks nested loops that make a search take seconds instead of milliseconds.
            with connection.cursor() as cursor:
                for model in [m for m, _rows in dataset.tables] + [
                    SearchTerm,
                    SearchWord,
                    SearchVocabulary,
                ]:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        TerminologyRelease.objects.filter(terminology=dataset.terminology).update(is_current=False)
        release, _created = TerminologyRelease.objects.update_or_create(
            terminology=dataset.terminology,
            sha256=sha256,
            defaults={
                "version": dataset.version[:200],
                "release_date": dataset.release_date,
                "source_file": ", ".join(p.name for p in dataset.files)[:500],
                "loaded_at": timezone.now(),
                "counts": dataset.counts,
                "is_current": True,
            },
        )
    return release
