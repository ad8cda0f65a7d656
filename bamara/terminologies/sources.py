"""Where the source files are: the full reference data in settings.SHARED_DIR when it is
there, else the extracts bundled in bamara/terminologies/data/ (see its README.md)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BUNDLED_DIR = Path(__file__).resolve().parent / "data"


def shared_data_dir() -> Path | None:
    path = Path(settings.SHARED_DIR) / "data"
    return path if path.is_dir() else None


def _latest(directory: Path, pattern: str) -> Path | None:
    """The last file matching pattern (names carry the year, so the newest)."""
    found = sorted(directory.glob(pattern))
    return found[-1] if found else None


@dataclass(frozen=True)
class Sources:
    """The files of one terminology, and whether they are the bundled extracts."""

    files: dict[str, Path | None]
    bundled: bool

    def __getitem__(self, name: str) -> Path | None:
        return self.files[name]


def _pick(
    shared: dict[str, Path | None] | None, bundled: dict[str, Path | None], force_bundled: bool
) -> Sources:
    # Shared files only when all the required ones are there; never mix the two sets.
    if not force_bundled and shared and all(shared.values()):
        return Sources(shared, bundled=False)
    return Sources(bundled, bundled=True)


def orphanet(force_bundled: bool = False) -> Sources:
    data = shared_data_dir()
    shared = None
    if data:
        d = data / "orphanet"
        shared = {
            "pack": _latest(d / "raw", "Orphanet_Nomenclature_Pack_*.tar.xz"),
            "fr_names": _latest(d, "orpha_nomenclature_*.tsv.gz"),
            "fr_synonyms": _latest(d, "orpha_synonyms_*.tsv.gz"),
        }
    bundled = {"pack": BUNDLED_DIR / "orphanet", "fr_names": None, "fr_synonyms": None}
    return _pick(shared, bundled, force_bundled)


def hpo(force_bundled: bool = False) -> Sources:
    data = shared_data_dir()
    shared = {"obo": _latest(data / "hpo", "hp.obo*")} if data else None
    return _pick(shared, {"obo": BUNDLED_DIR / "hpo" / "hp.obo.xz"}, force_bundled)


def cim10(force_bundled: bool = False) -> Sources:
    data = shared_data_dir()
    shared = None
    if data:
        shared = {
            "codes": _latest(data / "cim10", "cim10_fr_atih_*.tsv.gz"),
            "groups": _latest(data / "cim10", "cim10_chapitres_blocs.tsv*"),
        }
    bundled = {
        "codes": BUNDLED_DIR / "cim10" / "cim10_fr_atih_2021_extrait.tsv.gz",
        "groups": BUNDLED_DIR / "cim10" / "cim10_chapitres_blocs.tsv.gz",
    }
    return _pick(shared, bundled, force_bundled)


def geo(force_bundled: bool = False) -> Sources:
    data = shared_data_dir()
    shared = None
    if data:
        d = data / "geo_fr"
        shared = {
            "regions": _latest(d, "regions_*.tsv*"),
            "departements": _latest(d, "departements_*.tsv*"),
            "communes": _latest(d, "communes_*.tsv*"),
        }
    d = BUNDLED_DIR / "geo"
    bundled = {
        "regions": _latest(d, "regions_*.tsv*"),
        "departements": _latest(d, "departements_*.tsv*"),
        "communes": _latest(d, "communes_*.tsv*"),
    }
    return _pick(shared, bundled, force_bundled)


def finess(force_bundled: bool = False) -> Sources:
    data = shared_data_dir()
    shared = None
    if data:
        shared = {
            "finess": _latest(data / "finess", "finess_hopitaux_*.tsv.gz"),
            "eurostat": _latest(data / "finess", "finess_hospitals_eurostat_*.tsv.gz"),
        }
    # The 2025 list comes from a repository without licence: only the Eurostat list is bundled.
    bundled = {
        "finess": None,
        "eurostat": _latest(BUNDLED_DIR / "finess", "finess_hospitals_eurostat_*.tsv.gz"),
    }
    return _pick(shared, bundled, force_bundled)
