"""Patient search and record page latency on a large database (issue targets: search p95 under
50 ms, record page p95 under 150 ms with 1,000,000 patients on PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bamara_bench \\
        uv run python bench/web_bench.py [--requests 300]

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
os.environ.setdefault("BAMARA_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bamara.accounts.testing import login_verified  # noqa: E402
from bamara.organisations import access  # noqa: E402
from bamara.organisations.models import User  # noqa: E402
from bamara.records.models import Patient, PatientName  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100)
    return f"p50 {q[49]:.1f} ms · p95 {q[94]:.1f} ms · p99 {q[98]:.1f} ms (n={len(ordered)})"


def timed(client: Client, url: str, params: dict | None = None) -> float:
    start = time.perf_counter()
    response = client.get(url, params or {})
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: HTTP {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
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
    sample = list(visible.order_by("?").values(
        "pk", "birth_name", "first_birth_given_name", "birth_date", "ipp")[: args.requests])

    queries: list[str] = []
    for row in sample:
        kind = rng.random()
        if kind < 0.5:
            queries.append(row["birth_name"].lower())
        elif kind < 0.7:
            queries.append(f'{row["birth_name"][:4]} {row["first_birth_given_name"]}')
        elif kind < 0.9 and row["birth_date"]:
            day = row["birth_date"]
            queries.append(f'{row["birth_name"]} {day:%d/%m/%Y}')
        else:
            queries.append(row["ipp"] or row["birth_name"])

    timed(client, "/patients/recherche/", {"q": queries[0]})  # warm-up
    search = [timed(client, "/patients/recherche/", {"q": q}) for q in queries]
    print(f"patient search: {percentiles(search)}")
    record = [timed(client, f'/patients/{row["pk"]}/') for row in sample]
    print(f"record page:    {percentiles(record)}")


if __name__ == "__main__":
    main()
