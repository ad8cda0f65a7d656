"""Activity figures on the 1,000,000-patient demo database: a site's year, the whole instance's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bamara_bench uv run bamara migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bamara_bench uv run python bench/reports_bench.py \
        [--year 2025] [--runs 3] [--top-up 10000000]

Top-up (idempotent): the generator makes ~8M activities; to reach the 10,000,000 of the target
the missing rows are copied, in one INSERT ... SELECT, from the oldest generated activities with
their date moved 91 days earlier (same patient, site and context; source_ref "bench-topup", new
uuid). A second run finds 10,000,000 rows and copies nothing. Objectives and professions of the
copies are not copied (the figures do not read them). Targets: site < 300 ms, instance < 3 s.

A site's figures are computed live (activities + the per-(site, patient) facts kept on save); the
instance's year is read from its snapshot: run `bamara refresh_report_facts` first (it prints its
own durations), else the instance is computed live and the bench says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time

from backend_cpu import server_cpu  # bench/, the script's own folder (sys.path[0])

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
# As in production: cached templates, no query log (DEBUG keeps every SQL statement in memory).
os.environ.setdefault("BAMARA_DEBUG", "0")

import django

django.setup()

from django.db import connection  # noqa: E402

from bamara.reports import scopes  # noqa: E402
from bamara.reports.compute import Period, compute  # noqa: E402
from bamara.reports.present import as_json, present  # noqa: E402

TOPUP_REF = "bench-topup"
COLUMNS = ("source, field_sources, created_at, updated_at, context_detail, performer_rpps, "
           "performer_name, place_finess, place_commune, place_country, residence_commune, "
           "residence_country, context_code, context_system, site_id, foetus_id, patient_id")


def top_up(target: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM records_activity")
        count = cursor.fetchone()[0]
        missing = target - count
        print(f"activities: {count:,} (target {target:,})")
        if missing <= 0:
            print("top-up: nothing to copy")
            return
        started = time.perf_counter()
        cursor.execute(f"""
            INSERT INTO records_activity (uuid, date, source_ref, {COLUMNS})
            SELECT gen_random_uuid(), a.date - 91, %s, {COLUMNS.replace('site_id', 'a.site_id')}
            FROM (SELECT * FROM records_activity WHERE source_ref <> %s ORDER BY id LIMIT %s) a
        """, [TOPUP_REF, TOPUP_REF, missing])
        print(f"top-up: {cursor.rowcount:,} activities copied with dates shifted by -91 days "
              f"in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE records_activity")
        print(f"VACUUM ANALYZE records_activity: {time.perf_counter() - started:.1f} s")


def timed(scope: scopes.Scope, period: Period, runs: int) -> tuple[list[float], list[float], dict, str]:
    times, cpu = [], []
    for _ in range(runs):
        cpu_before = server_cpu(connection)
        started = time.perf_counter()
        figures = compute(scope, period)
        times.append(time.perf_counter() - started)
        cpu_after = server_cpu(connection)
        cpu.append(cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else float("nan"))
    source = f"snapshot as of {figures.as_of:%Y-%m-%d %H:%M}" if figures.as_of else "computed live"
    return times, cpu, as_json(present(figures, suppressed=False)), source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top-up", type=int, default=10_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only: set DATABASE_URL to the bench database")
    top_up(args.top_up)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM records_patient")
        patients = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM records_activity")
        activities = cursor.fetchone()[0]
        cursor.execute("""SELECT s.code FROM records_activity a JOIN organisations_site s ON s.id = a.site_id
                          WHERE a.date >= %s AND a.date <= %s GROUP BY s.code ORDER BY COUNT(*) DESC LIMIT 1""",
                       [f"{args.year}-01-01", f"{args.year}-12-31"])
        busiest = cursor.fetchone()[0]
    print(f"database: {patients:,} patients, {activities:,} activities; year {args.year}; "
          f"{args.runs} runs each (first run cold)")
    year = Period.year(args.year)
    # Calendar years come from the snapshot refreshed by `refresh_report_facts`; any other
    # period is computed live from the facts.
    spring = Period(dt.date(args.year, 3, 1), dt.date(args.year, 6, 30))
    for label, scope, period, target in (
        (f"site {busiest} (busiest)", scopes.resolve("site", busiest), year, 0.3),
        ("whole instance", scopes.resolve("national", scopes.NATIONAL_KEY), year, 3.0),
        (f"whole instance, {spring.start} to {spring.end}", scopes.resolve("national", scopes.NATIONAL_KEY), spring, 3.0),
    ):
        times, cpu, data, source = timed(scope, period, args.runs)
        verdict = "OK" if statistics.median(times) < target else "OVER TARGET"
        print(f"\n{label} ({source}): " + ", ".join(f"{t * 1000:.0f} ms" for t in times)
              + f" (median {statistics.median(times) * 1000:.0f} ms, target {target * 1000:.0f} ms: {verdict});"
              + " server CPU " + ", ".join(f"{c * 1000:.0f} ms" for c in cpu)
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(json.dumps(data["indicateurs"], ensure_ascii=False))
        print("patients par statut:", json.dumps(data["patients_par_statut"], ensure_ascii=False))
        print("top diagnostics:", ", ".join(f"ORPHA:{d['orpha']} {d['patients']}" for d in data["diagnostics_frequents"][:5]))


if __name__ == "__main__":
    main()
