"""Regenerate bamara/terminologies/data/ (the extracts bundled with the package) from the full
reference files, so that the bundle can be rebuilt and checked rather than trusted."""

import csv
import gzip
import io
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bamara.terminologies import sources
from bamara.terminologies.loaders import orphanet
from bamara.terminologies.loaders.common import InvalidSource, open_text

# CIM-10 codes bundled (the full ATIH table is not clearly redistributable): congenital
# malformations (chapter XVII) and metabolic disorders, the rare-disease relevant ones.
CIM10_RANGES = (("Q00", "Q99"), ("E70", "E90"))


def _write_gz(source: Path, target: Path, keep=None) -> int:
    """Copy a (compressed or not) TSV as a reproducible .gz, keeping the rows `keep` accepts."""
    count = 0
    with (
        open_text(source) as src,
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        out = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        reader = csv.reader(src, delimiter="\t")
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        for row in reader:
            if keep is None or keep(dict(zip(header, row, strict=True))):
                writer.writerow(row)
                count += 1
        out.flush()
        out.detach()
    return count


def _in_cim10_subset(row: dict[str, str]) -> bool:
    return any(start <= row["categorie"] <= end for start, end in CIM10_RANGES)


class Command(BaseCommand):
    help = "Reconstruit les extraits de terminologies embarqués à partir des fichiers complets (SHARED_DIR)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", type=Path, default=sources.BUNDLED_DIR, help="Dossier de sortie"
        )

    def handle(self, *args, **options):
        out: Path = options["out"]
        found = {
            name: getattr(sources, name)() for name in ("orphanet", "hpo", "cim10", "geo", "finess")
        }
        missing = [name for name, src in found.items() if src.bundled]
        if missing:
            raise CommandError(
                f"Fichiers complets introuvables pour : {', '.join(missing)} (SHARED_DIR)"
            )

        src = found["orphanet"]
        try:
            data = orphanet.read(
                src["pack"], src["fr_names"], src["fr_synonyms"], show_progress=True
            )
        except InvalidSource as exc:
            raise CommandError(str(exc)) from exc
        names = [src[k].name for k in ("pack", "fr_names", "fr_synonyms")]
        orphanet.write_compact(data, out / "orphanet", names)
        self.stdout.write(f"orphanet : {len(data.concepts)} codes")

        (out / "hpo").mkdir(parents=True, exist_ok=True)
        obo = found["hpo"]["obo"]
        if obo.suffix != ".xz":
            raise CommandError("HPO : hp.obo.xz attendu (le fichier est embarqué tel quel)")
        shutil.copyfile(obo, out / "hpo" / "hp.obo.xz")
        self.stdout.write("hpo : hp.obo.xz copié sans modification")

        (out / "cim10").mkdir(parents=True, exist_ok=True)
        count = _write_gz(
            found["cim10"]["codes"],
            out / "cim10" / "cim10_fr_atih_2021_extrait.tsv.gz",
            _in_cim10_subset,
        )
        _write_gz(found["cim10"]["groups"], out / "cim10" / "cim10_chapitres_blocs.tsv.gz")
        self.stdout.write(f"cim10 : {count} codes (Q00-Q99, E70-E90)")

        (out / "geo").mkdir(parents=True, exist_ok=True)
        for name in ("regions", "departements", "communes"):
            path = found["geo"][name]
            _write_gz(path, out / "geo" / (path.name.removesuffix(".gz") + ".gz"))
        self.stdout.write("geo : régions, départements, communes")

        (out / "finess").mkdir(parents=True, exist_ok=True)
        path = found["finess"]["eurostat"]
        count = _write_gz(path, out / "finess" / (path.name.removesuffix(".gz") + ".gz"))
        self.stdout.write(f"finess : {count} établissements (liste Eurostat)")
        self.stdout.write(self.style.SUCCESS(f"Extraits écrits dans {out}"))
