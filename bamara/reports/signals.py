"""Keep `SitePatientFact` exact on every save and delete that changes what the figures read:
a patient's characteristics, a diagnosis, a care episode (first inclusion).

Activities have no receiver on purpose: they matter to the facts only through a new (site,
patient) pair, which the figures add when they meet it (compute._file_active), and a receiver
would turn every queryset delete of activities into one query per row. A pair left behind by a
deleted activity is harmless: facts are only read joined to the activities of the period.
Queryset updates that set updated_at are caught up by the figures (facts.catch_up); anything
else is rebuilt by `bamara refresh_report_facts`."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bamara.records.models import CareEpisode, Diagnosis, Patient

from . import facts


@receiver(post_save, sender=Patient, dispatch_uid="reports.facts_patient")
def patient_saved(sender, instance: Patient, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and set(update_fields) <= {"national_id", "updated_at"}):
        return
    facts.refresh_patients([instance.pk])


@receiver(post_delete, sender=Patient, dispatch_uid="reports.facts_patient_delete")
def patient_deleted(sender, instance: Patient, **kwargs) -> None:
    facts.forget_patient(instance.pk)


@receiver(post_save, sender=Diagnosis, dispatch_uid="reports.facts_diagnosis")
@receiver(post_delete, sender=Diagnosis, dispatch_uid="reports.facts_diagnosis_delete")
@receiver(post_save, sender=CareEpisode, dispatch_uid="reports.facts_episode")
@receiver(post_delete, sender=CareEpisode, dispatch_uid="reports.facts_episode_delete")
def part_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        facts.refresh_patients([instance.patient_id])
