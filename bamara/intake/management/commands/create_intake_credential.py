"""`bamara create_intake_credential --hospital FINESS --name "DPI X"`: prints the token once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bamara.intake.auth import create_credential
from bamara.organisations.models import Hospital


class Command(BaseCommand):
    help = "Crée l'accès d'un système hospitalier (DPI) au point d'accès CDA et affiche son jeton, une seule fois."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hospital", required=True, help="FINESS géographique (ET) de l'établissement")
        parser.add_argument("--name", required=True, help="nom du système, ex. « DPI Orbis »")

    def handle(self, *args, **options) -> None:
        hospital = Hospital.objects.filter(finess_et=options["hospital"]).first()
        if hospital is None:
            raise CommandError(f"Établissement FINESS {options['hospital']} inconnu.")
        credential, token = create_credential(hospital, options["name"])
        self.stderr.write(f"Accès n° {credential.pk} « {credential.name} » pour {hospital} ({hospital.finess_et}). "
                          "Jeton (il ne sera plus affiché ; seule son empreinte est conservée) :")
        self.stdout.write(token)
