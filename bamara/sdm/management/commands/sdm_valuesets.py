"""``bamara sdm_valuesets``: the value sets of the SDM-MR, with their number of codes."""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import CommandError, CommandParser

from bamara.sdm import definition

from ._base import SdmCommand

HEADER = ["oid", "version", "codes", "origin", "source", "name_fr"]


class Command(SdmCommand):
    help = "Liste les jeux de valeurs du SDM-MR (OID, version, nombre de codes) en CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--version", default=None, help="version du SDM-MR (défaut : la version courante)"
        )
        group.add_argument(
            "--all-versions", action="store_true", help="une ligne par jeu et par version"
        )
        parser.add_argument(
            "--codes", action="store_true", help="lister aussi les codes (une ligne par code)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        registry = definition.registry()
        if options["all_versions"]:
            versions = list(registry.versions)
        else:
            try:
                versions = [
                    definition.get(options["version"]).version
                    if options["version"]
                    else registry.current_version
                ]
            except definition.UnknownVersionError as exc:
                raise CommandError(str(exc)) from None
        all_oids = list(registry.value_set_specs.ans) + list(registry.value_set_specs.local)
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(HEADER + (["code", "system", "label_fr"] if options["codes"] else []))
        for version in versions:
            sdm = definition.get(version)
            for oid in all_oids:
                value_set = sdm.value_set(oid)
                row = [
                    oid,
                    version,
                    len(value_set),
                    value_set.origin,
                    value_set.source,
                    value_set.name_fr,
                ]
                if options["codes"]:
                    for code in value_set.codes:
                        writer.writerow([*row, code.code, code.system, code.label_fr])
                else:
                    writer.writerow(row)
