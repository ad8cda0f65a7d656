"""Patient list latency and export memory on a large database (issue 5 targets: filtered list
p95 under 200 ms, XLSX export of 100,000 patients under 300 MB peak memory, with 1,000,000
patients and ~10,000,000 activities on PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bamara_bench \\
        uv run python bench/lists_bench.py [--rounds 20] [--export-patients 100000]

The database must hold demo data (bench/demo_data.py) and the Orphanet and HPO terminologies
(`bamara load_orphanet`, `bamara load_hpo`). List requests go through the whole Django stack
(middleware, access wall, completeness of the page, audit, templates) with the test client,
logged in as the demo data-entry user, over a mix of realistic filters. The export runs
`bamara export_patients` in a child process over the largest sites until 100,000 patients are
reached, and reports the child's peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
# As in production: cached templates, no query log (DEBUG keeps every SQL statement in memory).
os.environ.setdefault("BAMARA_DEBUG", "0")
os.environ.setdefault("BAMARA_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bamara.accounts.testing import login_verified  # noqa: E402
from bamara.organisations import access  # noqa: E402
from bamara.organisations.models import User  # noqa: E402
from bamara.records.models import Activity, CareEpisode, Patient  # noqa: E402
from bamara.terminologies.models import OrphaConcept  # noqa: E402

# What a site's team asks of its list: a disease or a group, a status, an age band, recent
# activity, the deceased, objections, a département, sorting and paging.
FILTERS: list[tuple[str, dict]] = [
    ("tout le site", {}),
    ("ORPHA:586 (mucoviscidose)", {"orpha": "586"}),
    ("groupe ORPHA:97955 (respiratoire)", {"orpha": "97955"}),
    ("groupe ORPHA:98053 (génétique, ~6 000 codes)", {"orpha": "98053"}),
    ("CIM-10 E84", {"cim10": "E84"}),
    ("HPO HP:0002110", {"hpo": "HP:0002110"}),
    ("statut définitif, filles", {"statut": "255545003", "sexe": "F"}),
    ("0-17 ans", {"age_min": "0", "age_max": "17"}),
    ("décédés", {"vital": "decede"}),
    ("département 75", {"departement": "75"}),
    ("consultations 2024", {"activite_du": "2024-01-01", "activite_au": "2024-12-31", "contexte": "11429006"}),
    ("inclus depuis 2022", {"inclusion_du": "2022-01-01"}),
    ("opposition", {"opposition": "oui"}),
    ("âge au diagnostic néonatal", {"age_diag": "255407002"}),
    ("tri naissance desc., page 20", {"tri": "-naissance", "page": "20"}),
    ("groupe + statut + 0-17 ans, tri MAJ", {"orpha": "97955", "statut": "255545003", "age_max": "17", "tri": "-maj"}),
]


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(sorted(samples), n=100)
    return f"p50 {q[49]:.1f} ms · p95 {q[94]:.1f} ms · p99 {q[98]:.1f} ms (n={len(samples)})"


def bench_list(client: Client, rounds: int) -> None:
    url = reverse("lists:patients")
    counts: dict[str, int] = {}
    for name, params in FILTERS:  # warm-up (plans, caches)
        response = client.get(url, params)
        found = re.search(r"<caption>([\d\s\u202f\xa0,]+) patients?</caption>", response.content.decode())
        if response.status_code != 200 or not found:
            raise SystemExit(f"{name}: HTTP {response.status_code}, no result table")
        counts[name] = int(re.sub(r"\D", "", found.group(1)))
    # A page opened (the whole page: filter form, navigation) and a filter applied or a page
    # turned from it (htmx swaps the results only), interleaved so that both see the same load.
    kinds = {"page opened": {}, "filter applied (htmx)": {"HTTP_HX_REQUEST": "true"}}
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    per_filter: dict[str, dict[str, list[float]]] = {kind: {name: [] for name, _ in FILTERS} for kind in kinds}
    for _round in range(rounds):
        for name, params in FILTERS:
            for kind, headers in kinds.items():
                start = time.perf_counter()
                response = client.get(url, params, **headers)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200
                samples[kind].append(elapsed)
                per_filter[kind][name].append(elapsed)
    print("filtered list (25 per page, through the Django stack), median per filter:")
    print(f"  {'':<45} {'patients':>9} " + " ".join(f"{kind:>22}" for kind in kinds))
    for name, _params in FILTERS:
        print(f"  {name:<45} {counts[name]:>9,} " + " ".join(
            f"{statistics.median(per_filter[kind][name]):19.1f} ms" for kind in kinds))
    for kind in kinds:
        print(f"  all filters, {kind}: {percentiles(samples[kind])}")
    both = samples["page opened"] + samples["filter applied (htmx)"]
    print(f"  all requests: {percentiles(both)}")


def bench_export(target: int) -> None:
    sites = list(CareEpisode.objects.values("site__code").annotate(n=Count("id")).order_by("-n"))
    chosen, total = [], 0
    for row in sites:
        if total >= target:
            break
        chosen.append(row["site__code"])
        total += row["n"]
    args: list[str] = []
    for code in chosen:
        args += ["--site", code]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "export.xlsx"
        command = [sys.executable, "-m", "bamara", "export_patients", *args, "--format", "xlsx", "--out", str(out)]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(result.stderr[-2000:])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"XLSX export of sites {', '.join(chosen)} ({total:,} care episodes):")
        print(f"  {result.stdout.strip()}")
        print(f"  {seconds:.1f} s · file {out.stat().st_size / 1e6:.1f} MB · peak RSS {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--user", default="saisie@demo.bamara.fr")
    parser.add_argument("--export-patients", type=int, default=100_000)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()

    print(f"database: {connection.vendor}, {Patient.objects.count():,} patients, "
          f"{Activity.objects.count():,} activities")
    if not OrphaConcept.objects.exists():
        raise SystemExit("load the terminologies first: bamara load_orphanet && bamara load_hpo")
    user = User.objects.get(email=args.user)
    client = Client()
    login_verified(client, user)
    sites = access.user_sites(user)
    print(f"user {user.email}: sites {', '.join(s.code for s in sites)}, current "
          f"{access.visible_patients(user, sites.order_by('code').first()).count():,} patients")
    bench_list(client, args.rounds)
    if not args.skip_export:
        bench_export(args.export_patients)


if __name__ == "__main__":
    main()
