"""``bamara sdm_guide --format md|html``: the variables guide of an SDM-MR version, in French."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from bamara.sdm import definition, guide

from ._base import SdmCommand


class Command(SdmCommand):
    help = "Génère le guide des variables du SDM-MR (Markdown ou HTML), par chapitre."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["md", "html"], default="md")
        parser.add_argument(
            "--version", default=None, help="version du SDM-MR (défaut : la version courante)"
        )
        parser.add_argument(
            "--output", "-o", default=None, help="fichier de sortie (défaut : la sortie standard)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sdm = definition.get(options["version"]) if options["version"] else definition.current()
        except definition.UnknownVersionError as exc:
            raise CommandError(str(exc)) from None
        text = guide.render_html(sdm) if options["format"] == "html" else guide.render_markdown(sdm)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"guide écrit dans {options['output']}")
        else:
            self.stdout.write(text, ending="")
