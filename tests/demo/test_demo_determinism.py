"""Same seed, same data: compared through digests of the generated and the stored rows."""

from __future__ import annotations

import pytest

from bamara.demo.bulk import delete_demo_rows
from bamara.demo.generator import CHUNK_SIZE
from bamara.demo.loader import database_digest, load_demo

from .conftest import AS_OF, requires_value_sets

pytestmark = [pytest.mark.django_db, requires_value_sets]


def _load(seed: int, patients: int = 150, batch_size: int = 5_000):
    result = load_demo(patients, seed, as_of=AS_OF, batch_size=batch_size, progress=False, digest=True)
    return result.digest, database_digest()


def test_it_generates_the_same_rows_for_the_same_seed() -> None:
    generated, stored = _load(seed=11)
    delete_demo_rows()
    assert _load(seed=11) == (generated, stored)


def test_it_generates_other_rows_for_another_seed() -> None:
    generated, stored = _load(seed=11)
    delete_demo_rows()
    other_generated, other_stored = _load(seed=12)
    assert other_generated != generated
    assert other_stored != stored


def test_it_does_not_depend_on_the_batch_size() -> None:
    patients = CHUNK_SIZE + 200  # two chunks
    first = _load(seed=3, patients=patients, batch_size=100)
    delete_demo_rows()
    assert _load(seed=3, patients=patients, batch_size=50_000) == first
