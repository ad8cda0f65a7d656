from pathlib import Path

from bamara.terminologies import sources
from bamara.terminologies.loaders import geo
from bamara.terminologies.management.commands._loader import LoaderCommand
from bamara.terminologies.models import Commune, Country, Terminology


class Command(LoaderCommand):
    help = "Charge la géographie INSEE (régions, départements, communes) et la table des pays ISO 3166."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--regions", type=Path, help="TSV des régions")
        parser.add_argument("--departements", type=Path, help="TSV des départements")
        parser.add_argument("--communes", type=Path, help="TSV des communes (.tsv ou .tsv.gz)")

    def handle(self, *args, **options):
        default = sources.geo(options["bundled"])
        files = [options[name] or default[name] for name in ("regions", "departements", "communes")]
        self.load(
            "Géographie",
            Terminology.GEO,
            files,
            lambda show: geo.read(*files),
            Commune,
            "communes",
            options,
        )
        countries = geo.countries()
        self.load(
            "Pays",
            Terminology.COUNTRIES,
            countries.files,
            lambda show: countries,
            Country,
            "countries",
            options,
        )
