"""Rebuild the patient-list table from the care episodes and patients (triggers keep it exact;
this is for a database restored or loaded with the triggers off), and optionally compute the
stored completeness of every entry that lacks it (else each is computed when first shown)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from bamara.lists import entries
from bamara.lists.models import Entry


class Command(BaseCommand):
    help = ("Recalcule la table des listes de patients (une ligne par prise en charge) et ses déclencheurs ; "
            "avec --completude, calcule la complétude des lignes qui ne l'ont pas.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--completude", action="store_true", help="calculer aussi la complétude manquante")
        parser.add_argument("--site", action="append", default=[], help="code de site (complétude seulement)")
        parser.add_argument("--keep", action="store_true", help="ne pas reconstruire la table")

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        if not options["keep"]:
            with transaction.atomic():
                entries.install()
                count = entries.rebuild()
            self.stdout.write(f"{count} lignes de liste recalculées en {time.monotonic() - started:.1f} s.")
        if options["completude"]:
            started = time.monotonic()
            todo = Entry.objects.filter(completeness__isnull=True)
            if options["site"]:
                todo = todo.filter(site__code__in=options["site"])
            pairs = list(todo.order_by("site_id", "patient_id").values_list("site_id", "patient_id"))
            with tqdm(total=len(pairs), unit=" lignes", disable=options["verbosity"] == 0) as bar:
                for start in range(0, len(pairs), 200):
                    chunk = pairs[start:start + 200]
                    for site_id in sorted({site for site, _ in chunk}):
                        entries.fill_completeness(site_id, [p for s, p in chunk if s == site_id])
                    bar.update(len(chunk))
            self.stdout.write(f"Complétude calculée pour {len(pairs)} lignes en {time.monotonic() - started:.1f} s.")
