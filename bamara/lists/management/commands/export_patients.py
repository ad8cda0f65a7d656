"""Write the download of a site's patient list to a file, as the list page does.

    bamara export_patients --site S9001 --format xlsx --out patients.xlsx
    bamara export_patients --site S9001 --format csv --pseudonymised --filter "orpha=97955&sexe=F" --out p.zip
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from bamara.audit import trail
from bamara.audit.models import Action
from bamara.lists import export
from bamara.lists.filters import ListFilterForm, too_many_for_completeness
from bamara.organisations.models import Site


class Command(BaseCommand):
    help = "Exporte la liste de patients d'un site (SDM-MR complet) en XLSX ou en CSV (zip)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", action="append", required=True, help="code du site (répétable)")
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--pseudonymised", action="store_true", help="variante pseudonymisée (IDMR)")
        parser.add_argument("--filter", default="", help="filtres de la liste, ex. \"orpha=586&sexe=F\"")
        parser.add_argument("--out", required=True, help="fichier à écrire")

    def handle(self, *args, **options) -> None:
        codes = options["site"]
        sites = Site.objects.filter(code__in=codes)
        missing = sorted(set(codes) - set(sites.values_list("code", flat=True)))
        if missing:
            self._fail({"site": [f"site inconnu : {code}" for code in missing]})
        data = QueryDict(options["filter"], mutable=True)
        data.setlist("sites", [str(site.pk) for site in sites])
        form = ListFilterForm(data, sites=Site.objects.filter(pk__in=sites))
        if not form.is_valid():
            self._fail({name: [str(e) for e in errors] for name, errors in form.errors.items()})
        # A command runs for the sites themselves, not for a user: every patient followed there.
        patients = form.with_completeness(form.patients())
        if patients is None:
            self._fail({"completude": [too_many_for_completeness()]})
        patients = patients.order_by(*form.patient_sort())
        site_ids = [site.pk for site in sites]
        sheets = export.build_sheets(pseudonymised=options["pseudonymised"])
        filters = form.describe()
        about = [("variante", "pseudonymisée" if options["pseudonymised"] else "nominative")]
        about += [(f"filtre {key}", value) for key, value in filters.items()]
        out = Path(options["out"])
        if options["format"] == "xlsx":
            with out.open("wb") as target:
                counts = export.write_xlsx(target, sheets, patients, site_ids, about)
        else:
            counts = {}
            with out.open("wb") as target:
                for chunk in export.csv_zip_chunks(sheets, patients, site_ids, about, counts):
                    target.write(chunk)
        counts["patients"] = counts.get("patients", 0)
        trail.record(None, Action.EXPORT, channel="commande",
                     detail=f"export_patients {options['format']} : {counts['patients']} patients",
                     changes={"filtres": filters, "format": options["format"],
                              "pseudonymise": options["pseudonymised"], "lignes": counts, "fichier": str(out)})
        self.stdout.write(json.dumps({"fichier": str(out), "lignes": counts}, ensure_ascii=False))

    def _fail(self, errors: dict) -> None:
        sys.stderr.write(json.dumps({"erreurs": errors}, ensure_ascii=False) + "\n")
        raise CommandError("filtres ou sites invalides (détail ci-dessus, en JSON)")
