from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "bamara.records"
    label = "records"
    verbose_name = "Dossier patient"
