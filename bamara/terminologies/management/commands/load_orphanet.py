from pathlib import Path

from bamara.terminologies import sources
from bamara.terminologies.loaders import orphanet
from bamara.terminologies.management.commands._loader import LoaderCommand
from bamara.terminologies.models import OrphaConcept, Terminology


class Command(LoaderCommand):
    help = (
        "Charge la nomenclature Orphanet (paquet XML officiel ou format compact embarqué) "
        "avec les noms et synonymes français."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--pack",
            type=Path,
            help="Paquet de nomenclature Orphanet : archive .tar.xz/.zip, dossier, XML, "
            "ou dossier au format compact (manifest.json)",
        )
        parser.add_argument(
            "--fr-names", type=Path, help="TSV des noms français (orpha_code, name_fr)"
        )
        parser.add_argument(
            "--fr-synonyms", type=Path, help="TSV des synonymes (orpha_code, lang, synonym)"
        )

    def handle(self, *args, **options):
        default = sources.orphanet(options["bundled"])
        pack = options["pack"] or default["pack"]
        fr_names, fr_synonyms = options["fr_names"], options["fr_synonyms"]
        compact = pack.is_dir() and (pack / "manifest.json").exists()
        if not compact:
            # The official packs are per language: French names come from the TSVs.
            # The bundled compact files have the same columns and serve when shared/ is absent.
            shared = sources.orphanet()
            bundled = sources.BUNDLED_DIR / "orphanet"
            fr_names = fr_names or shared["fr_names"] or bundled / "nomenclature.tsv.gz"
            fr_synonyms = fr_synonyms or shared["fr_synonyms"] or bundled / "synonyms.tsv.gz"
        files = [p for p in (pack, fr_names, fr_synonyms) if p]

        def read(show: bool):
            data = orphanet.read(pack, fr_names, fr_synonyms, show_progress=show)
            return orphanet.dataset(data, files)

        self.load("Orphanet", Terminology.ORPHANET, files, read, OrphaConcept, "concepts", options)
