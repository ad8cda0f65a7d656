"""`bamara refresh_report_facts [--batch-size N] [--skip-facts] [--years 2024 2025 ...]`

Rebuilds what the activity figures precompute, after bulk loads or updates that bypass saves:
1. the per-(site, patient) facts, by ranges of patient ids, each range in its own transaction;
2. the whole instance's figures of every year with activities (or of --years), read by the pages
   with their as-of time. Run it at night: the instance's figures are as of its last run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from bamara.records.models import Activity, Patient
from bamara.reports import facts, scopes
from bamara.reports.compute import Period, compute, snapshot_data
from bamara.reports.models import Refresh, Snapshot


class Command(BaseCommand):
    help = "Reconstruit les données précalculées des chiffres d'activité (faits patients, années de l'instance)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=50_000, help="dossiers par transaction")
        parser.add_argument("--skip-facts", action="store_true", help="ne recalculer que les années")
        parser.add_argument("--years", type=int, nargs="*", help="années à précalculer (défaut : toutes)")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["verbosity"] == 0
        size = options["batch_size"]
        if size < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        if not options["skip_facts"]:
            self.refresh_facts(size, quiet)
        years = options["years"]
        if years is None:
            years = sorted({day.year for day in Activity.objects.dates("date", "year")})
        bad = [year for year in years if not 2000 <= year <= 2100]
        if bad:
            raise CommandError(f"Année invalide : {bad[0]} (attendu entre 2000 et 2100).")
        instance = scopes.resolve("national", scopes.NATIONAL_KEY)
        for year in tqdm(years, unit=" années", disable=quiet, desc="instance"):
            period = Period.year(year)
            started = timezone.now()  # figures are as of the start of their computation
            figures = compute(instance, period, precomputed=False)
            Snapshot.objects.update_or_create(
                kind=instance.kind, key=instance.key, start=period.start, end=period.end, top=10,
                defaults={"data": snapshot_data(figures), "computed_at": started})
        self.stdout.write(f"{len(years)} années de l'instance précalculées.")

    def refresh_facts(self, size: int, quiet: bool) -> None:
        started = timezone.now()
        bounds = Patient.objects.order_by("pk").values_list("pk", flat=True)
        low, high = bounds.first() or 0, (bounds.last() or 0) + 1
        written = 0
        with tqdm(total=high - low, unit=" id", unit_scale=True, disable=quiet, desc="faits patients") as bar:
            for start in range(low, high, size):
                with transaction.atomic():
                    written += facts.refresh_range(start, min(start + size, high))
                bar.update(min(start + size, high) - start)
            # Rows of patients deleted since (ids outside every range above).
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM reports_sitepatientfact WHERE patient_id < %s OR patient_id >= %s",
                               [low, high])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # VACUUM cannot run in a transaction (e.g. when called from tests): ANALYZE then.
                vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
                cursor.execute(f"{vacuum} reports_sitepatientfact")
        Refresh.objects.update_or_create(name="facts", defaults={"finished_at": started})
        # Every change before the start of the rebuild is in the facts now.
        Refresh.objects.update_or_create(name=facts.WATERMARK, defaults={"finished_at": started})
        self.stdout.write(f"{written} lignes de faits (site, patient) reconstruites "
                          f"en {(timezone.now() - started).total_seconds():.0f} s.")
