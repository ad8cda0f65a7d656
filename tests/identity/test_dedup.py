"""Duplicate detection on plain records and on a hospital's patients."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command

from bamara.identity import dedup
from bamara.identity.dedup import (
    DEFAULT_THRESHOLD,
    Traits,
    explain,
    features,
    find_pairs,
    hospital_candidates,
    score,
    settings,
)
from bamara.identity.models import CandidateStatus, DuplicateCandidate
from bench.dedup_bench import generate, precision_recall
from tests.factories import make_patient

LEA = Traits("1", "Lefèvre", "Léa", "2015-03-12", "F", "75056")


@pytest.mark.parametrize("variant", [
    replace(LEA, key="2"),
    replace(LEA, key="2", birth_name="LEFEBVRE"),  # sound-alike
    replace(LEA, key="2", birth_name="LEFVERE"),  # transposition
    replace(LEA, key="2", first_name="Lea Marie"),  # a list of given names: the first is compared
    replace(LEA, key="2", birth_date="2015-12-03"),  # day and month swapped
    replace(LEA, key="2", birth_date="2015-03"),  # known to the month only
    replace(LEA, key="2", birth_date="2015-03-13", birth_place=""),  # one digit
    replace(LEA, key="2", sex="", birth_place=""),  # unknown traits do not count against
    replace(LEA, key="2", birth_name="DURAND", used_name="Lefèvre"),  # used name typed as birth name
])
def test_it_scores_one_person_with_faults_above_the_threshold(variant):
    assert score(LEA, variant) >= DEFAULT_THRESHOLD


@pytest.mark.parametrize("other", [
    Traits("2", "MARTIN", "Jules", "1990-01-01", "M"),
    replace(LEA, key="2", first_name="Chloé"),  # twin sister: same name, date and place
    replace(LEA, key="2", birth_date="1982-07-30"),  # homonym born another year
    replace(LEA, key="2", first_name="Léo", sex="M", birth_date="2015-03-19"),
])
def test_it_scores_different_people_below_the_threshold(other):
    assert score(LEA, other) < DEFAULT_THRESHOLD


def test_it_is_a_symmetric_probability_with_french_reasons():
    other = replace(LEA, key="2", birth_name="LEFEBVRE", birth_date="2015-12-03")
    pair = explain(LEA, other)
    assert 0 <= pair.probability <= 1 and pair.probability == pytest.approx(score(other, LEA))
    assert (pair.key_a, pair.key_b) == ("1", "2")
    assert "nom : même phonétique" in pair.reasons
    assert "date de naissance : jour et mois inversés" in pair.reasons
    assert score(Traits("a", "", "", "", ""), Traits("b", "", "", "", "")) == pytest.approx(1e-5, rel=0.01)


def test_it_reads_partial_and_malformed_dates():
    assert features(replace(LEA, birth_date="1950-00-00"))["dob"] == "1950"  # INS zeros
    assert features(replace(LEA, birth_date="12/03/2015"))["dob"] is None
    assert features(replace(LEA, birth_date="2015-12-03"))["dob_sorted"] == "2015-03-12"


def test_it_fixes_the_model_parameters():
    for comparison in settings()["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        assert sum(lv["m_probability"] for lv in levels) == pytest.approx(1)
        assert sum(lv["u_probability"] for lv in levels) == pytest.approx(1)


def test_it_finds_injected_duplicates_with_high_precision_and_recall():
    records, truth = generate(3000, 0.05, seed=11)
    pairs = find_pairs(records)
    found = {(p.key_a, p.key_b) for p in pairs}
    precision, recall = precision_recall(found, truth)
    assert precision >= 0.95 and recall >= 0.93, (precision, recall)
    assert [p.probability for p in pairs] == sorted((p.probability for p in pairs), reverse=True)
    # The bulk search and the one-pair score are one model.
    by_key = {r.key: r for r in records}
    for pair in pairs[:10]:
        assert score(by_key[pair.key_a], by_key[pair.key_b]) == pytest.approx(pair.probability)


def test_it_refuses_two_records_with_one_key_and_accepts_tiny_inputs():
    with pytest.raises(ValueError, match="même clé"):
        find_pairs([LEA, LEA])
    assert find_pairs([LEA]) == [] and find_pairs([]) == []


def test_it_compares_the_patients_of_one_hospital(world):
    twin = make_patient("LEFEBVRE", [world.sibling], born="2015-12-03")
    make_patient("LEFEVRE", [world.far])  # the same person in another hospital is not compared
    pairs = hospital_candidates(world.hospital)
    assert [(p.key_a, p.key_b) for p in pairs] == [tuple(sorted((str(world.patients["own"].pk), str(twin.pk))))]


def test_it_fills_the_review_queue_from_the_command(world):
    twin = make_patient("LEFEBVRE", [world.own], born="2015-12-03")
    call_command("find_duplicates", "--hospital", "750100208", verbosity=0)
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.patient_a, candidate.patient_b} == {world.patients["own"].pk, twin.pk}
    assert candidate.status == CandidateStatus.PENDING and candidate.reasons
    candidate.status = CandidateStatus.REJECTED
    candidate.save()
    call_command("find_duplicates", "--all", verbosity=0)  # a decided pair stays decided
    assert DuplicateCandidate.objects.get().status == CandidateStatus.REJECTED
    with pytest.raises(CommandError, match="établissement inconnu"):
        call_command("find_duplicates", "--hospital", "000000000", verbosity=0)
    with pytest.raises(CommandError):
        call_command("find_duplicates", verbosity=0)


def test_it_gives_each_level_of_a_comparison_its_own_weight():
    # The reasons are read back from the weights: two levels with one weight would be confused.
    from bamara.identity.dedup import _LABELS

    for levels in _LABELS.values():
        weights = [round(weight, 6) for weight, _label in levels]
        assert len(set(weights)) == len(weights) and 0 not in weights


def test_it_scores_many_pairs_at_once_like_one_at_a_time():
    from bamara.identity.dedup import score_many

    records, truth = generate(400, 0.1, seed=3)
    by_key = {r.key: r for r in records}
    pairs = [(by_key[a], by_key[b]) for a, b in sorted(truth)[:15]] + [(records[0], records[1]), (LEA, LEA)]
    expected = [score(a, b) for a, b in pairs]
    assert score_many(pairs) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert score_many([]) == []


def test_it_pairs_records_of_one_group_only():
    twin = replace(LEA, key="2", birth_name="LEFEBVRE")
    assert [(p.key_a, p.key_b) for p in find_pairs([replace(LEA, group="7"), replace(twin, group="7")])] == [("1", "2")]
    assert find_pairs([replace(LEA, group="7"), replace(twin, group="8")]) == []  # two hospitals


def test_it_reads_the_records_chunk_by_chunk(monkeypatch):
    records, _ = generate(600, 0.05, seed=3)
    whole = find_pairs(records)
    monkeypatch.setattr(dedup, "CHUNK", 7)
    assert find_pairs(iter(records)) == whole and whole
    with pytest.raises(ValueError, match="même clé"):  # a key seen in an earlier chunk
        find_pairs([*records[:10], replace(records[2], birth_name="AUTRE")])


def test_it_holds_one_chunk_of_records_in_python_not_the_whole_file(monkeypatch):
    """Python's own allocations during a bulk search (DuckDB's are bounded by MEMORY_LIMIT):
    a list of every record's features took ~750 bytes per record in Python, and as much again
    as an Arrow table."""
    import gc
    import tracemalloc

    records, _ = generate(20_000, 0.01, seed=5)
    monkeypatch.setattr(dedup, "CHUNK", 1_000)
    find_pairs(records[:500])  # modules loaded, and the name caches filled, before measuring
    for record in records:
        features(record)
    gc.collect()
    tracemalloc.start()
    try:
        find_pairs(iter(records))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, peak  # 0.7 MB; a list of every record's features: 15 MB
