from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "bamara.identity"
    label = "identity"
    verbose_name = "Identité et identifiant national maladies rares (IDMR)"
