"""Dated snapshots of a site's data-quality scorecard (the trend over time), and the records
whose last check found plausibility failures (the « à corriger » list)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from bamara.organisations.models import Site
from bamara.records.models import Patient


class QualitySnapshot(models.Model):
    """The scorecard of one site on one day: `bamara quality_snapshot` writes it, once per day
    and site (running it again the same day replaces that day's figures)."""

    site = models.ForeignKey(Site, models.CASCADE, related_name="quality_snapshots")
    taken_on = models.DateField(_("date"))
    taken_at = models.DateTimeField(_("calculé le"), auto_now=True)
    patients = models.PositiveIntegerField(_("dossiers"), default=0)
    mandatory_filled = models.PositiveIntegerField(_("données obligatoires renseignées"), default=0)
    mandatory_total = models.PositiveIntegerField(_("données obligatoires attendues"), default=0)
    recommended_filled = models.PositiveIntegerField(_("données recommandées renseignées"), default=0)
    recommended_total = models.PositiveIntegerField(_("données recommandées attendues"), default=0)
    records_missing_mandatory = models.PositiveIntegerField(_("dossiers incomplets"), default=0)
    records_with_errors = models.PositiveIntegerField(_("dossiers avec erreurs"), default=0)
    records_with_warnings = models.PositiveIntegerField(_("dossiers avec avertissements"), default=0)
    errors = models.PositiveIntegerField(_("erreurs"), default=0)
    warnings = models.PositiveIntegerField(_("avertissements"), default=0)
    records_with_inactive_codes = models.PositiveIntegerField(_("dossiers avec codes ORPHA inactifs"), default=0)
    dead_ends = models.PositiveIntegerField(_("impasses diagnostiques de plus de deux ans"), default=0)
    inactive_12_months = models.PositiveIntegerField(_("patients sans activité depuis plus de 12 mois"), default=0)
    # [[item_id, level, filled, total], ...] and {rule id: [messages, records]}
    items = models.JSONField(_("complétude par donnée"), default=list)
    rules = models.JSONField(_("anomalies par règle"), default=dict)
    seconds = models.FloatField(_("durée du calcul (s)"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "taken_on"], name="one_quality_snapshot_per_day")]
        ordering = ["site", "-taken_on"]
        verbose_name = _("instantané de la qualité des données")

    def __str__(self) -> str:
        return f"{self.site.code} {self.taken_on:%Y-%m-%d}"

    @staticmethod
    def _percent(filled: int, total: int) -> int | None:
        return None if total == 0 else filled * 100 // total

    @property
    def mandatory_percent(self) -> int | None:
        return self._percent(self.mandatory_filled, self.mandatory_total)

    @property
    def recommended_percent(self) -> int | None:
        return self._percent(self.recommended_filled, self.recommended_total)


class RecordIssue(models.Model):
    """A record of a site with plausibility failures at the last snapshot of that site."""

    site = models.ForeignKey(Site, models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="+")
    checked_on = models.DateField(_("contrôlé le"))
    errors = models.PositiveIntegerField(_("erreurs"), default=0)
    warnings = models.PositiveIntegerField(_("avertissements"), default=0)
    rules = models.JSONField(_("règles en défaut"), default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "patient"], name="one_record_issue_per_site")]
        indexes = [models.Index(fields=["site", "-errors", "-warnings"], name="recordissue_site_rank")]
        verbose_name = _("dossier à corriger")
