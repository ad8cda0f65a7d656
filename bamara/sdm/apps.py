from django.apps import AppConfig


class SdmConfig(AppConfig):
    name = "bamara.sdm"
    label = "sdm"
    verbose_name = "Définition SDM-MR"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system check)
