"""Saved filters of the patient list, per user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedFilter(models.Model):
    """A named set of list filters (the query string of the list page), private to its user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("nom"), max_length=100)
    query = models.CharField(_("filtres"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="one_saved_filter_name_per_user")]
        verbose_name = _("filtre enregistré")
        verbose_name_plural = _("filtres enregistrés")
        # Granted to a user or group that may only download pseudonymised data (e.g. a data
        # manager working for a research study): the nominative variant is then refused.
        permissions = [("pseudonymised_only", _("téléchargements pseudonymisés uniquement"))]

    def __str__(self) -> str:
        return self.name


class Entry(models.Model):
    """One line of a site's patient list: a care episode with the patient's sort keys and the
    columns the list filters on, so that a site's page is read in order from one index instead
    of sorting the site's patients out of the 1M-row patient table.

    Kept by database triggers on the care episodes and the patients (`lists.entries`), so that
    every write path (forms, CDA intake, imports, bulk loads, merges, raw SQL) keeps it exact
    in the same transaction. An entry exists exactly when its care episode does: the list's
    wall is the care episode's, as before. Rebuilt by `bamara refresh_lists`."""

    episode = models.OneToOneField("records.CareEpisode", models.DO_NOTHING, primary_key=True,
                                   db_constraint=False, related_name="+")
    site = models.ForeignKey("organisations.Site", models.DO_NOTHING, db_constraint=False,
                             db_index=False, related_name="+")
    patient = models.ForeignKey("records.Patient", models.DO_NOTHING, db_constraint=False,
                                related_name="+")
    inclusion_date = models.DateField(null=True)
    # Copies of the patient's columns (same types, so the same collation and order).
    birth_name = models.CharField(max_length=100)
    first_birth_given_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField(null=True)
    updated_at = models.DateTimeField()
    sex_code = models.CharField(max_length=8, blank=True)
    deceased = models.BooleanField(null=True)
    residence_commune = models.CharField(max_length=5, blank=True)
    opposition = models.BooleanField(default=False)
    # Percent of the mandatory items filled, counting the site's care episode and activities
    # (records.completeness); NULL when not computed since the record last changed (the
    # triggers clear it on any write to the record or to a table completeness reads), -1
    # while being computed (entries.fill_completeness).
    completeness = models.SmallIntegerField(null=True)

    class Meta:
        indexes = [
            # One per sort order of the list (filters.SORTS), each led by the site.
            models.Index(fields=["site", "birth_name", "first_birth_given_name", "patient"], name="list_site_name"),
            models.Index(fields=["site", "birth_date", "patient"], name="list_site_birth"),
            models.Index(fields=["site", "updated_at", "patient"], name="list_site_updated"),
        ]
        verbose_name = _("ligne de la liste de patients d'un site")


class EntryDiagnosis(models.Model):
    """A diagnosis of a listed patient, once per site where the patient is listed, so that the
    diagnosis criteria of a site's list read that site's rows (index on site and code) instead
    of probing the national diagnosis table once per listed patient. Kept by the same
    triggers as `Entry` (`lists.entries`)."""

    site = models.ForeignKey("organisations.Site", models.DO_NOTHING, db_constraint=False,
                             db_index=False, related_name="+")
    patient = models.ForeignKey("records.Patient", models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")
    diagnosis = models.ForeignKey("records.Diagnosis", models.DO_NOTHING, db_constraint=False,
                                  related_name="+")
    disease_system = models.CharField(max_length=64, blank=True)
    disease_code = models.CharField(max_length=64, blank=True)
    status_code = models.CharField(max_length=64, blank=True)
    clinical_diagnosis_age_code = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["site", "disease_code", "patient"], name="list_diag_site_code"),
            models.Index(fields=["site", "patient"], name="list_diag_site_patient"),
        ]
        verbose_name = _("diagnostic d'une ligne de la liste de patients")


class CodeSet(models.Model):
    """A large code set of a list filter (an ORPHA group spans up to 6,000 codes), stored once
    per terminology release so that the query names it by key: PostgreSQL spends ~70 ms
    planning a literal list of 6,000 values, and nothing to read it from a table."""

    key = models.CharField(max_length=120)
    code = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "code"], name="lists_codeset_key_code")]
        verbose_name = _("ensemble de codes d'un filtre")
