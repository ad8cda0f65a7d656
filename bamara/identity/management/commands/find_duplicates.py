"""`bamara find_duplicates (--hospital FINESS | --all)`: fill the duplicate review queue.

Each hospital's person records are compared with one another (never across hospitals): see
bamara/identity/dedup.py and docs/identity.md §8.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from bamara.identity.dedup import DEFAULT_THRESHOLD, fill_queue, find_pairs, hospital_traits
from bamara.organisations.models import Hospital


class Command(BaseCommand):
    help = "Recherche les doublons potentiels dans chaque établissement et remplit la file d'examen."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--hospital", metavar="FINESS", help="FINESS géographique de l'établissement")
        which.add_argument("--all", action="store_true", help="tous les établissements qui ont des dossiers")
        parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                            help=f"probabilité minimale d'un doublon ({DEFAULT_THRESHOLD})")

    def handle(self, *args: Any, **options: Any) -> None:
        threshold = options["threshold"]
        if not 0 < threshold <= 1:
            raise CommandError("--threshold doit être compris entre 0 (exclu) et 1")
        if options["hospital"]:
            hospitals = list(Hospital.objects.filter(finess_et=options["hospital"].strip()))
            if not hospitals:
                raise CommandError(f"établissement inconnu : FINESS {options['hospital']!r}")
        else:
            hospitals = list(Hospital.objects.filter(sites__care_episodes__isnull=False).distinct()
                             .order_by("finess_et"))
        totals = {"records": 0, "created": 0, "updated": 0, "decided": 0}
        started = time.perf_counter()
        quiet = options["verbosity"] == 0
        with tqdm(total=len(hospitals), unit=" établissements", disable=quiet) as progress:
            for hospital in hospitals:
                progress.set_postfix_str(f"{hospital.finess_et} lecture")
                traits = hospital_traits(hospital)
                progress.set_postfix_str(f"{hospital.finess_et} comparaison de {len(traits)} dossiers")
                counts = fill_queue(hospital, find_pairs(traits, threshold))
                totals["records"] += len(traits)
                for key, value in counts.items():
                    totals[key] += value
                progress.update(1)
        self.stdout.write(
            f"{len(hospitals)} établissement(s), {totals['records']} dossiers comparés en "
            f"{time.perf_counter() - started:.1f} s : {totals['created']} nouveaux doublons potentiels, "
            f"{totals['updated']} déjà en attente, {totals['decided']} déjà décidés"
        )
