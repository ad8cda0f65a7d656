from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import CareEpisode, Patient
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


@receiver(post_save, sender=CareEpisode, dispatch_uid="records.episode_name_keys")
@receiver(post_delete, sender=CareEpisode, dispatch_uid="records.episode_name_keys_delete")
def follow_the_sites(sender, instance: CareEpisode, raw: bool = False, **kwargs) -> None:
    """Name keys are per site: a new or removed care episode changes where a patient is found."""
    if raw:
        return
    patient = Patient.objects.filter(pk=instance.patient_id).first()
    if patient is not None:
        index_patient(patient)
