"""Former national identifiers: what a patient's IDMR was before its traits were corrected."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FormerIdentifier(models.Model):
    """One replaced IDMR of a patient record, kept so that the warehouse can relink it."""

    patient = models.ForeignKey(
        "records.Patient", models.CASCADE, related_name="former_identifiers",
        verbose_name=_("dossier patient"),
    )
    national_id = models.CharField(_("ancien identifiant national"), max_length=20, db_index=True)
    replaced_by = models.CharField(
        _("remplacé par"), max_length=20, blank=True,
        help_text=_("identifiant calculé à sa place ; vide si les traits sont devenus insuffisants"),
    )
    replaced_at = models.DateTimeField(_("remplacé le"), default=timezone.now)
    reason = models.CharField(_("motif"), max_length=255, blank=True)

    class Meta:
        ordering = ["-replaced_at", "-pk"]
        verbose_name = _("ancien identifiant national")
        verbose_name_plural = _("anciens identifiants nationaux")

    def __str__(self) -> str:
        return f"{self.national_id} → {self.replaced_by or '∅'}"
