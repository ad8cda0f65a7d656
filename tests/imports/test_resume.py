"""kill -9 at random points of an import, then resume: the database ends identical to that of
an uninterrupted import. Real subprocesses (`python -m bamara import`) on SQLite files."""

from __future__ import annotations

import csv
import gzip
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bamara.imports import fakes

ROOT = Path(__file__).resolve().parents[2]
ORPHA_DIR = ROOT / "bamara" / "terminologies" / "data" / "orphanet"
SITES = [("S9001", "750100208"), ("S9002", "750100208"), ("S9003", "690783154")]
# Columns that differ between two runs by nature (random uuids, clocks; the record's creation
# date too: a run killed before midnight, Paris time, and resumed after it writes the next day).
VOLATILE = {"uuid", "created_at", "updated_at", "at", "found_at", "finished_at", "granted_at",
            "date_joined", "loaded_at", "replaced_at", "record_created_on"}
TABLES = ["records_patient", "records_careepisode", "records_diagnosis", "records_activity",
          "records_patientname", "identity_duplicatecandidate", "imports_importrun",
          "imports_importrow", "imports_importedrecord", "audit_auditevent"]

SETUP = """
from tests.imports.conftest import load_orphanet
from tests.factories import make_world
load_orphanet()
make_world()
"""


def codes() -> tuple[list[int], list[int]]:
    """Active codes, and inactive ones redirected to exactly one active code, from the files."""
    with gzip.open(ORPHA_DIR / "nomenclature.tsv.gz", "rt", encoding="utf-8") as handle:
        status = {int(r["orpha_code"]): r["status"] for r in csv.DictReader(handle, delimiter="\t")}
    with gzip.open(ORPHA_DIR / "redirections.tsv.gz", "rt", encoding="utf-8") as handle:
        targets: dict[int, list[int]] = {}
        for r in csv.DictReader(handle, delimiter="\t"):
            targets.setdefault(int(r["orpha_code"]), []).append(int(r["target_orpha_code"]))
    active = [c for c, s in sorted(status.items()) if s == "Active"][:200]
    inactive = [c for c, t in sorted(targets.items()) if c in status and status[c] != "Active"
                and len(t) == 1 and status.get(t[0]) == "Active"][:50]
    return active, inactive


def env(db: Path) -> dict[str, str]:
    return os.environ | {"DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}


def bamara(db: Path, *args: str, **kwargs) -> subprocess.Popen:
    kwargs = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE} | kwargs
    return subprocess.Popen([sys.executable, "-m", "bamara", *args], env=env(db), cwd=ROOT, **kwargs)


def finish(process: subprocess.Popen) -> None:
    _out, err = process.communicate(timeout=1200)
    assert process.returncode == 0, err.decode()[-3000:]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("imports") / "template.sqlite3"
    finish(bamara(db, "migrate", "-v0"))
    finish(bamara(db, "shell", "-c", SETUP))
    return db


def dump(db: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(db)
    result = {}
    for table in TABLES:
        columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        kept = [c for c in columns if c not in VOLATILE]
        if table == "identity_duplicatecandidate":
            # The pairs are ours; their scores and reasons are the duplicate model's.
            kept = ["hospital_id", "patient_a", "patient_b", "status"]
        result[table] = sorted(connection.execute(f"SELECT {', '.join(kept)} FROM {table}"),
                               key=repr)
    connection.close()
    return result


def finished(db: Path) -> bool:
    connection = sqlite3.connect(db)
    last = connection.execute("SELECT status FROM imports_importrun ORDER BY id DESC LIMIT 1").fetchone()
    connection.close()
    return last is not None and last[0] == "termine"


def check(template: Path, tmp_path: Path, patients: int, kills: int) -> None:
    export = tmp_path / "cemara.csv"
    active, inactive = codes()
    fakes.generate(export, patients, sites=SITES, active_codes=active, inactive_codes=inactive,
                   rate=0.005, seed=3)
    whole, killed = tmp_path / "whole.sqlite3", tmp_path / "killed.sqlite3"
    shutil.copy(template, whole)
    shutil.copy(template, killed)
    args = ("import", str(export), "--mapping", "cemara", "--commit", "--no-report", "--batch", "500")

    started = time.monotonic()
    finish(bamara(whole, *args))
    duration = time.monotonic() - started

    rng = random.Random(patients)
    completed = False
    for _ in range(kills):
        # Output to /dev/null: an unread pipe would stall the import once full.
        process = bamara(killed, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, max(0.6, duration * 0.6)))
        process.send_signal(signal.SIGKILL)
        if process.wait() == 0 or finished(killed):
            # It finished before the kill (or was killed while exiting, after its run was
            # marked done): a new run would be a re-import.
            completed = True
            break
    if not completed:
        finish(bamara(killed, *args))  # resume to the end

    a, b = dump(whole), dump(killed)
    assert len(a["records_patient"]) > patients * 0.9
    for table in TABLES:
        assert a[table] == b[table], table
    # Importing the same file again changes nothing but the new run's own rows.
    finish(bamara(whole, *args))
    again = dump(whole)
    for table in ("records_patient", "records_careepisode", "records_diagnosis",
                  "records_activity", "records_patientname", "imports_importedrecord"):
        assert again[table] == a[table], table


def test_it_resumes_a_killed_import_without_loss_or_duplication(template, tmp_path):
    check(template, tmp_path, 1000, kills=3)


@pytest.mark.slow
@pytest.mark.long
def test_it_resumes_a_killed_100000_row_import(template, tmp_path):
    check(template, tmp_path, 100_000, kills=5)
