"""`bamara activity_report (--site CODE | --hospital FINESS | --filiere ACRONYM | --all)
--year YYYY [--from DATE --to DATE] --format json|xlsx [--output FILE] [--suppress]`

The same figures as the pages. The command is an operator's tool (database access), so counts
are raw unless --suppress applies the small-number rule, as for a file sent to a filière or to
the national team. Errors are written to stderr as JSON {"erreur": ..., "option": ...}, exit 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandParser

from bamara.reports import exports, scopes
from bamara.reports.compute import Period, compute
from bamara.reports.present import as_json, present


class Command(BaseCommand):
    help = "Chiffres d'activité (file active, nouveaux patients, activités...) d'un périmètre."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--site", metavar="CODE")
        which.add_argument("--hospital", metavar="FINESS")
        which.add_argument("--filiere", metavar="ACRONYME")
        which.add_argument("--all", action="store_true")
        parser.add_argument("--year", type=str)
        parser.add_argument("--from", dest="start", metavar="AAAA-MM-JJ")
        parser.add_argument("--to", dest="end", metavar="AAAA-MM-JJ")
        parser.add_argument("--format", default="json", choices=["json", "xlsx"])
        parser.add_argument("--output", "-o", help="fichier de sortie (obligatoire pour xlsx)")
        parser.add_argument("--suppress", action="store_true",
                            help="masquer les effectifs inférieurs à 10")

    def fail(self, message: str, option: str) -> None:
        sys.stderr.write(json.dumps({"erreur": message, "option": option}, ensure_ascii=False) + "\n")
        raise SystemExit(2)

    def handle(self, *args, **options) -> None:
        if options["site"]:
            kind, key = "site", options["site"]
        elif options["hospital"]:
            kind, key = "etablissement", options["hospital"]
        elif options["filiere"]:
            kind, key = "filiere", options["filiere"]
        elif options["all"]:
            kind, key = "national", scopes.NATIONAL_KEY
        else:
            return self.fail("Indiquez un périmètre : --site, --hospital, --filiere ou --all.", "--site")
        try:
            scope = scopes.resolve(kind, key)
        except LookupError as exc:
            return self.fail(str(exc), {"site": "--site", "etablissement": "--hospital",
                                        "filiere": "--filiere"}.get(kind, "--all"))
        period = self.period(options)
        if options["format"] == "xlsx" and not options["output"]:
            return self.fail("Le format xlsx demande un fichier de sortie (--output).", "--output")
        presented = present(compute(scope, period), options["suppress"])
        if options["format"] == "xlsx":
            with open(options["output"], "wb") as handle:
                handle.write(exports.to_xlsx(presented))
            self.stderr.write(f"{options['output']} écrit.")
            return None
        text = json.dumps(as_json(presented), ensure_ascii=False, indent=2)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
        return None

    def period(self, options) -> Period:
        if options["start"] or options["end"]:
            try:
                start = dt.date.fromisoformat(options["start"] or "")
                end = dt.date.fromisoformat(options["end"] or "")
            except ValueError:
                self.fail("Dates de période attendues au format AAAA-MM-JJ (--from et --to).", "--from")
            if start > end:
                self.fail("La date de début (--from) doit précéder la date de fin (--to).", "--from")
            return Period(start, end)
        year = options["year"]
        if not year or not year.isdigit() or not 2000 <= int(year) <= 2100:
            self.fail("Année attendue au format AAAA (--year), entre 2000 et 2100.", "--year")
        return Period.year(int(year))
