"""Keeping a patient's national identifier in step with its identity traits."""

from __future__ import annotations

from django.db import transaction

from bamara.records.models import Patient

from .idmr import for_patient
from .models import FormerIdentifier


def refresh_national_id(patient: Patient, reason: str = "") -> bool:
    """Recompute the patient's IDMR; if it changed, keep the former one. True if it changed.

    The identifier always follows the current traits: when they become insufficient (birth
    date removed...) it is cleared, and the former one is kept all the same. Only the
    ``national_id`` column is saved.
    """
    new = for_patient(patient) or ""
    old = patient.national_id
    if new == old:
        return False
    with transaction.atomic():
        if old:
            FormerIdentifier.objects.create(
                patient=patient, national_id=old, replaced_by=new, reason=reason[:255]
            )
        patient.national_id = new
        patient.save(update_fields=["national_id"])
    return True
