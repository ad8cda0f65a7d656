from pathlib import Path

from bamara.terminologies import sources
from bamara.terminologies.loaders import cim10
from bamara.terminologies.management.commands._loader import LoaderCommand
from bamara.terminologies.models import Cim10Code, Terminology


class Command(LoaderCommand):
    help = "Charge la CIM-10 FR (table ATIH des codes, chapitres et blocs)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            help="TSV des codes (code, code_pointe, categorie, type_mco_had, libelle...)",
        )
        parser.add_argument(
            "--chapters",
            type=Path,
            help="TSV des chapitres et blocs (hiera, diag_deb, diag_fin, lib)",
        )

    def handle(self, *args, **options):
        default = sources.cim10(options["bundled"])
        codes = options["path"] or default["codes"]
        groups = options["chapters"] or default["groups"]
        files = [codes, groups]

        def read(show: bool):
            return cim10.dataset(cim10.read(codes, groups), files)

        self.load("CIM-10", Terminology.CIM10, files, read, Cim10Code, "codes", options)
