"""Common behaviour of the load_* commands: skip a release already loaded, turn an invalid
file into a French CommandError, report the counts and the time taken."""

import time
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import models

from bamara.terminologies.loaders.common import (
    Dataset,
    InvalidSource,
    fingerprint,
    is_loaded,
    store,
)


class LoaderCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument(
            "--bundled",
            action="store_true",
            help="Charger les extraits embarqués même si les fichiers complets sont disponibles",
        )
        parser.add_argument(
            "--force", action="store_true", help="Recharger même si cette version est déjà chargée"
        )

    def load(
        self,
        label: str,
        terminology: str,
        files: list[Path],
        read: Callable[[bool], Dataset],
        count_model: type[models.Model],
        count_key: str,
        options: dict,
    ) -> None:
        """Load `files` through `read(show_progress)` unless they are the current release."""
        show = options["verbosity"] >= 1
        try:
            sha256 = fingerprint(files)
        except FileNotFoundError as exc:
            raise CommandError(f"Fichier {label} introuvable : {exc.filename}") from exc
        names = ", ".join(p.name for p in files)
        if not options["force"] and is_loaded(terminology, sha256, count_model, count_key):
            self.stdout.write(
                f"{label} : déjà chargé depuis {names}, rien à faire (--force pour recharger)."
            )
            return
        started = time.monotonic()
        try:
            dataset = read(show)
        except InvalidSource as exc:
            raise CommandError(str(exc)) from exc
        dataset.sha256 = sha256
        release = store(dataset, show_progress=show)
        counts = ", ".join(f"{k} {v}" for k, v in release.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"{label} {release.version} chargé depuis {names} en {time.monotonic() - started:.1f} s : {counts}"
            )
        )
