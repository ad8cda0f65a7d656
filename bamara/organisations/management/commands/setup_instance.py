"""Prepare an instance in one step: schema, reference data and (for a demo) synthetic patients."""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand

from bamara.records.models import Patient


class Command(BaseCommand):
    help = (
        "Migre la base, charge les référentiels et les filières s'ils manquent et, si la base "
        "ne contient aucun dossier, crée des patients de démonstration."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo-patients", type=int, default=0,
                            help="nombre de patients de démonstration si la base est vide")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, demo_patients: int, seed: int, url: str, **options) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        release_model = apps.get_model("terminologies", "TerminologyRelease")
        if not release_model.objects.exists():
            self.stdout.write("Chargement des référentiels (Orphanet, HPO, CIM-10, INSEE, FINESS)…")
            call_command("load_terminologies", verbosity=verbosity)
        call_command("load_filieres", verbosity=verbosity)
        created = False
        if demo_patients and not Patient.objects.exists():
            created = True
            self.stdout.write(f"Création de {demo_patients} patients de démonstration…")
            call_command("demo_data", patients=demo_patients, seed=seed, verbosity=verbosity)
        call_command("reindex_patients", missing_only=True, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"bamara est prêt : {url}"))
        if demo_patients and not created:  # demo_data lists the accounts when it creates them
            from bamara.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

            self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
            for email, role in DEMO_ACCOUNTS:
                self.stdout.write(f"  {email:<32} {role}")
