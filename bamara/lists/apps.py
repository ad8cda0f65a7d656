from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_entry_triggers(sender, using: str = "default", **kwargs) -> None:
    from django.db import connections

    from . import entries

    entries.install(connections[using])


class ListsConfig(AppConfig):
    name = "bamara.lists"
    label = "lists"
    verbose_name = "Listes de patients et téléchargements"

    def ready(self) -> None:
        # After every migrate, not in a migration: SQLite drops triggers with rebuilt tables.
        post_migrate.connect(_install_entry_triggers, sender=self, dispatch_uid="lists.entry_triggers")
