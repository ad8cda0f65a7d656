"""Fixtures of the terminologies tests: the real reference files (skipped when absent), the
full Orphanet loaded once per session, and small hand-made sources to break on purpose."""

import tarfile
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from bamara.terminologies import sources
from bamara.terminologies.models import OrphaConcept
from tests.terminologies.samples import (
    CLASSIFICATIONS,
    FR_NAMES,
    FR_SYNONYMS,
    ORPHA_CODES,
    classification_xml,
    nomenclature_xml,
    write_tsv,
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test (mark it @pytest.mark.shared)."""
    path = Path(settings.SHARED_DIR) / "data"
    if not path.is_dir():
        pytest.skip("SHARED_DIR absent : données de référence complètes indisponibles")
    return path


@pytest.fixture(scope="session")
def orphanet_pack_files(shared_data: Path) -> dict[str, Path]:
    d = shared_data / "orphanet"
    return {
        "pack": d / "raw" / "Orphanet_Nomenclature_Pack_EN_2023.tar.xz",
        "fr_names": d / "orpha_nomenclature_2023.tsv.gz",
        "fr_synonyms": d / "orpha_synonyms_2023.tsv.gz",
    }


@pytest.fixture(scope="session")
def _orphanet_session(django_db_setup, django_db_blocker) -> None:
    """The full 2023 Orphanet (official XML pack when shared/ is there, else the bundled
    compact extract of the same release), loaded once for the session."""
    with django_db_blocker.unblock():
        call_command("load_orphanet", verbosity=0)


@pytest.fixture
def orphanet_loaded(_orphanet_session, db) -> None:
    # Another app's transactional test may have flushed the tables since: load again.
    if OrphaConcept.objects.count() != ORPHA_CODES:
        call_command("load_orphanet", verbosity=0, force=True)


@pytest.fixture(scope="session")
def _all_session(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        call_command("load_terminologies", verbosity=0)


@pytest.fixture
def all_loaded(_all_session, db) -> None:
    """Every terminology, from shared/ when present, else from the bundled extracts."""
    if OrphaConcept.objects.count() != ORPHA_CODES:
        call_command("load_terminologies", verbosity=0, force=True)


@pytest.fixture
def bundled_dir() -> Path:
    return sources.BUNDLED_DIR


@pytest.fixture
def mini_pack(tmp_path: Path):
    """Builds the tiny pack as `kind` = dir | xml | tar.xz | zip; returns (pack, fr_names, fr_synonyms)."""

    def build(kind: str = "dir", nomenclature: str | bytes | None = None):
        root = tmp_path / "pack-2023_en"
        (root / "Classifications").mkdir(parents=True, exist_ok=True)
        xml = nomenclature if nomenclature is not None else nomenclature_xml()
        data = xml if isinstance(xml, bytes) else xml.encode("iso-8859-1")
        (root / "ORPHAnomenclature_en_2023.xml").write_bytes(data)
        for cid, tree in CLASSIFICATIONS.items():
            (root / "Classifications" / f"ORPHAclassification_{cid}_test_en_2023.xml").write_text(
                classification_xml(cid, tree), encoding="iso-8859-1"
            )
        fr_names = write_tsv(
            tmp_path / "fr_names.tsv.gz", ["orpha_code", "name_fr"], list(FR_NAMES.items())
        )
        fr_synonyms = write_tsv(
            tmp_path / "fr_synonyms.tsv",
            ["orpha_code", "lang", "synonym"],
            [(c, "fr", s) for c, s in FR_SYNONYMS],
        )
        if kind == "dir":
            pack = root
        elif kind == "xml":
            pack = root / "ORPHAnomenclature_en_2023.xml"
        elif kind == "tar.xz":
            pack = tmp_path / "pack.tar.xz"
            with tarfile.open(pack, "w:xz") as tar:
                tar.add(root, arcname=root.name)
        elif kind == "zip":
            pack = tmp_path / "pack.zip"
            with zipfile.ZipFile(pack, "w") as archive:
                for file in sorted(root.rglob("*.xml")):
                    archive.write(file, file.relative_to(tmp_path))
        else:
            raise ValueError(kind)
        return pack, fr_names, fr_synonyms

    return build
