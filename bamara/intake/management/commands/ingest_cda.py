"""`bamara ingest_cda FILE... --hospital FINESS`: one JSON acknowledgement per document."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bamara.intake import service
from bamara.intake.models import Channel, Status
from bamara.organisations.models import Hospital


class Command(BaseCommand):
    help = ("Reçoit des documents CDA SDM-MR ou des archives XDM (zip) au nom d'un établissement et "
            "affiche un accusé de réception JSON par document (une ligne chacun).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", help="documents CDA (.xml) ou archives XDM (.zip)")
        parser.add_argument("--hospital", required=True, help="FINESS géographique (ET) de l'établissement émetteur")
        parser.add_argument("--indent", type=int, default=None, help="JSON indenté (par défaut une ligne par accusé)")

    def handle(self, *args, **options) -> None:
        hospital = Hospital.objects.filter(finess_et=options["hospital"]).first()
        if hospital is None:
            raise CommandError(f"Établissement FINESS {options['hospital']} inconnu.")
        rejected = 0
        for name in options["files"]:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name} : {exc.strerror}") from None
            for ack in service.receive(data, hospital=hospital, channel=Channel.CLI, filename=path.name):
                rejected += ack.status == Status.REJECTED
                self.stdout.write(json.dumps(ack.as_dict(), ensure_ascii=False, indent=options["indent"]))
        if rejected:
            self.stderr.write(f"{rejected} document(s) rejeté(s).")
