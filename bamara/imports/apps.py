from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "bamara.imports"
    label = "imports"
    verbose_name = "Imports de bases existantes (migration CEMARA)"
