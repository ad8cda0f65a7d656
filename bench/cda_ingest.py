"""Throughput of the CDA intake: documents/s and p50/p95 latency, on SQLite or PostgreSQL.

    uv run python bench/cda_ingest.py                                   # SQLite, temporary file
    uv run python bench/cda_ingest.py --database-url postgres://postgres@127.0.0.1:5432/bamara_bench_cda

Documents are generated: demo records (bamara.demo) exported as CDA SDM-MR 2024.01, then
each made a distinct record (own setId, IPP and row ids). A share of the documents are newer
versions of records already sent (``--updates``), the rest new records. Every document goes
through the whole intake, as the endpoint does: hardened parsing, mapping, validation,
reconciliation in its own transaction (or, with ``--batch N``, N documents per transaction,
each in its own savepoint), kept document, audit event. ``--workers N`` runs N processes (on
PostgreSQL), the documents split by record so that the versions of one record stay in order.

Printed: documents/s (wall clock), p50/p95 latency (with batches: until the batch is
committed, which is when a document is acknowledged), and documents per CPU-second, client
(every worker process) plus server (their PostgreSQL backends, read from /proc: local server
only), i.e. the throughput per busy core. The PostgreSQL database is created if missing and
emptied of its records first.

    uv run python bench/cda_ingest.py --database-url postgres://postgres@127.0.0.1:5432/bamara_cda_bench --batch 50 --workers 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from backend_cpu import server_cpu  # bench/, the script's own folder (sys.path[0])

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_ROOT = "1.2.250.1.213.1.1.1.30.777"


def setup_django(database_url: str | None, data_dir: str) -> None:
    os.environ["BAMARA_DATA_DIR"] = data_dir
    os.environ.setdefault("BAMARA_DEBUG", "0")  # no query log
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        ensure_database(database_url)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(data_dir) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse

    config = parse(url)
    admin = {"host": config["HOST"] or None, "port": config["PORT"] or None, "user": config["USER"] or None,
             "password": config["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**{k: v for k, v in admin.items() if v is not None}) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def templates(records: int, seed: int) -> list[tuple[object, bytes]]:
    """(hospital, document) of demo records, exported; the demo records are then removed so
    that the documents create records of their own."""
    import datetime as dt

    from bamara.demo.loader import load_demo
    from bamara.intake import exporter
    from bamara.records.models import Patient, Source

    Patient.objects.filter(source__in=(Source.DEMO, Source.EHR)).delete()
    load_demo(records, seed, as_of=dt.date(2026, 11, 27), progress=False)
    patients = exporter.patients_for_export(Patient.objects.filter(source=Source.DEMO, is_foetus=False).order_by("pk"))
    result = [(patient.hospital, exporter.export_patient(patient)) for patient in patients]
    Patient.objects.filter(source=Source.DEMO).delete()
    return result


def distinct(template: bytes, number: int, version: int = 1) -> bytes:
    """The template as record ``number``: its own setId, IPP, dossier and row ids."""
    from lxml import etree

    from bamara.intake.cda import q

    root = etree.fromstring(template)
    root.find(q("setId")).attrib.update({"root": f"{BENCH_ROOT}.{number}"})
    root.find(q("versionNumber")).set("value", str(version))
    root.find(q("id")).set("root", str(uuid.uuid5(uuid.NAMESPACE_OID, f"doc|{number}|{version}")).upper())
    ids = root.find(q("recordTarget")).find(q("patientRole")).findall(q("id"))
    for identifier in ids:
        if not identifier.get("root", "").startswith("1.2.250.1.213.1.4."):  # not an INS
            identifier.set("extension", f"BENCH{number}")
            break
    for identifier in root.iter(q("id")):
        value = identifier.get("root", "")
        if len(value) == 36 and value.count("-") == 4:  # a UUID: made unique to the record
            identifier.set("root", str(uuid.uuid5(uuid.UUID(value), str(number))).upper())
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def run_worker(documents: list[tuple[str, object, bytes]], batch: int, results, barrier,
               analyze_every: int = 0) -> None:
    """Ingest ``documents`` in this process; put (latencies, statuses, client CPU, server CPU,
    elapsed) on ``results``. ``analyze_every``: ANALYZE the database every so many documents,
    on another connection (standing in for autovacuum, not counted)."""
    from django.db import connection

    from bamara.intake import service
    from bamara.intake.models import Channel

    connection.ensure_connection()
    latencies: dict[str, list[float]] = {"new": [], "update": []}
    statuses: dict[str, int] = {}
    if barrier is not None:
        barrier.wait()
    server_before = server_cpu(connection)
    cpu_before = time.process_time()
    started = time.perf_counter()
    chunks: list[list] = []
    for document in documents:  # a batch holds documents of one hospital
        if not chunks or len(chunks[-1]) == batch or chunks[-1][0][1] != document[1]:
            chunks.append([])
        chunks[-1].append(document)
    done = 0
    for chunk in chunks:
        if analyze_every and done // analyze_every != (done + len(chunk)) // analyze_every:
            autovacuum_stand_in(connection)
        done += len(chunk)
        begin = time.perf_counter()
        if batch == 1:
            acks = service.receive(chunk[0][2], hospital=chunk[0][1], channel=Channel.CLI)
        else:
            acks = service.receive_batch([(data, "") for _, _, data in chunk], hospital=chunk[0][1], channel=Channel.CLI)
        took = time.perf_counter() - begin
        for (kind, _, _), ack in zip(chunk, acks, strict=True):
            latencies[kind].append(took)
            statuses[str(ack.status)] = statuses.get(str(ack.status), 0) + 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    server_after = server_cpu(connection)
    server = server_after - server_before if server_before is not None and server_after is not None else None
    results.put((latencies, statuses, cpu, server, elapsed))
    connection.close()


def autovacuum_stand_in(connection) -> None:
    """What autovacuum would do as the tables grow: their planner statistics refreshed, by
    another backend (its CPU is not the intake's)."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("ANALYZE")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--records", type=int, default=300, help="demo records used as templates")
    parser.add_argument("--updates", type=float, default=0.2, help="share of newer versions of records already sent")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1, help="documents per transaction (one savepoint each)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL only)")
    parser.add_argument("--analyze-every", type=int, metavar="N",
                        help="PostgreSQL: ANALYZE every N documents on another connection "
                             "(default: 1000 when autovacuum is off, as on our CI's server; else never)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the ingestion (one process) into FILE")
    options = parser.parse_args()
    if options.workers > 1 and options.profile:
        parser.error("--profile : un seul processus")
    if options.workers > 1 and not options.database_url:
        parser.error("--workers > 1 : PostgreSQL seulement (SQLite n'a qu'un écrivain)")

    with tempfile.TemporaryDirectory(prefix="bamara-bench-cda-") as data_dir:
        setup_django(options.database_url, data_dir)
        from django.core.management import call_command
        from django.db import connection

        from bamara.intake import service
        from bamara.intake.models import Channel, ReceivedDocument, Status

        call_command("migrate", verbosity=0)
        ReceivedDocument.objects.all().delete()
        print(f"base : {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
        analyze_every = options.analyze_every or 0
        if connection.vendor == "postgresql" and options.analyze_every is None:
            with connection.cursor() as cursor:
                cursor.execute("SHOW autovacuum")
                if cursor.fetchone()[0] == "off":
                    analyze_every = 1000
        if analyze_every:
            print(f"autovacuum : ANALYZE tous les {analyze_every} documents, sur une autre connexion "
                  "(non compté)", flush=True)
        started = time.perf_counter()
        bases = templates(options.records, options.seed)
        documents, sent = [], []
        for index in range(options.documents):
            update = sent and (index * 7919 % 100) < options.updates * 100
            if update:
                number, version = sent[index * 104729 % len(sent)]
                sent.remove((number, version))
                version += 1
            else:
                number, version = index, 1
            hospital, template = bases[number % len(bases)]
            documents.append(("update" if update else "new", hospital, distinct(template, number, version)))
            sent.append((number, version))
        size = sum(len(data) for _, _, data in documents) / len(documents)
        print(f"{len(documents)} documents générés ({len(bases)} modèles, {size / 1024:.0f} Kio en moyenne) "
              f"en {time.perf_counter() - started:.0f} s", flush=True)

        for _, hospital, data in documents[:20]:  # warm-up: caches, definition, value sets
            service.receive(data, hospital=hospital, channel=Channel.CLI)
        # Batches of one hospital, and the documents of one record in one worker, in order.
        work = documents[20:]
        shares: list[list] = [[] for _ in range(options.workers)]
        for kind, hospital, data in work:
            number = int(data.split(f'{BENCH_ROOT}.'.encode(), 1)[1].split(b'"', 1)[0])
            shares[number % options.workers].append((kind, hospital, data))
        batches = [sorted(share, key=lambda d: d[1].pk) if options.batch > 1 else share for share in shares]
        import multiprocessing

        from django.db import connections

        results: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
        if options.workers == 1 and options.profile:
            import cProfile

            profiler = cProfile.Profile(time.process_time)  # CPU time: the server's share is not counted
            profiler.runcall(run_worker, batches[0], options.batch, results, None, analyze_every)
            profiler.dump_stats(options.profile)
            outcomes = [results.get()]
        elif options.workers == 1:
            run_worker(batches[0], options.batch, results, None, analyze_every)
            outcomes = [results.get()]
        else:
            connections.close_all()  # each worker opens its own connection
            context = multiprocessing.get_context("fork")
            barrier = context.Barrier(options.workers)
            processes = [context.Process(target=run_worker,
                                         args=(share, options.batch, results, barrier, analyze_every))
                         for share in batches]
            for process in processes:
                process.start()
            outcomes = [results.get() for _ in processes]
            for process in processes:
                process.join()
        latencies: dict[str, list[float]] = {"new": [], "update": []}
        statuses: dict[str, int] = {}
        cpu = 0.0
        server: float | None = 0.0
        for worker_latencies, worker_statuses, worker_cpu, worker_server, _ in outcomes:
            for kind, values in worker_latencies.items():
                latencies[kind] += values
            for status, n in worker_statuses.items():
                statuses[status] = statuses.get(status, 0) + n
            cpu += worker_cpu
            server = None if server is None or worker_server is None else server + worker_server
        elapsed = max(outcome[4] for outcome in outcomes)
        every = latencies["new"] + latencies["update"]
        count = len(every)
        mode = f"{options.workers} processus, {'1 transaction par document' if options.batch == 1 else f'lots de {options.batch} documents'}"
        print(f"statuts : {statuses}")
        print(f"débit   : {count / elapsed:,.0f} documents/s ({count} en {elapsed:.1f} s, {mode})")
        print(f"latence : p50 {percentile(every, 0.5) * 1000:.1f} ms, p95 {percentile(every, 0.95) * 1000:.1f} ms, "
              f"moyenne {statistics.fmean(every) * 1000:.1f} ms")
        line = f"CPU     : client {cpu / count * 1000:.1f} ms/document"
        total = cpu
        if server:
            total += server
            line += f", serveur PostgreSQL {server / count * 1000:.1f} ms/document"
        print(f"{line} ; soit {count / total:,.0f} documents par seconde de CPU (par cœur occupé), "
              f"{total / elapsed:.2f} cœurs occupés en moyenne")
        for kind, values in latencies.items():
            if values:
                label = "nouveaux dossiers" if kind == "new" else "nouvelles versions"
                print(f"  {label:<19}: {len(values):>6}  p50 {percentile(values, 0.5) * 1000:.1f} ms, "
                      f"p95 {percentile(values, 0.95) * 1000:.1f} ms")
        assert statuses.get(str(Status.REJECTED), 0) == 0, "documents générés rejetés"
        try:
            load = os.getloadavg()
            print(f"charge de la machine (1/5/15 min) : {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} sur {os.cpu_count()} cœurs")
        except OSError:
            pass


if __name__ == "__main__":
    main()
