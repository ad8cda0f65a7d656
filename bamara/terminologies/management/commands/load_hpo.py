from pathlib import Path

from bamara.terminologies import sources
from bamara.terminologies.loaders import hpo
from bamara.terminologies.management.commands._loader import LoaderCommand
from bamara.terminologies.models import HpoTerm, Terminology


class Command(LoaderCommand):
    help = "Charge la Human Phenotype Ontology depuis hp.obo (ou hp.obo.xz / hp.obo.gz)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("path", nargs="?", type=Path, help="Fichier hp.obo[.xz]")

    def handle(self, *args, **options):
        path = options["path"] or sources.hpo(options["bundled"])["obo"]

        def read(show: bool):
            return hpo.dataset(hpo.read(path, show_progress=show), [path])

        self.load("HPO", Terminology.HPO, [path], read, HpoTerm, "terms", options)
