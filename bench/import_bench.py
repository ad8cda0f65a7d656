"""Import benchmark: a generated CEMARA-style export of N rows (default 1,000,000), imported as
a dry run then committed, into a fresh SQLite file database (or the DATABASE_URL given, never
bamara_bench; with ``--fresh`` a PostgreSQL database is dropped and created anew). Prints, for
each phase, rows/s, the peak resident memory and the CPU time of the process and of its
PostgreSQL backend (the machine is shared: CPU time is steadier than wall-clock time).

    uv run python bench/import_bench.py [--rows 1000000] [--db /tmp/import-bench.sqlite3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h6_import_bench \\
        uv run python bench/import_bench.py --fresh [--phases dry,commit] [--profile /tmp/p]
        [--workers N] [--reuse] [--bulk] [--sequential]

``--bulk``: the commit as one bulk load (``bamara import --commit --bulk``, PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from backend_cpu import cluster_cpu  # bench/, the script's own folder (sys.path[0])

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


GENERATE = """
import sys
from bamara.imports import fakes
from tests.imports.test_resume import SITES, codes
active, inactive = codes()
fakes.generate(sys.argv[1], int(sys.argv[2]), sites=SITES, active_codes=active,
               inactive_codes=inactive, rate=0.005, seed=11)
"""


def _backend_cpu() -> float | None:
    """The PostgreSQL server's CPU (all its processes: a commit writes through a second
    connection, see engine._pipeline); None on SQLite."""
    from django.db import connection

    return cluster_cpu() if connection.vendor == "postgresql" else None


def _recreate(url: str) -> None:
    """Drop and create the PostgreSQL database of ``url`` (connected to "postgres")."""
    import psycopg

    base, name = url.rsplit("/", 1)
    if name in ("bamara", "bamara_bench", "test_bamara", "postgres"):
        sys.exit(f"refusing to drop {name}")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def phase(export: Path, commit: bool, duplicates: bool, profile: str | None,
          workers: int | None, bulk: bool = False, sequential: bool = False,
          writers: int | None = None) -> dict:
    """One import of ``export`` in this (child) process: its rows/s, peak RSS and CPU time."""
    import django

    django.setup()
    from bamara.imports import service

    cpu_db = _backend_cpu()
    cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_cpu = children.ru_utime + children.ru_stime
    started = time.monotonic()
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        if done % 100_000 < rows:
            elapsed = time.monotonic() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  {done} rows, {done / elapsed:.0f} rows/s, peak RSS {peak:.0f} MB",
                  file=sys.stderr, flush=True)

    def run():
        return service.import_file(export, "cemara", commit=commit, progress=progress,
                                   duplicates=duplicates, workers=workers,
                                   bulk=bulk and commit, pipelined=False if sequential else None,
                                   writers=writers)

    if profile:
        import cProfile

        profiler = cProfile.Profile()
        _run, summary = profiler.runcall(run)
        profiler.dump_stats(f"{profile}.{'commit' if commit else 'dry'}")
    else:
        _run, summary = run()
    elapsed = time.monotonic() - started
    cpu_db_after = _backend_cpu()
    # Worker processes (a parallel dry run), once they have ended.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": elapsed, "rows": summary.counts["read"], "summary": summary.line(),
        "cpu": time.process_time() - cpu,
        "cpu_workers": children.ru_utime + children.ru_stime - children_cpu,
        "cpu_db": None if cpu_db is None or cpu_db_after is None else cpu_db_after - cpu_db,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_workers_mb": children.ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/import-bench.sqlite3")
    parser.add_argument("--duplicates", action="store_true", help="also search probable duplicates")
    parser.add_argument("--phases", default="dry,commit")
    parser.add_argument("--fresh", action="store_true",
                        help="PostgreSQL: drop and create the database of DATABASE_URL first")
    parser.add_argument("--profile", help="cProfile each phase into PROFILE.dry / PROFILE.commit")
    parser.add_argument("--workers", type=int,
                        help="dry-run worker processes (default: service.default_workers)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the export of an earlier run when it has --rows rows")
    parser.add_argument("--bulk", action="store_true", help="commit as one bulk load")
    parser.add_argument("--sequential", action="store_true",
                        help="commit without the writer thread (engine._pipeline)")
    parser.add_argument("--writers", type=int,
                        help="pipelined commit: batches in flight, one connection each (default: engine.WRITERS)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one phase, in a child process
    args = parser.parse_args()
    if "bamara_bench" in os.environ.get("DATABASE_URL", ""):
        sys.exit("never on bamara_bench: give a database of your own")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    os.environ.setdefault("BAMARA_DEBUG", "0")  # as in production: no query log
    export = Path(args.db).with_suffix(".csv")
    if args.child:
        result = phase(export, args.child == "commit", args.duplicates, args.profile, args.workers,
                       args.bulk, args.sequential, args.writers)
        print(json.dumps(result))
        return

    if "DATABASE_URL" not in os.environ:
        Path(args.db).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    elif args.fresh:
        _recreate(os.environ["DATABASE_URL"])
    subprocess.run([sys.executable, "-m", "bamara", "migrate", "-v0"], check=True, cwd=ROOT)

    import django

    django.setup()
    from bamara.organisations.models import Site
    from tests.factories import make_world
    from tests.imports.conftest import load_orphanet

    if not Site.objects.filter(code="S9001").exists():
        load_orphanet()
        make_world()
    started = time.monotonic()
    if not (args.reuse and export.exists() and export.with_suffix(".rows").exists()
            and export.with_suffix(".rows").read_text() == str(args.rows)):
        subprocess.run([sys.executable, "-c", GENERATE, str(export), str(args.rows)], check=True,
                       cwd=ROOT)
        export.with_suffix(".rows").write_text(str(args.rows))
    with open(export, encoding="utf-8") as handle:
        rows = sum(1 for _ in handle) - 1
    print(f"export: {rows} rows ready in {time.monotonic() - started:.0f} s", flush=True)
    with open("/proc/loadavg") as handle:
        print(f"load average before: {' '.join(handle.read().split()[:3])}")
    from django.db import connection

    if connection.vendor == "postgresql":  # the server's sizing changes the commit's figures
        with connection.cursor() as cursor:
            settings = []
            for name in ("shared_buffers", "max_wal_size", "maintenance_work_mem", "autovacuum"):
                cursor.execute(f"SHOW {name}")
                settings.append(f"{name} {cursor.fetchone()[0]}")
        print(f"PostgreSQL: {', '.join(settings)}")

    # Each phase in a child process, so that its peak RSS is its own.
    for name in args.phases.split(","):
        command = [sys.executable, __file__, "--child", name, "--db", args.db]
        command += ["--duplicates"] if args.duplicates else []
        command += ["--profile", args.profile] if args.profile else []
        command += ["--workers", str(args.workers)] if args.workers is not None else []
        command += ["--bulk"] if args.bulk else []
        command += ["--sequential"] if args.sequential else []
        command += ["--writers", str(args.writers)] if args.writers else []
        output = subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.PIPE,
                                text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        cpu_db = f" + PostgreSQL {result['cpu_db']:.0f} s" if result["cpu_db"] is not None else ""
        workers = (f" + workers {result['cpu_workers']:.1f} s" if result["cpu_workers"] else "")
        peak_workers = (f" (largest worker {result['peak_workers_mb']:.0f} MB)"
                        if result["cpu_workers"] else "")
        cpu_total = result["cpu"] + result["cpu_workers"] + (result["cpu_db"] or 0)
        print(f"{name}: {result['summary']}")
        print(f"{name}: {result['rows']} rows in {result['seconds']:.1f} s, "
              f"{result['rows'] / result['seconds']:.0f} rows/s, peak RSS {result['peak_mb']:.0f} MB"
              f"{peak_workers}, CPU {result['cpu']:.1f} s{workers}{cpu_db} "
              f"({result['rows'] / cpu_total:.0f} rows per CPU s)", flush=True)
    with open("/proc/loadavg") as handle:
        print(f"load average after: {' '.join(handle.read().split()[:3])}")


if __name__ == "__main__":
    main()
