"""Throughput of the CDA intake: documents/s and p50/p95 latency, on SQLite or PostgreSQL.

    uv run python bench/cda_ingest.py                                   # SQLite, temporary file
    uv run python bench/cda_ingest.py --database-url postgres://postgres@127.0.0.1:5432/bamara_bench_cda

Documents are generated: demo records (bamara.demo) exported as CDA SDM-MR 2024.01, then
each made a distinct record (own setId, IPP and row ids). A share of the documents are newer
versions of records already sent (``--updates``), the rest new records. Every document goes
through the whole intake, as the endpoint does: hardened parsing, mapping, validation,
reconciliation in its own transaction, kept document, audit event. One process: the figures
are per core. The PostgreSQL database is created if missing and emptied of its records first.
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


def server_cpu(connection) -> float | None:
    """CPU seconds used so far by the PostgreSQL backend of this connection (local server)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bamara-bench-cda-") as data_dir:
        setup_django(options.database_url, data_dir)
        from django.core.management import call_command
        from django.db import connection

        from bamara.intake import service
        from bamara.intake.models import Channel, ReceivedDocument, Status

        call_command("migrate", verbosity=0)
        ReceivedDocument.objects.all().delete()
        print(f"base : {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
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
        latencies: dict[str, list[float]] = {"new": [], "update": []}
        statuses: dict[str, int] = {}
        server_before = server_cpu(connection)
        cpu_before = time.process_time()
        started = time.perf_counter()
        for kind, hospital, data in documents[20:]:
            begin = time.perf_counter()
            ack = service.receive(data, hospital=hospital, channel=Channel.CLI)[0]
            latencies[kind].append(time.perf_counter() - begin)
            statuses[str(ack.status)] = statuses.get(str(ack.status), 0) + 1
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        server_after = server_cpu(connection)
        every = latencies["new"] + latencies["update"]
        print(f"statuts : {statuses}")
        print(f"débit   : {len(every) / elapsed:,.0f} documents/s ({len(every)} en {elapsed:.1f} s, 1 processus)")
        print(f"latence : p50 {percentile(every, 0.5) * 1000:.1f} ms, p95 {percentile(every, 0.95) * 1000:.1f} ms, "
              f"moyenne {statistics.fmean(every) * 1000:.1f} ms")
        count = len(every)
        line = f"CPU     : client {cpu / count * 1000:.1f} ms/document"
        total = cpu
        if server_before is not None and server_after is not None:
            total += server_after - server_before
            line += f", serveur PostgreSQL {(server_after - server_before) / count * 1000:.1f} ms/document"
        print(f"{line} ; soit {count / total:,.0f} documents par seconde de CPU (par cœur)")
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
