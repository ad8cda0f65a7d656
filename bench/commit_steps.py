"""Where a committed import's PostgreSQL time goes: the CPU of the server backend (read from
/proc) and the wall time of each step of each batch, per source row: the planner's look-ups,
each table's bulk write (with the statement triggers it fires), and the deferred foreign-key
checks (run apart with SET CONSTRAINTS ALL IMMEDIATE before the commit), then the plpgsql
trigger functions (track_functions) and the rows written per table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h6commit_steps \\
        uv run python bench/commit_steps.py --rows 40000   # the database is dropped and made anew
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import import_bench  # bench/, the script's own folder (sys.path[0])

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--export", default="/tmp/commit-steps.csv")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or "bamara_bench" in url:
        sys.exit("DATABASE_URL: a PostgreSQL database of your own (dropped and made anew)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    os.environ.setdefault("BAMARA_DEBUG", "0")
    import_bench._recreate(url)
    subprocess.run([sys.executable, "-m", "bamara", "migrate", "-v0"], check=True, cwd=ROOT)
    subprocess.run([sys.executable, "-c", import_bench.GENERATE, args.export, str(args.rows)],
                   check=True, cwd=ROOT)

    import django

    django.setup()
    from django.db import connection

    from bamara.imports import engine, service, writer
    from tests.factories import make_world
    from tests.imports.conftest import load_orphanet

    load_orphanet()
    make_world()
    with connection.cursor() as cursor:
        cursor.execute("SET track_functions = 'pl'")  # superuser: a bench's own database
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def server() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # server, wall, client

    def timed(label, function, *args, **kwargs):
        before = server(), time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            after = server(), time.perf_counter(), time.process_time()
            for i in range(3):
                steps[label][i] += after[i] - before[i]

    write, plan, write_batch = writer.Table.write, engine.Importer._plan, engine.Importer._write

    def deferred_checks() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    writer.Table.write = lambda self, *a, **k: timed(
        f"write {self.model._meta.db_table}", write, self, *a, **k)
    engine.Importer._plan = lambda self, batch, *args: timed("plan (look-ups)", plan, self, batch, *args)

    def checked_write(self, batch_plan, *args):
        timed("write, all tables", write_batch, self, batch_plan, *args)
        timed("deferred foreign-key checks", deferred_checks)

    engine.Importer._write = checked_write
    start = server(), time.perf_counter(), time.process_time()
    # Sequential: each step timed on this thread's connection (no writer thread).
    _run, summary = service.import_file(args.export, "cemara", commit=True, duplicates=False,
                                        batch_size=2000, pipelined=False)
    end = server(), time.perf_counter(), time.process_time()
    rows = summary.counts["read"]
    total = [end[i] - start[i] for i in range(3)]
    print(f"{rows} rows: wall {total[1]:.1f} s ({rows / total[1]:.0f} rows/s), "
          f"CPU client {total[2]:.1f} s + server {total[0]:.1f} s "
          f"({total[2] / rows * 1e6:.0f} + {total[0] / rows * 1e6:.0f} µs per row)")
    for label, (cpu, wall, client) in sorted(steps.items(), key=lambda item: -item[1][0]):
        print(f"  {label:32} server {cpu / rows * 1e6:4.0f} µs/row, client {client / rows * 1e6:4.0f}, "
              f"wall {wall / rows * 1e6:4.0f}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT funcname, calls, total_time FROM pg_stat_user_functions "
                       "ORDER BY total_time DESC")
        for name, calls, ms in cursor.fetchall():
            print(f"  trigger {name:36} {calls:5} calls, {ms * 1000 / rows:4.0f} µs/row")
        cursor.execute("SELECT relname, n_tup_ins FROM pg_stat_user_tables WHERE n_tup_ins > %s "
                       "ORDER BY n_tup_ins DESC", [rows // 10])
        for name, inserted in cursor.fetchall():
            print(f"  rows {name:40} {inserted / rows:.2f} per source row")


if __name__ == "__main__":
    main()
