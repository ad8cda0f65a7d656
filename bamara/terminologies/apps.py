from django.apps import AppConfig


class TerminologiesConfig(AppConfig):
    name = "bamara.terminologies"
    label = "terminologies"
    verbose_name = "Terminologies"
