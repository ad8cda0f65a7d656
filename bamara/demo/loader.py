"""Orchestration of a demo load: organisation, accounts, then patients in streamed batches."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from tqdm import tqdm

from bamara.organisations.models import Site
from bamara.records.models import Patient, Source

from . import bulk
from .accounts import create_demo_accounts
from .generator import CHUNK_SIZE, TABLES, Generator, site_infos
from .organisation import demo_site_codes, ensure_organisation

BULK_THRESHOLD = 50_000  # patients from which indexes are rebuilt rather than maintained


@dataclass
class LoadResult:
    patients: int
    rows: dict[str, int]
    seconds: dict[str, float]
    elapsed: float
    digest: str
    rebuild_seconds: float = 0.0  # indexes and foreign keys rebuilt after a bulk load
    rebuild_timings: list[tuple[str, float]] = field(default_factory=list)


def demo_data_present() -> bool:
    return Patient.objects.filter(source=Source.DEMO).exists()


def select_sites(codes: list[str] | None) -> list[Site]:
    wanted = codes or demo_site_codes()
    sites = list(
        Site.objects.filter(code__in=wanted).select_related("hospital", "filiere").order_by("code")
    )
    missing = sorted(set(wanted) - {s.code for s in sites})
    if missing:
        raise ValueError(f"Site(s) inconnu(s) : {', '.join(missing)}")
    return sites


def load_demo(
    patients: int,
    seed: int,
    *,
    site_codes: list[str] | None = None,
    batch_size: int = 5_000,
    as_of: dt.date | None = None,
    progress: bool = True,
    digest: bool = False,
    defer_indexes: bool | None = None,
) -> LoadResult:
    """Create the demo organisation and accounts, then ``patients`` demo records.

    ``defer_indexes`` (PostgreSQL; default: from BULK_THRESHOLD patients on) loads the whole
    set in one transaction with secondary indexes and foreign keys rebuilt at the end.
    """
    started = time.perf_counter()
    as_of = as_of or dt.date.today()
    ensure_organisation()
    create_demo_accounts()
    if defer_indexes is None:
        defer_indexes = patients >= BULK_THRESHOLD
    layout = bulk.tables(dt.datetime.combine(as_of, dt.time()))
    if connection.vendor == "postgresql" and defer_indexes:
        deferred = bulk.DeferredIndexes(layout, tqdm.write if progress else None)
        with transaction.atomic(), deferred:
            result = _load(patients, seed, site_codes, batch_size, as_of, progress, digest, layout)
            loaded = time.perf_counter()
        result.rebuild_seconds = time.perf_counter() - loaded
        result.rebuild_timings = deferred.timings
    else:
        result = _load(patients, seed, site_codes, batch_size, as_of, progress, digest, layout)
    if connection.vendor == "postgresql":
        bulk.reset_sequences()
        if defer_indexes:
            # Fresh statistics: without them the planner misjudges every query on the new rows
            # (the patient search took seconds instead of milliseconds at 1,000,000 patients);
            # and the visibility map that index-only scans need (the patient list of a 43,000-
            # patient site: 330 ms before, 140 ms after), as autovacuum would set it later.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    result.elapsed = time.perf_counter() - started
    return result


def _load(patients, seed, site_codes, batch_size, as_of, progress, digest, layout) -> LoadResult:
    started = time.perf_counter()
    generator = Generator(site_infos(select_sites(site_codes)), seed, as_of, bulk.first_free_ids())
    writer = bulk.make_writer(layout)
    hasher = hashlib.sha256()
    batch: dict[str, list[tuple]] = {t: [] for t in TABLES}
    in_batch = 0
    bar = tqdm(total=patients, unit=" dossiers", disable=not progress, desc="Patients")
    try:
        for index in range((patients + CHUNK_SIZE - 1) // CHUNK_SIZE):
            size = min(CHUNK_SIZE, patients - index * CHUNK_SIZE)
            rows = generator.chunk(index, size)
            for table, table_rows in rows.items():
                batch[table].extend(table_rows)
                if digest:
                    for row in table_rows:
                        hasher.update(repr(row).encode())
            in_batch += size
            if in_batch >= batch_size:
                writer.write(batch)
                bar.update(in_batch)
                batch, in_batch = {t: [] for t in TABLES}, 0
        if in_batch:
            writer.write(batch)
            bar.update(in_batch)
    finally:
        writer.close()
        bar.close()
    stats = writer.stats
    return LoadResult(
        patients=stats.rows.get("patient", 0),
        rows=dict(stats.rows),
        seconds=dict(stats.seconds),
        elapsed=time.perf_counter() - started,
        digest=hasher.hexdigest() if digest else "",
    )


def database_digest() -> str:
    """SHA-256 of the generated columns of every demo row in the database, in id order.

    Meant for a database holding demo data only (tests): child tables are read whole.
    """
    hasher = hashlib.sha256()
    for name, model in bulk.MODELS.items():
        queryset = model.objects.all()
        if name == "patient":
            queryset = queryset.filter(source=Source.DEMO)
        fields = [_attname(model, column) for column in bulk.COLUMNS[name]]
        for row in queryset.order_by("id").values_list(*fields):
            hasher.update(repr(row).encode())
    return hasher.hexdigest()


def _attname(model, column: str) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.column == column:
            return model_field.attname
    raise KeyError(column)
