"""Latency of bamara.terminologies.search on the loaded terminologies.

    uv run bamara load_terminologies            # full data from shared/ when present
    uv run python bench/terminologies_search.py [--queries 300] [--limit 20]

Queries are drawn (fixed seed) from the loaded data itself, as a user would type them:
whole names, first letters, first word plus the start of the next, English names,
synonyms, codes. Prints p50 / p95 / max per search function, in milliseconds.
"""

import argparse
import os
import random
import statistics
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    django.setup()
    from django.db import connection

    from bamara.terminologies import search
    from bamara.terminologies.models import Cim10Code, Commune, HpoTerm, OrphaConcept, OrphaSynonym

    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=300, help="queries per search function")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(42)

    def typed(names: list[str]) -> list[str]:
        """A name as typed: whole, its first 3-8 letters, or one word and the start of the next."""
        out = []
        for name in names:
            words = name.split()
            choice = rng.random()
            if choice < 0.3:
                out.append(name)
            elif choice < 0.7 or len(words) < 2:
                out.append(name[: rng.randint(3, 8)])
            else:
                i = rng.randrange(len(words) - 1)
                out.append(f"{words[i]} {words[i + 1][: rng.randint(1, 4)]}")
        return out

    def sample(values: list, k: int) -> list:
        return rng.sample(values, min(k, len(values)))

    n = args.queries
    concepts = list(OrphaConcept.objects.values_list("code", "name_fr", "name_en"))
    synonyms = list(OrphaSynonym.objects.values_list("text", flat=True))
    orpha = (
        typed([c[1] for c in sample(concepts, n // 2)])
        + typed([c[2] for c in sample(concepts, n // 6)])
        + sample(synonyms, n // 6)
        + [f"ORPHA:{c[0]}" for c in sample(concepts, n // 6)]
    )
    hpo_terms = list(HpoTerm.objects.values_list("id", "name"))
    hpo = typed([t[1] for t in sample(hpo_terms, n * 5 // 6)]) + [
        t[0] for t in sample(hpo_terms, n // 6)
    ]
    cim = list(Cim10Code.objects.values_list("code_dotted", "label"))
    cim10 = typed([c[1] for c in sample(cim, n * 5 // 6)]) + [c[0] for c in sample(cim, n // 6)]
    communes = list(Commune.objects.values_list("name", "postal_code"))
    geo = typed([c[0] for c in sample(communes, n * 5 // 6)]) + [
        c[1] for c in sample(communes, n // 6) if c[1]
    ]

    print(
        f"Base : {connection.vendor}, {len(concepts)} ORPHA, {len(hpo_terms)} HPO, {len(cim)} CIM-10, {len(communes)} communes"
    )
    for label, function, queries in (
        ("orpha", search.orpha, orpha),
        ("hpo", search.hpo, hpo),
        ("cim10", search.cim10, cim10),
        ("communes", search.communes, geo),
    ):
        if not queries:
            print(f"{label:9} rien de chargé")
            continue
        for query in queries[:20]:  # warm the caches
            function(query, args.limit)
        timings, cpu = [], []
        for query in queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            function(query, args.limit)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        # With SQLite the database works in this process: the CPU time is what the search
        # costs without the other jobs of a shared machine (PostgreSQL's is not counted).
        print(f"{label:9} {len(queries)} requêtes : {_stats(timings)} ; temps CPU {_stats(cpu)}")


def _stats(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return f"p50 {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {values[-1]:.1f} ms"


if __name__ == "__main__":
    main()
