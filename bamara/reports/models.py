"""Precomputed data behind the activity figures.

- `SitePatientFact`: one row per (site, patient) where the patient has a care episode or an
  activity, with the patient's characteristics the figures group on (sex, birth, death, foetus,
  most advanced diagnosis status, non-refuted ORPHA codes) and the first inclusion at that site.
  Kept up to date on every save/delete of a patient, care episode or diagnosis (signals.py);
  the figures rebuild the rows they find missing (new (site, patient) pairs, bulk loads) and
  those of patients changed since their last look (facts.catch_up, on updated_at);
  `bamara refresh_report_facts` rebuilds everything after updates that bypass both.
- `Snapshot`: figures of a whole year for the whole instance, computed by the same command (the
  instance's year reads ten million rows: too slow for a page). The page shows their as-of time.
- `Refresh`: when each full rebuild last finished, shown under the figures.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SitePatientFact(models.Model):
    # No database constraints: rows are rebuilt from the records, never the other way round, and
    # a patient deletion cascading through diagnoses must not trip over them (signals clean up).
    site = models.ForeignKey("organisations.Site", models.DO_NOTHING, db_constraint=False,
                             db_index=False, related_name="+")
    patient = models.ForeignKey("records.Patient", models.DO_NOTHING, db_constraint=False,
                                related_name="+")
    first_inclusion = models.DateField(null=True)
    sex_code = models.CharField(max_length=64, blank=True)
    birth_date = models.DateField(null=True)
    deceased = models.BooleanField(null=True)
    death_date = models.DateField(null=True)
    is_foetus = models.BooleanField(default=False)
    status_rank = models.SmallIntegerField(default=99)  # index in indicators.STATUS_ORDER, 99: none
    orpha_codes = models.TextField(blank=True)  # distinct non-refuted ORPHA codes, comma-separated

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "patient"], name="reports_fact_site_patient")]
        verbose_name = _("caractéristiques d'un patient sur un site (chiffres d'activité)")


class Snapshot(models.Model):
    kind = models.CharField(max_length=16)
    key = models.CharField(max_length=32)
    start = models.DateField()
    end = models.DateField()
    top = models.PositiveSmallIntegerField()
    data = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key", "start", "end", "top"],
                                               name="reports_snapshot_unique")]
        verbose_name = _("chiffres précalculés")


class Refresh(models.Model):
    name = models.CharField(max_length=32, primary_key=True)
    finished_at = models.DateTimeField()
