from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bamara.audit"
    label = "audit"
    verbose_name = "Traçabilité des accès"
