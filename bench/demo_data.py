"""Benchmark of the demo-data generator: N patients into a fresh, dedicated database.

    uv run python bench/demo_data.py [--patients 1000000] [--database-url URL]

The database named in the URL (default postgres://postgres@127.0.0.1:5432/bamara_bench, or
DATABASE_URL) is dropped, recreated and migrated, then the patients are generated; the script
prints rows/s per table and in total, the elapsed seconds and the peak RSS (ru_maxrss of this
process and of its children). Target for 1,000,000 patients on PostgreSQL: < 5 min, < 1 GB.
A sqlite:///path URL works too (the file is deleted first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from backend_cpu import server_cpu  # bench/, the script's own folder (sys.path[0])

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bamara_bench"
AS_OF = dt.date(2026, 11, 27)


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        sys.exit(f"refus : la base {name!r} n'est pas une base dédiée au banc d'essai")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bamara.demo.loader import load_demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    server_before = server_cpu(connection)
    cpu_before = time.process_time()
    result = load_demo(
        args.patients, args.seed, batch_size=args.batch_size, as_of=AS_OF,
        progress=not args.no_progress,
    )
    cpu = time.process_time() - cpu_before
    server_after = server_cpu(connection)
    server = f", serveur {server_after - server_before:.1f} s" if server_before is not None and server_after else ""
    own, children = peak_rss_mb()

    total = sum(result.rows.values())
    print(f"\nBase : {connection.vendor} ({connection.settings_dict['NAME']}), migrée en {migrated:.1f} s")
    print(f"{'table':<20} {'lignes':>12} {'écriture (s)':>13} {'lignes/s':>12}")
    for table, rows in result.rows.items():
        seconds = result.seconds.get(table, 0.0)
        rate = rows / seconds if seconds else float("nan")
        print(f"{table:<20} {rows:>12,} {seconds:>13.1f} {rate:>12,.0f}")
    print(f"{'total':<20} {total:>12,} {result.elapsed:>13.1f} {total / result.elapsed:>12,.0f}")
    print(
        f"\n{result.patients:,} patients en {result.elapsed:.1f} s (CPU : Python {cpu:.1f} s{server}), "
        f"{total / result.elapsed:,.0f} lignes/s ; RSS max {own:.0f} Mo (enfants {children:.0f} Mo)"
    )
    if result.rebuild_seconds:
        slowest = sorted(result.rebuild_timings, key=lambda t: -t[1])[:5]
        print(f"dont reconstruction des index et clés étrangères : {result.rebuild_seconds:.1f} s ("
              + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest) + ")")
    print("(« écriture » : temps passé à transmettre chaque table, serveur compris ; le total "
          "inclut la génération, la reconstruction des index et des clés étrangères.)")


if __name__ == "__main__":
    main()
