"""A CEMARA-style export with injected faults: the report finds every fault class with the
expected counts, and the commit federates the injected duplicates. Precision and recall are
printed per class (run with -s to see them)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bamara.imports import fakes, service
from bamara.imports.models import ImportRow, Outcome
from bamara.records.models import CareEpisode, Patient

SITES = [("S9001", "750100208"), ("S9002", "750100208"), ("S9003", "690783154")]
FINDINGS = {
    "swapped": {"jour_mois_inverses"},
    "missing": {"obligatoire_manquant"},
    "inactive": {"code_orpha_inactif"},
    "two_centres": {"doublon_federe", "meme_identite_autre_etablissement"},
}


def found_rows(summary) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for result in summary.results:
        for message in result.messages:
            for fault, codes in FINDINGS.items():
                if message.code in codes:
                    found[fault].add(result.number)
    found["typo"] = {(min(a, b), max(a, b)) for a, b, _, _ in summary.pairs}
    return found


def precision_recall(truth: fakes.Truth, found: dict[str, set]) -> dict[str, tuple[float, float]]:
    scores = {}
    for fault in fakes.CLASSES:
        expected, got = getattr(truth, fault), found[fault]
        hits = len(expected & got)
        scores[fault] = (hits / len(got) if got else 1.0, hits / len(expected) if expected else 1.0)
        print(f"{fault:12} injected {len(expected):5}  found {len(got):5}  "
              f"precision {scores[fault][0]:.3f}  recall {scores[fault][1]:.3f}")
    return scores


def check(world, codes, tmp_path, patients: int, rate: float) -> None:
    active, inactive = codes
    path = tmp_path / "cemara.csv"
    truth = fakes.generate(path, patients, sites=SITES, active_codes=active,
                           inactive_codes=inactive, rate=rate, seed=7)
    run, summary = service.import_file(path, "cemara", commit=False,
                                       report=str(tmp_path / "rapport.xlsx"))
    assert Patient.objects.count() == 3  # a dry run writes no record
    found = found_rows(summary)
    scores = precision_recall(truth, found)
    for fault in ("swapped", "missing", "inactive", "two_centres"):
        assert found[fault] == getattr(truth, fault), fault  # exact counts and rows
    assert scores["typo"][1] == 1.0  # every typo pair found
    assert scores["typo"][0] >= 0.95
    assert summary.counts[Outcome.REJECTED] == len(truth.missing)
    assert (tmp_path / "rapport.xlsx").stat().st_size > 0

    run, committed = service.import_file(path, "cemara", commit=True)
    assert committed.counts[Outcome.REJECTED] == len(truth.missing)
    assert committed.counts[Outcome.CREATED] + committed.counts[Outcome.FEDERATED] == \
        truth.rows - len(truth.missing)
    # Same hospital: one patient with one care episode per site; another hospital: one patient
    # per hospital with the same national identifier.
    rows = dict(ImportRow.objects.filter(run=run).values_list("number", "patient_id"))
    for number in truth.two_centres:
        patient = Patient.objects.get(pk=rows[number])
        assert patient.national_id
        twins = Patient.objects.filter(national_id=patient.national_id)
        sites = set(CareEpisode.objects.filter(patient__in=twins).values_list("site__code", flat=True))
        assert len(sites) == 2
        assert twins.count() == len({t.hospital_id for t in twins})
    federated = ImportRow.objects.filter(run=run, outcome=Outcome.FEDERATED).count()
    assert federated == sum(1 for n in truth.two_centres
                            if Patient.objects.get(pk=rows[n]).care_episodes.count() == 2)
    assert federated > 0


def test_it_finds_every_injected_fault_in_a_small_export(world, orphanet_codes, tmp_path):
    check(world, orphanet_codes, tmp_path, 3000, 0.01)


@pytest.mark.slow
@pytest.mark.long
def test_it_finds_every_injected_fault_in_100000_patients(world, orphanet_codes, tmp_path):
    check(world, orphanet_codes, tmp_path, 100_000, 0.005)
