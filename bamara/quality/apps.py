from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "bamara.quality"
    label = "quality"
    verbose_name = "Qualité des données et listes de suivi"
