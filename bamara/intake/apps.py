from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "bamara.intake"
    label = "intake"
    verbose_name = "Mode connecté (documents CDA SDM-MR)"
