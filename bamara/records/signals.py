from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Patient
from .search import index_patient


@receiver(post_save, sender=Patient, dispatch_uid="records.index_patient_names")
def keep_name_keys(sender, instance: Patient, raw: bool = False, **kwargs) -> None:
    if not raw:
        index_patient(instance)
