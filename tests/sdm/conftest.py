"""Fixtures of the sdm tests: the shared reference data, when present."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from bamara.sdm import definition
from bamara.sdm.registry import DEFINITIONS_DIR, SdmDefinition, SdmRegistry

SHARED_DIR = Path(settings.SHARED_DIR)
ITEMS_CSV = SHARED_DIR / "sdm-mr" / "sdm-mr-items.csv"
ANS_DIR = SHARED_DIR / "data" / "ans-sdm-mr"
ANS_VALUE_SETS = ANS_DIR / "value-sets"
ANS_EXAMPLES = ANS_DIR / "examples"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference data absent: {path}")
    return path


@pytest.fixture
def shared_items() -> list[dict[str, str]]:
    with _need(ITEMS_CSV).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def ans_value_sets_dir() -> Path:
    return _need(ANS_VALUE_SETS)


@pytest.fixture
def ans_examples_dir() -> Path:
    return _need(ANS_EXAMPLES)


@pytest.fixture
def registry() -> SdmRegistry:
    return definition.registry()


@pytest.fixture
def current() -> SdmDefinition:
    return definition.current()


@pytest.fixture
def definitions_copy(tmp_path: Path) -> Path:
    """A writable copy of the definition files, to break on purpose."""
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, target)
    return target
