"""Load the 23 filières de santé maladies rares from the bundled TSV (idempotent)."""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from bamara.organisations.models import Filiere

FILIERES_TSV = Path(__file__).resolve().parents[2] / "data" / "filieres_fsmr.tsv"


def read_filieres(path: Path = FILIERES_TSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@transaction.atomic
def load_filieres(path: Path = FILIERES_TSV) -> tuple[int, int]:
    """Create or update each filière by acronym; returns (created, updated)."""
    created = updated = 0
    for row in read_filieres(path):
        _, was_created = Filiere.objects.update_or_create(
            acronym=row["acronyme"].strip(),
            defaults={
                "name": row["nom"].strip(),
                "scope": row["perimetre"].strip(),
                "website": row["site_web"].strip(),
            },
        )
        created += was_created
        updated += not was_created
    return created, updated


class Command(BaseCommand):
    help = "Charge (ou met à jour) les 23 filières de santé maladies rares."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fichier", type=Path, default=FILIERES_TSV, help="TSV des filières")

    def handle(self, *args, **options) -> None:
        created, updated = load_filieres(options["fichier"])
        self.stdout.write(
            self.style.SUCCESS(f"Filières : {created} créée(s), {updated} mise(s) à jour.")
        )
