"""`bamara poll_mssante --hospital FINESS (--maildir PATH | --imap-host H --imap-user U)`

Reads the XDM zips (or CDA documents) attached to the messages of an MSSanté mailbox,
ingests them, answers each message with a disposition notification (to an outbox maildir, or
by SMTP) and moves it to the folder Traites (or Erreurs). Runs as a service unless --once.
The IMAP password is read from BAMARA_IMAP_PASSWORD, the SMTP one from BAMARA_SMTP_PASSWORD.
"""

from __future__ import annotations

import os
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from bamara.intake import mailbox
from bamara.organisations.models import Hospital


class Command(BaseCommand):
    help = "Relève une boîte MSSanté (maildir ou IMAP) : documents CDA SDM-MR en pièces jointes XDM, accusés de réception."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hospital", required=True, help="FINESS géographique (ET) : la boîte appartient à cet établissement")
        parser.add_argument("--maildir", help="boîte au format maildir")
        parser.add_argument("--imap-host")
        parser.add_argument("--imap-port", type=int, default=993)
        parser.add_argument("--imap-user")
        parser.add_argument("--imap-folder", default="INBOX")
        parser.add_argument("--sender", action="append", help="adresse MSSanté autorisée (répétable ; défaut : toutes)")
        parser.add_argument("--outbox", help="maildir où écrire les accusés (défaut : DATA_DIR/mssante/outbox)")
        parser.add_argument("--smtp-host", default=os.environ.get("BAMARA_SMTP_HOST", ""), help="envoyer les accusés par SMTP")
        parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("BAMARA_SMTP_PORT", "587")))
        parser.add_argument("--smtp-user", default=os.environ.get("BAMARA_SMTP_USER", ""))
        parser.add_argument("--from", dest="from_address", default="", help="adresse d'expédition des accusés")
        parser.add_argument("--once", action="store_true", help="une seule relève puis sortie")
        parser.add_argument("--interval", type=float, default=60.0, help="secondes entre deux relèves (service)")

    def handle(self, *args, **options) -> None:
        hospital = Hospital.objects.filter(finess_et=options["hospital"]).first()
        if hospital is None:
            raise CommandError(f"Établissement FINESS {options['hospital']} inconnu.")
        if bool(options["maildir"]) == bool(options["imap_host"]):
            raise CommandError("Donner --maildir ou --imap-host (et --imap-user), pas les deux.")
        if options["imap_host"] and not (options["imap_user"] and os.environ.get("BAMARA_IMAP_PASSWORD")):
            raise CommandError("IMAP : --imap-user et la variable d'environnement BAMARA_IMAP_PASSWORD sont requis.")
        if options["smtp_host"]:
            sink = mailbox.SmtpSink(options["smtp_host"], options["smtp_port"], options["smtp_user"],
                                    os.environ.get("BAMARA_SMTP_PASSWORD", ""))
        else:
            sink = mailbox.OutboxSink(options["outbox"] or settings.DATA_DIR / "mssante" / "outbox")
        senders = {s.lower() for s in options["sender"]} if options["sender"] else None
        stopping = []
        if not options["once"]:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopping.append(True))
        while True:
            source = self.source(options)
            try:
                results = mailbox.poll_once(source, sink, hospital=hospital, senders=senders,
                                            from_address=options["from_address"])
            finally:
                source.close()
            for result in results:
                statuses = ", ".join(str(ack.status) for ack in result.acks) or result.error
                self.stdout.write(f"{result.message_id or result.key} ({result.sender}) : {statuses}")
            if options["once"] or stopping:
                return
            close_old_connections()  # a long-running service: do not keep a stale connection
            deadline = time.monotonic() + options["interval"]
            while time.monotonic() < deadline and not stopping:
                time.sleep(0.5)
            if stopping:
                return

    def source(self, options):
        if options["maildir"]:
            try:
                return mailbox.MaildirSource(options["maildir"])
            except (OSError, mailbox.mailbox.NoSuchMailboxError) as exc:
                raise CommandError(f"maildir {options['maildir']} illisible : {exc}") from None
        return mailbox.ImapSource(options["imap_host"], options["imap_user"], os.environ["BAMARA_IMAP_PASSWORD"],
                                  options["imap_folder"], port=options["imap_port"])
