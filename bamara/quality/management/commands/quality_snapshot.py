"""`bamara quality_snapshot [--site CODE ... | --all]`: record today's data-quality scorecard
of sites (safe to run daily: a second run the same day replaces that day's snapshot)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from bamara.organisations.models import Site
from bamara.records.validation import DbTerminologies

from ... import snapshot


class Command(BaseCommand):
    help = "Enregistre le tableau de bord qualité du jour (complétude, plausibilité, codes à mettre à jour) par site."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--site", action="append", metavar="CODE", help="code du site (répétable)")
        which.add_argument("--all", action="store_true", help="tous les sites actifs")
        parser.add_argument("--date", help="date de l'instantané AAAA-MM-JJ (défaut : aujourd'hui)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = dt.date.fromisoformat(options["date"]) if options["date"] else dt.date.today()
        except ValueError:
            raise CommandError(f"date invalide : {options['date']!r} (attendu AAAA-MM-JJ)") from None
        if options["all"]:
            sites = list(Site.objects.filter(active=True).order_by("code"))
        else:
            codes = list(dict.fromkeys(options["site"]))
            sites = list(Site.objects.filter(code__in=codes).order_by("code"))
            unknown = sorted(set(codes) - {s.code for s in sites})
            if unknown:
                raise CommandError(f"site(s) inconnu(s) : {', '.join(unknown)}")
        terminologies = DbTerminologies()  # one cache for every site
        quiet = options["verbosity"] == 0
        for site in sites:
            total = snapshot.site_patients(site).count()
            with tqdm(total=total, unit=" dossiers", desc=site.code, disable=quiet) as bar:
                taken = snapshot.take(site, today, terminologies=terminologies, progress=bar.update)
            if not quiet:
                self.stdout.write(
                    f"{site.code} : {taken.patients} dossiers, complétude obligatoire "
                    f"{_pct(taken.mandatory_percent)}, {taken.records_missing_mandatory} incomplets, "
                    f"{taken.errors} erreurs / {taken.warnings} avertissements "
                    f"({taken.records_with_errors} dossiers avec erreurs), "
                    f"{taken.records_with_inactive_codes} avec codes ORPHA inactifs — {taken.seconds} s"
                )
        if not quiet:
            self.stdout.write(f"{len(sites)} site(s), instantané du {today:%d/%m/%Y}")


def _pct(value: int | None) -> str:
    return "—" if value is None else f"{value} %"
