from pathlib import Path

from bamara.terminologies import sources
from bamara.terminologies.loaders import finess
from bamara.terminologies.management.commands._loader import LoaderCommand
from bamara.terminologies.models import FinessEstablishment, Terminology


class Command(LoaderCommand):
    help = "Charge les établissements de santé FINESS (liste 2025 et liste Eurostat géocodée)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--finess", type=Path, help="TSV de la liste FINESS (finess_et, finess_ej...)"
        )
        parser.add_argument(
            "--eurostat", type=Path, help="TSV de la liste Eurostat (finess_et, name, latitude...)"
        )

    def handle(self, *args, **options):
        default = sources.finess(options["bundled"])
        given = options["finess"] or options["eurostat"]
        # Paths given on the command line: only those; else the defaults.
        finess_path = options["finess"] if given else default["finess"]
        eurostat_path = options["eurostat"] if given else default["eurostat"]
        files = [p for p in (finess_path, eurostat_path) if p]
        self.load(
            "FINESS",
            Terminology.FINESS,
            files,
            lambda show: finess.read(finess_path, eurostat_path),
            FinessEstablishment,
            "establishments",
            options,
        )
