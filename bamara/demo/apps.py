from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "bamara.demo"
    label = "demo"
    verbose_name = "Données de démonstration"
