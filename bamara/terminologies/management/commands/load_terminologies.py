import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from bamara.terminologies import sources

COMMANDS = ("load_orphanet", "load_hpo", "load_cim10", "load_geo", "load_finess")


class Command(BaseCommand):
    help = (
        "Charge toutes les terminologies : fichiers complets de SHARED_DIR s'il existe, "
        "sinon extraits embarqués. Une version déjà chargée n'est pas rechargée."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--full",
            action="store_true",
            help="Exiger les fichiers complets (erreur s'ils manquent)",
        )
        group.add_argument("--bundled", action="store_true", help="Charger les extraits embarqués")
        parser.add_argument(
            "--force", action="store_true", help="Recharger même les versions déjà chargées"
        )

    def handle(self, *args, **options):
        if options["full"]:
            missing = [
                n
                for n in ("orphanet", "hpo", "cim10", "geo", "finess")
                if getattr(sources, n)().bundled
            ]
            if missing:
                raise CommandError(
                    f"Fichiers complets introuvables pour : {', '.join(missing)} (SHARED_DIR = {sources.shared_data_dir() or 'absent'})"
                )
        started = time.monotonic()
        for name in COMMANDS:
            call_command(
                name,
                bundled=options["bundled"],
                force=options["force"],
                verbosity=options["verbosity"],
                stdout=self.stdout,
                stderr=self.stderr,
            )
        self.stdout.write(
            self.style.SUCCESS(f"Terminologies chargées en {time.monotonic() - started:.1f} s.")
        )
