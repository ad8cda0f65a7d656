"""``bamara sdm_items [--version V]``: the items of an SDM-MR version as CSV on stdout."""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import CommandError, CommandParser

from bamara.sdm import definition

from ._base import SdmCommand

HEADER = ["item_id", "chapter", "label_fr", "type", "cardinality", "mandatory", "value_set_oid"]


class Command(SdmCommand):
    help = (
        "Liste les items d'une version du SDM-MR en CSV (par défaut la version courante). "
        "Les items retirés, conservés pour lire les dossiers antérieurs, sont inclus."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", default=None, help="version du SDM-MR (ex. 2022.01)")
        parser.add_argument("--active-only", action="store_true", help="omettre les items retirés")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sdm = definition.get(options["version"]) if options["version"] else definition.current()
        except definition.UnknownVersionError as exc:
            raise CommandError(str(exc)) from None
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(HEADER)
        for item in sdm.items:
            if options["active_only"] and not item.active:
                continue
            writer.writerow(
                [
                    item.id,
                    f"{item.chapter.code} {item.chapter.title_fr}",
                    item.label_fr,
                    item.type.value,
                    str(item.cardinality),
                    item.requirement.csv_label,
                    item.value_set or "",
                ]
            )
