from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "bamara.records"
    label = "records"
    verbose_name = "Dossier patient"

    def ready(self) -> None:
        from . import signals  # noqa: F401
