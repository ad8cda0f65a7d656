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
        parser.add_argument("--batch", type=int, default=1,
                            help="documents par transaction (chacun dans son point de sauvegarde ; défaut : 1)")

    def handle(self, *args, **options) -> None:
        hospital = Hospital.objects.filter(finess_et=options["hospital"]).first()
        if hospital is None:
            raise CommandError(f"Établissement FINESS {options['hospital']} inconnu.")
        if options["batch"] < 1:
            raise CommandError("--batch : un nombre de documents ≥ 1.")
        rejected = 0
        files = options["files"]
        for start in range(0, len(files), options["batch"]):
            items = []
            for name in files[start:start + options["batch"]]:
                path = Path(name)
                try:
                    items.append((path.read_bytes(), path.name))
                except OSError as exc:
                    raise CommandError(f"{name} : {exc.strerror}") from None
            if len(items) == 1:
                acks = service.receive(items[0][0], hospital=hospital, channel=Channel.CLI, filename=items[0][1])
            else:
                acks = service.receive_batch(items, hospital=hospital, channel=Channel.CLI)
            for ack in acks:
                rejected += ack.status == Status.REJECTED
                self.stdout.write(json.dumps(ack.as_dict(), ensure_ascii=False, indent=options["indent"]))
        if rejected:
            self.stderr.write(f"{rejected} document(s) rejeté(s).")
