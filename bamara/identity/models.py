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


class CandidateStatus(models.TextChoices):
    PENDING = "pending", _("à examiner")
    MERGED = "merged", _("fusionnés")
    REJECTED = "rejected", _("personnes différentes")


class DuplicateCandidate(models.Model):
    """A pair of records of one hospital that may be one person, waiting for the site referent.

    Patients are plain columns, like the audit trail: the queue must outlive the merge that
    deletes one of them (and come back when the merge is undone).
    """

    hospital = models.ForeignKey(
        "organisations.Hospital", models.CASCADE, related_name="duplicate_candidates",
        verbose_name=_("établissement"),
    )
    patient_a = models.BigIntegerField(_("dossier A (id)"), db_index=True)
    patient_b = models.BigIntegerField(_("dossier B (id)"), db_index=True)
    probability = models.FloatField(_("probabilité d'être la même personne"))
    reasons = models.JSONField(_("motifs"), default=list, blank=True)
    status = models.CharField(_("statut"), max_length=8, choices=CandidateStatus.choices,
                              default=CandidateStatus.PENDING, db_index=True)
    found_at = models.DateTimeField(_("détecté le"), default=timezone.now)
    decided_by = models.ForeignKey(
        "organisations.User", models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("décidé par"),
    )
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)

    class Meta:
        ordering = ["-probability", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["patient_a", "patient_b"], name="one_candidate_per_pair"),
            models.CheckConstraint(condition=models.Q(patient_a__lt=models.F("patient_b")),
                                   name="candidate_pair_ordered"),
        ]
        verbose_name = _("doublon potentiel")
        verbose_name_plural = _("doublons potentiels")

    def __str__(self) -> str:
        return f"{self.patient_a} ~ {self.patient_b} ({self.probability:.2f})"


class Merge(models.Model):
    """One merge of two records: the kept one, the removed one's identifiers, and a full
    snapshot of both records (every row of every related table) to undo it exactly."""

    hospital = models.ForeignKey(
        "organisations.Hospital", models.PROTECT, related_name="+", verbose_name=_("établissement"),
    )
    kept = models.BigIntegerField(_("dossier conservé (id)"), db_index=True)
    merged = models.BigIntegerField(_("dossier fusionné (id)"), db_index=True)
    # The removed record's identifiers, so that later documents can be routed to the kept one.
    merged_uuid = models.UUIDField(_("identifiant du dossier fusionné"), db_index=True)
    merged_ipp = models.CharField(_("IPP du dossier fusionné"), max_length=64, blank=True, db_index=True)
    merged_ins = models.CharField(_("INS du dossier fusionné"), max_length=15, blank=True)
    merged_national_id = models.CharField(_("IDMR du dossier fusionné"), max_length=20, blank=True)
    merged_cda_set_id = models.CharField(_("setId CDA du dossier fusionné"), max_length=128, blank=True, db_index=True)
    candidate = models.ForeignKey(
        DuplicateCandidate, models.SET_NULL, null=True, blank=True, related_name="merges",
    )
    snapshot = models.JSONField(_("instantané avant fusion"))
    after_digest = models.CharField(_("empreinte après fusion"), max_length=64)
    merged_by = models.ForeignKey(
        "organisations.User", models.SET_NULL, null=True, blank=True, related_name="+",
    )
    merged_at = models.DateTimeField(_("fusionné le"), default=timezone.now)
    unmerged_by = models.ForeignKey(
        "organisations.User", models.SET_NULL, null=True, blank=True, related_name="+",
    )
    unmerged_at = models.DateTimeField(_("défusionné le"), null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-pk"]
        verbose_name = _("fusion de dossiers")
        verbose_name_plural = _("fusions de dossiers")

    def __str__(self) -> str:
        return f"{self.merged} → {self.kept}"
