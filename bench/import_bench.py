"""Import benchmark: a generated CEMARA-style export of N rows (default 1,000,000), committed
into a fresh SQLite file database (or the DATABASE_URL given, never bamara_bench); prints rows/s
and the peak resident memory.

    uv run python bench/import_bench.py [--rows 1000000] [--db /tmp/import-bench.sqlite3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/import-bench.sqlite3")
    parser.add_argument("--duplicates", action="store_true", help="also search probable duplicates")
    args = parser.parse_args()
    if "bamara_bench" in os.environ.get("DATABASE_URL", ""):
        sys.exit("never on bamara_bench: give a database of your own")
    if "DATABASE_URL" not in os.environ:
        Path(args.db).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    os.environ.setdefault("BAMARA_DEBUG", "0")  # as in production: no query log
    subprocess.run([sys.executable, "-m", "bamara", "migrate", "-v0"], check=True, cwd=ROOT)

    import django

    django.setup()
    from bamara.imports import service
    from bamara.organisations.models import Site
    from tests.factories import make_world
    from tests.imports.conftest import load_orphanet

    if not Site.objects.filter(code="S9001").exists():
        load_orphanet()
        make_world()
    export = Path(args.db).with_suffix(".csv")
    started = time.monotonic()
    # In a child process, so that the peak RSS printed below is the import's alone.
    subprocess.run([sys.executable, "-c", GENERATE, str(export), str(args.rows)], check=True,
                   cwd=ROOT)
    with open(export, encoding="utf-8") as handle:
        rows = sum(1 for _ in handle) - 1
    print(f"export: {rows} rows generated in {time.monotonic() - started:.0f} s", flush=True)

    done = 0
    started = time.monotonic()

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        if done % 50_000 < rows:
            elapsed = time.monotonic() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  {done} rows, {done / elapsed:.0f} rows/s, peak RSS {peak:.0f} MB", flush=True)

    _run, summary = service.import_file(export, "cemara", commit=True, progress=progress,
                                       duplicates=args.duplicates, batch_size=2000)
    elapsed = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(summary.line())
    print(f"import of {rows} rows: {elapsed:.0f} s, {rows / elapsed:.0f} rows/s, "
          f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
