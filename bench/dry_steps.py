"""The two sides of a parallel dry run, timed apart in one process (CPU µs per row): what the
worker does (``workers.prepare``) and what the importing process does (read the file, send the
cells, receive and plan each batch). Run after ``import_bench.py`` has made the database and
the export:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h7dry_bench \\
        uv run python bench/dry_steps.py /tmp/import-bench.csv [--profile /tmp/p] [--rows N]
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("export")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=0, help="stop after N rows (0: all)")
    parser.add_argument("--profile", help="cProfile each side into PROFILE.worker / .planner")
    parser.add_argument("--side", default="worker,planner")
    parser.add_argument("--prepared", help="keep the worker's results in this file (planner only)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    os.environ.setdefault("BAMARA_DEBUG", "0")
    import django

    django.setup()

    from bamara.imports import engine, workers
    from bamara.imports import mapping as mappings
    from bamara.imports.readers import open_chunks
    from bamara.imports.service import start_run

    path = Path(args.export)
    mapping = mappings.load("cemara")
    run = start_run(path, mapping, commit=False)
    importer = engine.Importer(run, mapping, path, commit=False, batch_size=args.batch,
                               duplicates=False)
    importer.transform.orphanet.preload()

    # The importing process's reading and sending (the pool pickles each chunk).
    started = time.process_time()
    shape, rows = open_chunks(path, mapping, args.batch)
    chunks = []
    for chunk in rows:
        chunks.append(pickle.dumps(chunk, 5))
        if args.rows and len(chunks) * args.batch >= args.rows:
            break
    read = time.process_time() - started

    def side(name: str, work):
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(work)
            profiler.dump_stats(f"{args.profile}.{name}")
            return result
        return work()

    with tempfile.NamedTemporaryFile() as state:
        state.write(workers.state(importer.transform, shape, False))
        state.flush()
        workers.start(os.environ["DJANGO_SETTINGS_MODULE"], state.name)

    def worker() -> tuple[list[bytes], float]:
        started = time.process_time()
        prepared = [pickle.dumps(workers.prepare(pickle.loads(c)), 5) for c in chunks]
        return prepared, time.process_time() - started

    # As in the real processes: full collections rare (engine._rare_full_collections).
    gc.freeze()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, full * 100)
    work = None
    if args.prepared and Path(args.prepared).exists():
        with open(args.prepared, "rb") as handle:
            prepared = pickle.load(handle)
    else:
        prepared, work = side("worker", worker)
        if args.prepared:
            with open(args.prepared, "wb") as handle:
                pickle.dump(prepared, handle)
    count = sum(len(pickle.loads(result)) for result in prepared)
    print(f"{count} rows; importing process, read and send: {read / count * 1e6:.1f} µs/row")
    if work is not None:
        print(f"worker (receive, prepare, send): {work / count * 1e6:.1f} µs/row")
    if "planner" not in args.side:
        return

    def planner() -> float:
        started = time.process_time()
        for result in prepared:
            for batch in engine._unpack(pickle.loads(result)):
                importer._batch(batch)
        return time.process_time() - started

    plan = side("planner", planner)
    print(f"importing process, receive and plan: {plan / count * 1e6:.1f} µs/row; "
          f"with reading: {(plan + read) / count * 1e6:.1f} µs/row")
    print(importer.summary.line())


if __name__ == "__main__":
    main()
