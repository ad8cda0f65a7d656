from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Patient
from .search import index_patient


@receiver(post_save, sender=Patient, dispatch_uid="records.patient_identity_keys")
def keep_identity_keys(sender, instance: Patient, raw: bool = False, update_fields=None,
                       **kwargs) -> None:
    """Name search keys and the national identifier follow every save of identity traits.
    Bulk loads bypass saves: they run `reindex_patients` and `refresh_idmr` afterwards."""
    if raw or (update_fields is not None and set(update_fields) <= {"national_id", "updated_at"}):
        return
    from bamara.identity.services import refresh_national_id

    index_patient(instance)
    refresh_national_id(instance, "traits d'identité modifiés")
