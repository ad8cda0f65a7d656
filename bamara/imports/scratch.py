"""What a dry run remembers of the rows it has read, kept on disk instead of in memory.

A dry run writes nothing to the database, yet later rows depend on earlier ones (a repeated
source id, an identity to federate with, an IPP already given) and the report lists every row.
Kept in dicts, that was ~1.4 KB of memory per row (1.5 GB for 1,000,000 rows). Here it is a
private SQLite database (``sqlite3.connect("")``: a temporary file that SQLite unlinks as soon
as it is opened, so nothing is left behind, even after ``kill -9``) with a page cache of a few
megabytes: memory stays the same whatever the size of the file. Lookups are one query per
batch and table.
"""

from __future__ import annotations

import datetime as dt
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .transform import Message

_CHUNK = 30_000  # variables per query, below SQLite's 32,766
_FILTER_BITS = 1 << 24  # 2 MB per filter: ~6 % false positives at 1,000,000 keys


class _Filter:
    """Which values may have been added: one bit per value's hash, in a fixed-size bitmap (a
    Bloom filter with one hash). A value whose bit is clear was never added, so most look-ups
    (new keys, identities, IPPs) need no query; a set bit only means "ask the file". Memory is
    fixed; false positives grow with the number of values, answers stay exact."""

    __slots__ = ("bits",)

    def __init__(self) -> None:
        self.bits = bytearray(_FILTER_BITS >> 3)

    def add(self, values: Iterable[str]) -> None:
        bits, mask = self.bits, _FILTER_BITS - 1
        for value in values:
            h = hash(value) & mask
            bits[h >> 3] |= 1 << (h & 7)

    def maybe(self, values: Iterable[str]) -> list[str]:
        """The values that may have been added (in order, repeats kept)."""
        bits, mask = self.bits, _FILTER_BITS - 1
        found = []
        for value in values:
            h = hash(value) & mask
            if bits[h >> 3] & (1 << (h & 7)):
                found.append(value)
        return found


@dataclass(slots=True)
class RowResult:
    """What one row of a run did, as the report lists it."""

    number: int
    key: str
    outcome: str
    messages: list[Message]
    patient_id: int | None = None


class Scratch:
    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        # Two files, each with its own page cache: "main" for what later rows look up (one
        # random insert per row and table), "log" for what is written once in row order and
        # read back at the end (results, traits), so that those pages do not push the look-up
        # tables' pages out of the cache.
        self.db.executescript("""
            ATTACH DATABASE '' AS log;
            PRAGMA main.journal_mode = OFF;
            PRAGMA main.synchronous = OFF;
            PRAGMA log.journal_mode = OFF;
            PRAGMA log.synchronous = OFF;
            -- Up to 128 MB of pages in memory (default 2 MB): the look-up tables' random
            -- inserts otherwise read and write a page of the file per row on large files.
            PRAGMA main.cache_size = -131072;
            CREATE TABLE log.result (number INTEGER PRIMARY KEY, key TEXT, outcome TEXT,
                                     messages BLOB, content_hash TEXT);
            -- The row that first had the key (its content hash is in the result): a third
            -- of the size of the hash itself, so the table stays in the cache.
            CREATE TABLE source_key (key TEXT PRIMARY KEY, number INTEGER) WITHOUT ROWID;
            CREATE TABLE identity (national_id TEXT, hospital INTEGER, target INTEGER,
                                   PRIMARY KEY (national_id, hospital)) WITHOUT ROWID;
            CREATE TABLE ipp (ipp TEXT, hospital INTEGER, national_id TEXT,
                              PRIMARY KEY (ipp, hospital)) WITHOUT ROWID;
            CREATE TABLE log.traits (number INTEGER PRIMARY KEY, national_id TEXT, hospital INTEGER,
                                 birth_name, first_name, given_names, birth_date TEXT, precision,
                                 sex, place, used_name);
        """)
        self.results = 0
        self._keys, self._identities, self._ipps = _Filter(), _Filter(), _Filter()

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ lookups

    def _select(self, sql: str, values: Iterable[Any]) -> list[tuple]:
        values = list(values)
        found: list[tuple] = []
        for start in range(0, len(values), _CHUNK):
            chunk = values[start:start + _CHUNK]
            found += self.db.execute(sql.format(", ".join("?" * len(chunk))), chunk).fetchall()
        return found

    def source_keys(self, keys: Iterable[str]) -> dict[str, str]:
        """{source record key: content hash} of the earlier rows with these keys."""
        return dict(self._select("SELECT s.key, r.content_hash FROM source_key AS s "
                                 "JOIN log.result AS r ON r.number = s.number "
                                 "WHERE s.key IN ({})", self._keys.maybe(keys)))

    def identities(self, national_ids: Iterable[str]) -> list[tuple[int, str, int]]:
        """(hospital, national id, row number) of the earlier rows' new patients."""
        return self._select("SELECT hospital, national_id, target FROM identity "
                            "WHERE national_id IN ({})", self._identities.maybe(national_ids))

    def ipps(self, ipps: Iterable[str]) -> dict[tuple[int, str], str]:
        """{(hospital, IPP): national id} given by the earlier rows."""
        return {(h, i): n for i, h, n in self._select(
            "SELECT ipp, hospital, national_id FROM ipp WHERE ipp IN ({})", self._ipps.maybe(ipps))}

    # ------------------------------------------------------------------ batches

    def add(self, *, keys: dict[str, int], identities: dict[tuple[int, str], int],
            ipps: dict[tuple[int, str], str], results: list[tuple], traits: list[tuple]) -> None:
        """One batch: what later rows look up (``keys``: the row that first had each source
        key), the rows' results (number, key, outcome, messages, content hash) and, for the
        probable duplicates, their traits."""
        self._keys.add(keys)
        self._identities.add(n for _h, n in identities)
        self._ipps.add(i for _h, i in ipps)
        db = self.db
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO source_key VALUES (?, ?)", keys.items())
        db.executemany("INSERT OR REPLACE INTO identity VALUES (?, ?, ?)",
                       ((n, h, t) for (h, n), t in identities.items()))
        db.executemany("INSERT OR REPLACE INTO ipp VALUES (?, ?, ?)",
                       ((i, h, n) for (h, i), n in ipps.items()))
        db.executemany("INSERT INTO log.result VALUES (?, ?, ?, ?, ?)",
                       ((number, key, outcome, pickle.dumps(messages, 5) if messages else None,
                         digest) for number, key, outcome, messages, digest in results))
        db.executemany("INSERT INTO log.traits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       ((number, national_id, hospital, name, first, given,
                         date.isoformat() if date is not None else None, *rest)
                        for number, national_id, hospital, (name, first, given, date, *rest)
                        in traits))
        db.execute("COMMIT")
        self.results += len(results)

    # ------------------------------------------------------------------ reading back

    def rows(self) -> Iterator[RowResult]:
        """Every row's result in row order, read as the caller goes (a cursor, not a list)."""
        cursor = self.db.execute("SELECT number, key, outcome, messages FROM log.result ORDER BY number")
        for number, key, outcome, messages in cursor:
            yield RowResult(number, key, outcome,
                            [Message(*m) for m in pickle.loads(messages)] if messages else [])

    def traits(self) -> Iterator[tuple[int, tuple]]:
        """(row number, trait columns as engine._TRAIT_COLUMNS then the hospital), in row order."""
        cursor = self.db.execute("SELECT number, birth_name, first_name, given_names, birth_date, "
                                 "precision, sex, place, used_name, hospital FROM log.traits ORDER BY number")
        for number, name, first, given, date, *rest in cursor:
            yield number, (name, first, given, dt.date.fromisoformat(date) if date else None, *rest)

    def trait_info(self, numbers: Iterable[int]) -> dict[int, tuple[str, int]]:
        """{row number: (national id, hospital)}."""
        return {n: (i, h) for n, i, h in self._select(
            "SELECT number, national_id, hospital FROM log.traits WHERE number IN ({})", numbers)}


class Results:
    """``Summary.results`` of a dry run: iterable any number of times, streaming from the
    scratch database; ``len()`` is the number of rows."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch

    def __iter__(self) -> Iterator[RowResult]:
        return self.scratch.rows()

    def __len__(self) -> int:
        return self.scratch.results
