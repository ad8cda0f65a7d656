"""Patient search and record page latency on a large database (issue targets: search p95 under
50 ms, record page p95 under 150 ms with 1,000,000 patients on PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bamara_bench \\
        uv run python bench/web_bench.py [--requests 100] [--runs 3]

The database must hold demo data (bench/demo_data.py); name keys are built if missing. Requests
go through the whole Django stack (middleware, access wall, audit, templates) with the test
client, logged in as the demo data-entry user.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
# As in production: cached templates, no query log (DEBUG keeps every SQL statement in memory).
os.environ.setdefault("BAMARA_DEBUG", "0")
os.environ.setdefault("BAMARA_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bamara.accounts.testing import login_verified  # noqa: E402
from bamara.identity.normalise import name_key  # noqa: E402
from bamara.identity.phonetic import phonetic_key  # noqa: E402
from bamara.organisations import access  # noqa: E402
from bamara.organisations.models import User  # noqa: E402
from bamara.records.models import Patient, PatientName  # noqa: E402


def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(sorted(samples), n=100)
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def line(label: str, samples: list[float]) -> str:
    p = percentiles(samples)
    return f"  {label:<22} p50 {p['p50']:6.1f} ms · p95 {p['p95']:6.1f} ms · p99 {p['p99']:6.1f} ms (n={len(samples)})"


def timed(client: Client, url: str, params: dict | None = None) -> float:
    start = time.perf_counter()
    response = client.get(url, params or {})
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: HTTP {response.status_code}")
    return elapsed


# Spelling changes that keep the French sound (FONEM): the search must meet them by sound.
_VARIANTS = [("EAU", "O"), ("AU", "O"), ("PH", "F"), ("Y", "I"), ("NT", "ND"), ("ND", "NT"),
             ("T", "D"), ("D", "T"), ("LL", "L"), ("L", "LL"), ("TT", "T"), ("SS", "S"), ("É", "E"),
             ("EZ", "ES"), ("QU", "K"), ("C", "K"), ("BV", "V"), ("V", "BV")]


def sound_alike(name: str) -> str | None:
    """Another spelling of `name` with the same phonetic key and a different normalised key,
    that does not begin with the name's own key (so it is met by sound, not by prefix)."""
    key, sound = name_key(name), phonetic_key(name)
    for old, new in _VARIANTS:
        for at in range(len(key) - 1, -1, -1):  # change the end of the name first
            if key.startswith(old, at):
                variant = key[:at] + new + key[at + len(old):]
                if phonetic_key(variant) == sound and not variant.startswith(key) and not key.startswith(variant):
                    return variant
    return None


def queries_by_kind(sample: list[dict], rng: random.Random) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"nom": [], "nom + prénom": [], "variante phonétique": [],
                                   "date de naissance": [], "IPP": []}
    for row in sample:
        kinds["nom"].append(row["birth_name"].lower())
        kinds["nom + prénom"].append(f'{row["birth_name"][:4]} {row["first_birth_given_name"]}')
        if variant := sound_alike(row["birth_name"]):
            kinds["variante phonétique"].append(variant.capitalize())
        if row["birth_date"]:
            day = row["birth_date"]
            # Half of them typed with day and month swapped.
            kinds["date de naissance"].append(f"{day:%d/%m/%Y}" if rng.random() < 0.5 else f"{day:%m/%d/%Y}")
        if row["ipp"]:
            kinds["IPP"].append(row["ipp"])
    return kinds


def one_run(client: Client, kinds: dict[str, list[str]], sample: list[dict]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for kind, queries in kinds.items():
        times[kind] = [timed(client, "/patients/recherche/", {"q": q}) for q in queries]
    times["recherche (toutes)"] = [t for kind in kinds for t in times[kind]]
    times["page du dossier"] = [timed(client, f'/patients/{row["pk"]}/') for row in sample]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100, help="patients sampled (requests per kind)")
    parser.add_argument("--runs", type=int, default=1, help="repeat the measure; best and median p95 are shown")
    parser.add_argument("--user", default="saisie@demo.bamara.fr")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    total = Patient.objects.count()
    print(f"database: {connection.vendor}, {total:,} patients")
    if not PatientName.objects.exists():
        print("building name keys (reindex_patients)…")
        start = time.perf_counter()
        call_command("reindex_patients", verbosity=0)
        print(f"  {time.perf_counter() - start:.0f} s")

    user = User.objects.get(email=args.user)
    client = Client()
    login_verified(client, user)
    visible = access.visible_patients(user)
    print(f"user {user.email}: {visible.count():,} visible patients")
    # A deterministic sample (ORDER BY random() would differ between runs and reads every row).
    ids = list(visible.values_list("pk", flat=True))
    picked = random.Random(args.seed).sample(ids, min(args.requests, len(ids)))
    sample = list(visible.filter(pk__in=picked).order_by("pk").values(
        "pk", "birth_name", "first_birth_given_name", "birth_date", "ipp"))
    kinds = queries_by_kind(sample, rng)

    timed(client, "/patients/recherche/", {"q": kinds["nom"][0]})  # warm-up
    runs = []
    for number in range(1, args.runs + 1):
        print(f"run {number}/{args.runs} (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
        times = one_run(client, kinds, sample)
        for label, samples in times.items():
            print(line(label, samples))
        runs.append({label: percentiles(samples) for label, samples in times.items()})
    if args.runs > 1:
        print("p95 over the runs: best / median")
        for label in runs[0]:
            p95 = [run[label]["p95"] for run in runs]
            print(f"  {label:<22} {min(p95):6.1f} / {statistics.median(p95):6.1f} ms")


if __name__ == "__main__":
    main()
