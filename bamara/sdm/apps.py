from django.apps import AppConfig


class SdmConfig(AppConfig):
    name = "bamara.sdm"
    label = "sdm"
    verbose_name = "Définition SDM-MR"
