"""`bamara demo_data --patients N --seed S`: realistic synthetic data for demos and benchmarks."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from bamara.demo import bulk
from bamara.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from bamara.demo.loader import demo_data_present, load_demo


class Command(BaseCommand):
    help = (
        "Génère des données de démonstration réalistes (établissements FINESS réels, sites fictifs, "
        "comptes de démonstration, patients synthétiques), identiques pour une même graine."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--patients", type=int, default=1000, help="nombre de dossiers patients")
        parser.add_argument("--seed", type=int, default=1, help="graine (mêmes données pour une même graine)")
        parser.add_argument(
            "--sites", nargs="+", metavar="CODE",
            help="limiter aux sites de démonstration indiqués (ex. S0001 S0005) ; par défaut : tous",
        )
        parser.add_argument("--batch-size", type=int, default=5_000, help="dossiers par lot inséré")
        parser.add_argument(
            "--as-of", type=dt.date.fromisoformat, default=None,
            help="date de référence AAAA-MM-JJ (par défaut : aujourd'hui)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--append", action="store_true", help="ajouter aux données de démo existantes")
        mode.add_argument("--reset", action="store_true", help="supprimer d'abord les données de démo (seulement elles)")
        parser.add_argument("--digest", action="store_true", help="afficher l'empreinte SHA-256 des lignes générées")
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")
        parser.add_argument(
            "--skip-indexing", action="store_true",
            help="ne pas calculer ensuite les clés de recherche des noms ni les IDMR",
        )

    def handle(self, *args, **options) -> None:
        patients = options["patients"]
        if patients < 0 or options["batch_size"] < 1:
            raise CommandError("--patients doit être positif et --batch-size au moins 1.")
        if demo_data_present():
            if options["reset"]:
                self.stdout.write("Suppression des données de démonstration existantes…")
                deleted = bulk.delete_demo_rows()
                self.stdout.write(f"{deleted} dossier(s) de démonstration supprimé(s).")
            elif not options["append"]:
                raise CommandError(
                    "Des données de démonstration sont déjà présentes. Relancez avec --append pour "
                    "en ajouter ou --reset pour les remplacer (seules les données de démonstration "
                    "sont supprimées)."
                )
        try:
            result = load_demo(
                patients,
                options["seed"],
                site_codes=options["sites"],
                batch_size=options["batch_size"],
                as_of=options["as_of"],
                progress=not options["no_progress"],
                digest=options["digest"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(result.rows.values())
        rate = f"{total / max(result.elapsed, 1e-9):,.0f}".replace(",", "\u202f")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.patients} dossiers patients, {total} lignes au total, "
                f"en {result.elapsed:.1f} s ({rate} lignes/s)."
            )
        )
        for table, count in result.rows.items():
            self.stdout.write(f"  {table:<20} {count:>12}")
        if not options["skip_indexing"]:
            self._post_load()
        if result.digest:
            self.stdout.write(f"Empreinte SHA-256 : {result.digest}")
        self.stdout.write("\nComptes de démonstration (mot de passe commun : " f"{DEMO_PASSWORD}) :")
        for email, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {email:<30} {role}")

    def _post_load(self) -> None:
        """Bulk loads bypass model saves: rebuild what other apps derive from patient rows."""
        available = get_commands()
        for name, arguments in (("reindex_patients", ["--missing-only"]), ("refresh_idmr", [])):
            if name in available:
                self.stdout.write(f"bamara {name} {' '.join(arguments)}".rstrip())
                call_command(name, *arguments, verbosity=0, stdout=self.stdout)
