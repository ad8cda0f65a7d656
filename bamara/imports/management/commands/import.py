"""bamara import FILE --mapping MAPPING.yaml [--commit] [--report R.xlsx]"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bamara.imports import service
from bamara.imports.engine import BATCH
from bamara.imports.mapping import MappingError
from bamara.imports.readers import ReadError


class Command(BaseCommand):
    help = ("Importe un export CSV ou XLSX (CEMARA...) selon une correspondance YAML. Essai par "
            "défaut (rapport de correction) ; --commit enregistre, et reprend un import interrompu.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--mapping", required=True,
                            help="fichier YAML, ou nom d'une correspondance fournie (cemara)")
        parser.add_argument("--commit", action="store_true", help="enregistrer (sinon : essai)")
        parser.add_argument("--report", help="rapport de correction XLSX (défaut : FICHIER.rapport.xlsx)")
        parser.add_argument("--no-report", action="store_true")
        parser.add_argument("--site", help="site par défaut (code) quand le fichier n'en donne pas")
        parser.add_argument("--user", help="e-mail de l'utilisateur : limite l'import à ses sites")
        parser.add_argument("--batch", type=int, default=BATCH,
                            help="lignes par lot (une transaction chacun)")
        parser.add_argument("--bulk", action="store_true",
                            help="avec --commit, sur PostgreSQL : chargement en masse d'une migration "
                                 "(une transaction, index reconstruits à la fin ; les dossiers sont "
                                 "verrouillés pendant l'import)")
        parser.add_argument("--no-duplicates", action="store_true",
                            help="ne pas rechercher les doublons probables")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"fichier introuvable : {path}")
        show = options["verbosity"] > 0
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(unit=" lignes", file=sys.stderr, disable=not sys.stderr.isatty() and options["verbosity"] < 2)
        try:
            run, summary = service.import_file(
                path, options["mapping"], commit=options["commit"], site_code=options["site"],
                user_email=options["user"], batch_size=options["batch"],
                progress=bar.update if bar is not None else None,
                duplicates=not options["no_duplicates"], bulk=options["bulk"],
                report=None if options["no_report"] else (options["report"] or
                                                           str(path) + ".rapport.xlsx"))
        except (MappingError, ReadError, service.ImportFailure) as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar is not None:
                bar.close()
        if show:
            mode = "import" if options["commit"] else "essai (rien n'est enregistré)"
            self.stdout.write(f"{mode} {run.pk} : {summary.line()}")
            if run.report_path:
                self.stdout.write(f"rapport de correction : {run.report_path}")
