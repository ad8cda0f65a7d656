from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "bamara.reports"
    label = "reports"
    verbose_name = "Chiffres d'activité (PIRAMIG) et qualité des données"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
