from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "bamara.organisations"
    label = "organisations"
    verbose_name = "Organisations et accès"
