"""Rebuild the name search keys of all patients, after bulk loads that bypass model saves."""

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from bamara.records.maintenance import analyze
from bamara.records.models import CareEpisode, Patient, PatientName
from bamara.records.search import name_rows


class Command(BaseCommand):
    help = "Reconstruit les clés de recherche (normalisées et phonétiques) des noms des patients."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--missing-only", action="store_true",
                            help="seulement les patients qui n'ont encore aucune clé")

    def handle(self, *args, batch_size: int, missing_only: bool, **options) -> None:
        patients = Patient.objects.order_by("pk").only(
            "pk", "birth_name", "used_name", "first_birth_given_name", "used_given_name"
        )
        if missing_only:
            patients = patients.exclude(pk__in=PatientName.objects.values("patient_id"))
        total = patients.count()
        last_pk = 0
        with tqdm(total=total, unit="patients", disable=options["verbosity"] == 0) as bar:
            while True:
                batch = list(patients.filter(pk__gt=last_pk)[:batch_size])
                if not batch:
                    break
                with transaction.atomic():
                    if not missing_only:
                        PatientName.objects.filter(patient_id__in=[p.pk for p in batch]).delete()
                    sites: dict[int, list[int]] = {}
                    for patient_id, site_id in CareEpisode.objects.filter(
                        patient_id__in=[p.pk for p in batch]
                    ).values_list("patient_id", "site_id"):
                        sites.setdefault(patient_id, []).append(site_id)
                    rows = [row for p in batch for row in name_rows(p, sites.get(p.pk, []))]
                    PatientName.objects.bulk_create(rows, batch_size=batch_size)
                last_pk = batch[-1].pk
                bar.update(len(batch))
        analyze(PatientName)
        if options["verbosity"]:
            self.stdout.write(f"{total} patients indexés.")
