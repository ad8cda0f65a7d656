"""Import runs of legacy databases (CEMARA...), their rows and what each source record became.

- ``ImportRun``: one file imported with one mapping; ``checkpoint`` is the last source row
  committed, written in the same transaction as the rows of its batch, so that a run killed at
  any point resumes after it without loss or duplication.
- ``ImportRow``: the outcome of one source row of a committed run, with the hash of its content.
- ``ImportedRecord``: one source record (mapping, site, source id) and the patient it became,
  with the content hash of its last import: importing the same file again changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    DRY_RUN = "essai", _("essai (rien n'est enregistré)")
    RUNNING = "en_cours", _("import en cours ou interrompu")
    DONE = "termine", _("import terminé")


class Outcome(models.TextChoices):
    CREATED = "cree", _("créé")
    FEDERATED = "federe", _("rattaché à un dossier existant (même identité)")
    UPDATED = "modifie", _("modifié")
    UNCHANGED = "inchange", _("inchangé")
    REJECTED = "rejete", _("rejeté")


class ImportRun(models.Model):
    file_name = models.CharField(_("fichier"), max_length=255)
    file_sha256 = models.CharField(_("empreinte du fichier"), max_length=64, db_index=True)
    mapping_name = models.CharField(_("correspondance"), max_length=64)
    mapping_sha256 = models.CharField(_("empreinte de la correspondance"), max_length=64)
    # The sites this run may write to (the user's sites for the upload page); empty: any site.
    sites = models.ManyToManyField("organisations.Site", blank=True, related_name="+")
    default_site = models.ForeignKey(
        "organisations.Site", models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("site par défaut"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("statut"), max_length=8, choices=RunStatus.choices,
                              default=RunStatus.DRY_RUN)
    checkpoint = models.PositiveIntegerField(_("dernière ligne enregistrée"), default=0)
    counts = models.JSONField(_("décompte"), default=dict, blank=True)
    # Stored upload (web) so that the commit reads exactly the file of the dry run.
    stored_path = models.CharField(max_length=500, blank=True)
    report_path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("import")

    def __str__(self) -> str:
        return f"import {self.pk} {self.file_name} ({self.mapping_name})"

    @property
    def source_prefix(self) -> str:
        return f"import/{self.pk}"


class ImportRow(models.Model):
    # The bookkeeping rows of an import have no foreign-key constraints in the database, here
    # and in ImportedRecord: the ORM applies on_delete, and their per-row checks were ~5 µs
    # each, five per imported row (docs/imports.md, "Session 10").
    run = models.ForeignKey(ImportRun, models.CASCADE, related_name="rows", db_index=False,
                            db_constraint=False)
    number = models.PositiveIntegerField(_("ligne"))
    record_key = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=64)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    patient = models.ForeignKey("records.Patient", models.SET_NULL, null=True, blank=True,
                                related_name="+", db_constraint=False)
    messages = models.JSONField(default=list, blank=True)

    class Meta:
        # Also the index of the run's rows (hence run without db_index).
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="one_import_row")]


class ImportedRecord(models.Model):
    key = models.CharField(max_length=200)  # mapping:site:source id; unique (Meta)
    patient = models.ForeignKey("records.Patient", models.CASCADE, related_name="+", db_constraint=False)
    site = models.ForeignKey("organisations.Site", models.PROTECT, related_name="+", db_constraint=False)
    content_hash = models.CharField(max_length=64)
    run = models.ForeignKey(ImportRun, models.SET_NULL, null=True, related_name="+", db_constraint=False)
    row_number = models.PositiveIntegerField()
    # Rows this source record wrote (replaced when the record changes): {"diagnoses": [...]}.
    objects_written = models.JSONField(default=dict, blank=True)

    class Meta:
        # A constraint rather than unique=True: the same unique index, without PostgreSQL's
        # second varchar_pattern_ops index (LIKE look-ups, which nothing makes).
        constraints = [models.UniqueConstraint(fields=["key"], name="importedrecord_one_key")]
