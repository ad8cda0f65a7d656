"""Common behaviour of the *_search commands: one ranked hit per line."""

from collections.abc import Callable

from django.core.management.base import BaseCommand

from bamara.terminologies.search import DEFAULT_LIMIT, Hit


class SearchCommand(BaseCommand):
    search: Callable[[str, int], list[Hit]]
    replacement_prefix = ""

    def add_arguments(self, parser):
        parser.add_argument("text", help="Texte ou code recherché")
        parser.add_argument(
            "--limit", type=int, default=DEFAULT_LIMIT, help="Nombre maximal de résultats"
        )

    def status(self, hit: Hit) -> str:
        return "actif" if hit.active else "inactif"

    def format(self, hit: Hit) -> str:
        columns = [hit.display_code, hit.label, hit.detail, self.status(hit)]
        line = " | ".join(c for c in columns if c)
        if hit.replaced_by:
            line += " → " + ", ".join(self.replacement_prefix + code for code in hit.replaced_by)
        if hit.matched_text:
            line += f" ({hit.rank} : {hit.matched_text})"
        return line

    def handle(self, *args, **options):
        hits = type(self).search(options["text"], options["limit"])
        if not hits:
            self.stdout.write("Aucun résultat.")
        for hit in hits:
            self.stdout.write(self.format(hit))
