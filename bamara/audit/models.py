"""The append-only trail of every read and write of nominative data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    VIEW = "view", _("consultation")
    SEARCH = "search", _("recherche")
    CREATE = "create", _("création")
    UPDATE = "update", _("modification")
    DELETE = "delete", _("suppression")
    EXPORT = "export", _("export")
    INTAKE = "intake", _("réception d'un document")
    IMPORT = "import", _("import")
    MERGE = "merge", _("fusion")
    UNMERGE = "unmerge", _("défusion")
    GRANT = "grant", _("accès accordé")
    REVOKE = "revoke", _("accès révoqué")


class AppendOnlyError(Exception):
    pass


class AuditEvent(models.Model):
    """One access. Rows are never updated nor deleted (database triggers enforce it too)."""

    at = models.DateTimeField(_("date et heure"), auto_now_add=True, db_index=True)
    # Plain columns rather than foreign keys: the trail must outlive users and records.
    user_id = models.BigIntegerField(_("utilisateur (id)"), null=True, db_index=True)
    user_email = models.CharField(_("utilisateur"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    patient_id = models.BigIntegerField(_("dossier patient (id)"), null=True)  # indexed with at
    object_type = models.CharField(_("objet"), max_length=64, blank=True)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64, blank=True)
    changes = models.JSONField(_("changements"), default=dict, blank=True)
    detail = models.CharField(_("détail"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    channel = models.CharField(_("canal"), max_length=16, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient_id", "at"])]
        verbose_name = _("trace d'accès")
        verbose_name_plural = _("traces d'accès")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_email} {self.action} {self.object_type}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("une trace d'accès ne se modifie pas")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("une trace d'accès ne se supprime pas")


