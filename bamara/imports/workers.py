"""The worker processes of a parallel import: they read and transform rows (values, messages,
identity keys; a dry run's traits) while the importing process plans and writes the batch
before (engine.py).

Workers are spawned, not forked: a fork of a process with native threads (DuckDB's, after a
probable-duplicate search) crashed in libc. So this module imports no model at import time
(a spawned process unpickles its task functions before Django is set up), and the workers'
state comes in a file, not in the spawn arguments: CPython 3.11 writes those to the child
before closing its own copy of the pipe, and hangs if the child dies on a payload over the
pipe's 64 KB.
"""

from __future__ import annotations

import gc
import os
import pickle
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .readers import Chunk

_state: tuple | None = None


def start(settings_module: str, path: str) -> None:
    """The initializer of a worker: Django, then the transformer as the importer's."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from .transform import Orphanet, Transformer

    with open(path, "rb") as handle:
        mapping, status, resolved, today, shape, duplicates, start = pickle.load(handle)
    orphanet = Orphanet.__new__(Orphanet)  # without its query: the importer's codes
    orphanet.status, orphanet._resolved = status, resolved
    global _state
    _state = (Transformer(mapping, orphanet, today=today), shape, duplicates, start)
    # As engine._rare_full_collections, for the worker's life: what is here now (Django, the
    # mapping) is never collected, and full collections (each walks the memos too) are rare.
    gc.freeze()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, full * 100)


def state(transform: Any, shape: Any, duplicates: bool, start: int = 0) -> bytes:
    """What ``start`` reads: the importer's transformer (its Orphanet preloaded), the file's
    header, whether traits are wanted, the last row already committed (a resumed commit). (Not
    the IDMR key: the importing process hashes the identity keys the workers send.)"""
    orphanet = transform.orphanet
    return pickle.dumps((transform.mapping, orphanet.status, orphanet._resolved, transform.today,
                         shape, duplicates, start), 5)


def prepare(chunk: Chunk) -> list[tuple]:
    """Each (non-blank) row of a chunk of ``readers.open_chunks`` (rows, or CSV lines parsed
    here) transformed (a column at a time: ``Transformer.columns_of``), with its identity key
    and traits (what the planner would compute), as tuples for ``engine._unpack`` (cheaper to
    send back than ``Parsed`` objects)."""
    from bamara.identity.normalise import person_identity_keys

    from .engine import _patient_values, _trait_values
    from .readers import Lines
    from .transform import ERROR, Parsed

    assert _state is not None
    transform, shape, duplicates, _start = _state
    rows = chunk.rows(transform.mapping.spec.csv.delimiter) if isinstance(chunk, Lines) else chunk
    # Blank rows dropped as RowShape drops them (every cell empty once stripped).
    kept = [(number, cells) for number, cells in rows if "".join(cells).strip()]
    checked = transform.columns_of(shape.header, [cells for _number, cells in kept])
    # The identity keys of the rows kept (not rejected: Parsed.rejected), as engine._identity
    # gives them, in one call, from the patient's columns.
    accepted = [not (messages and any(m.level == ERROR for m in messages))
                for messages in checked.messages]
    nothing = [None] * len(accepted)
    column = checked.patient.get
    sexes = [sex[0] if sex else "" for sex in column("sex", nothing)]
    people = zip(column("birth_name", nothing), column("first_birth_given_name", nothing),
                 column("birth_given_names", nothing), column("birth_date", nothing), sexes,
                 strict=True)
    keys = iter(person_identity_keys(
        person for person, kept_row in zip(people, accepted, strict=True) if kept_row))
    patients = checked.patients() if duplicates else nothing
    prepared = []
    for (number, _cells), digest, site_code, source_id, messages, ipp, kept_row, patient in zip(
            kept, checked.content_hashes, checked.site_codes, checked.source_ids,
            checked.messages, column("ipp", nothing), accepted, patients, strict=True):
        identity, traits = "", None
        if kept_row:
            identity = next(keys)
            if duplicates:
                traits = _trait_values(_patient_values(
                    Parsed(number, digest, site_code, source_id, patient)))
        prepared.append((number, digest, site_code, source_id, ipp, messages, identity, traits))
    return prepared


def prepare_rows(chunk: Chunk) -> list[tuple]:
    """A commit's rows of a chunk (after the last one committed): each row as ``Transformer``
    gives it, with its patient's column values, identity key and name search keys (which
    ``engine.Importer`` computes otherwise), as tuples for ``engine._unpack_rows``. Row by row
    (``__call__``): a commit writes the episode, diagnoses and activities that ``columns_of``
    does not keep."""
    from bamara.records.search import NAME_FIELDS, name_keys

    from .engine import _identity, _patient_values
    from .readers import Lines

    assert _state is not None
    transform, shape, _duplicates, start = _state
    rows = chunk.rows(transform.mapping.spec.csv.delimiter) if isinstance(chunk, Lines) else chunk
    prepared = []
    for number, cells in rows:
        if number <= start or (row := shape(cells)) is None:
            continue
        parsed = transform(number, row)
        values, identity, names = None, "", None
        if not parsed.rejected:
            values, identity = _patient_values(parsed), _identity(parsed.patient)
            # The name search keys of the patient the row may create (its names as stored:
            # a column the row does not set is the field's default, "").
            names = name_keys(tuple(values.get(name, "") for name in NAME_FIELDS))
        prepared.append((number, parsed.content_hash, parsed.site_code, parsed.source_id,
                         parsed.patient, parsed.episode, parsed.diagnoses, parsed.activities,
                         parsed.messages, values, identity, names))
    return prepared
