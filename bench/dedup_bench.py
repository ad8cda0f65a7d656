"""Duplicate detection on generated records: pairs/s, precision and recall.

    uv run python bench/dedup_bench.py [--n 100000] [--duplicates 0.05] [--threshold 0.9]

Records are generated deterministically: surnames from Faker's French list (weighted, so that
frequent names repeat as in a real file) and from a syllable generator (rare names), French
first names, birth dates over 90 years, sex, INSEE birth communes. A share of them is copied
as a duplicate with injected faults: typos in names (substitution, deletion, insertion,
transposition), a sound-alike spelling, day and month swapped, a digit changed in the date, a
date known to the year only, the used name typed as the birth name, a missing sex or birth
place. Precision and recall are counted over the pairs of true duplicates.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from dataclasses import replace

import django

SYLLABLES = ["ma", "ri", "du", "pon", "le", "fè", "vre", "gau", "thier", "ber", "nard", "rous",
             "seau", "mo", "rel", "fon", "taine", "ché", "val", "lier", "gué", "rin", "bou", "lan"]
COMMUNES = ["75056", "75115", "69123", "13055", "31555", "33063", "59350", "67482", "44109",
            "35238", "34172", "06088", "38185", "76540", "21231", "63113", "37261", "80021"]
SOUND_ALIKE = [("PH", "F"), ("TH", "T"), ("AU", "O"), ("EAU", "O"), ("Y", "I"), ("K", "C"),
               ("EI", "AI"), ("LL", "L"), ("TT", "T"), ("SS", "S")]


def _names(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    from bamara.demo.reference import names

    reference = names()
    frequent = [ins for ins, _ in reference.last]
    rare = ["".join(parts).upper() for parts in itertools.islice(itertools.product(SYLLABLES, repeat=3), 12000)]
    rng.shuffle(rare)
    return (frequent + rare, [ins for ins, _ in reference.male], [ins for ins, _ in reference.female])


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + "E"
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + rng.choice("AEIOULNRST") + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + rng.choice("AEIOULNRST") + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _sound_alike(rng: random.Random, word: str) -> str:
    for old, new in rng.sample(SOUND_ALIKE, len(SOUND_ALIKE)):
        if old in word:
            return word.replace(old, new, 1)
    return _typo(rng, word)


FAULTS = ("name_typo", "first_typo", "sound_alike", "swap", "date_digit", "year_only",
          "used_name", "missing_sex_place", "exact")


def _fault(rng: random.Random, traits, kind: str):
    from bamara.identity.dedup import Traits

    t: Traits = traits
    if kind == "name_typo":
        return replace(t, birth_name=_typo(rng, t.birth_name))
    if kind == "first_typo":
        return replace(t, first_name=_typo(rng, t.first_name))
    if kind == "sound_alike":
        return replace(t, birth_name=_sound_alike(rng, t.birth_name))
    if kind == "swap":
        y, m, d = t.birth_date.split("-")
        return replace(t, birth_date=f"{y}-{d}-{m}") if int(d) <= 12 and d != m else replace(
            t, birth_name=_typo(rng, t.birth_name))
    if kind == "date_digit":
        y, m, d = t.birth_date.split("-")
        day = int(d) + rng.choice((-1, 1)) if 1 < int(d) < 28 else 15
        return replace(t, birth_date=f"{y}-{m}-{day:02d}")
    if kind == "year_only":
        return replace(t, birth_date=t.birth_date[:4])
    if kind == "used_name":
        return replace(t, birth_name=t.used_name or _typo(rng, t.birth_name), used_name="")
    if kind == "missing_sex_place":
        return replace(t, sex="", birth_place="")
    return t


def generate(n: int, duplicate_share: float = 0.05, seed: int = 7):
    """(records, set of true pairs as sorted key tuples); duplicates are part of the n."""
    from bamara.identity.dedup import Traits

    rng = random.Random(seed)
    surnames, male, female = _names(rng)
    weights = [1 / (rank + 10) for rank in range(len(surnames))]  # Zipf-like
    originals = int(n / (1 + duplicate_share))
    picked = rng.choices(surnames, weights, k=originals)
    records: list[Traits] = []
    for i in range(originals):
        sex = rng.choice("FM")
        first = rng.choice(female if sex == "F" else male)
        used = rng.choice(surnames) if sex == "F" and rng.random() < 0.3 else ""
        date = f"{rng.randint(1935, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        place = rng.choice(COMMUNES) if rng.random() < 0.7 else ""
        records.append(Traits(str(i), picked[i], first, date, sex, place, used))
    truth: set[tuple[str, str]] = set()
    for j in range(n - originals):
        source = records[rng.randrange(originals)]
        copy = replace(_fault(rng, source, rng.choice(FAULTS)), key=str(originals + j))
        records.append(copy)
        truth.add(tuple(sorted((source.key, copy.key))))
    # Duplicates of one person form a cluster: every two of its records are a true pair.
    clusters: dict[str, set[str]] = {}
    for a, b in truth:
        merged = clusters.get(a, {a}) | clusters.get(b, {b})
        for key in merged:
            clusters[key] = merged
    pairs = {tuple(sorted(p)) for c in clusters.values() for p in itertools.combinations(sorted(c), 2)}
    rng.shuffle(records)
    return records, pairs


def precision_recall(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float]:
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0), (hits / len(truth) if truth else 1.0)


def blocked_pairs(records) -> int:
    """How many distinct pairs the blocking rules make splink compare (counted with DuckDB)."""
    import duckdb

    from bamara.identity.dedup import _arrow, features, settings

    connection = duckdb.connect()
    connection.register("records", _arrow([features(r) for r in records]))
    joins = " UNION ".join(
        f"SELECT l.key AS a, r.key AS b FROM records AS l JOIN records AS r ON l.key < r.key AND ({rule})"
        for rule in settings()["blocking_rules_to_generate_predictions"])
    return connection.sql(f"SELECT count(*) FROM ({joins})").fetchall()[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--duplicates", type=float, default=0.05)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bamara.settings")
    django.setup()
    from bamara.identity.dedup import DEFAULT_THRESHOLD, find_pairs, score, score_many

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    records, truth = generate(args.n, args.duplicates, args.seed)
    print(f"{len(records):,} records, {len(truth):,} true duplicate pairs")
    started = time.perf_counter()
    pairs = find_pairs(records, threshold=min(threshold, 0.5))
    seconds = time.perf_counter() - started
    compared = blocked_pairs(records)
    print(f"find_pairs: {seconds:.2f} s, {len(records) / seconds:,.0f} records/s, "
          f"{compared:,} pairs compared after blocking ({compared / seconds:,.0f} pairs/s), "
          f"{len(pairs):,} pairs ≥ 0.5")
    for cut in sorted({0.5, 0.8, threshold, 0.95, 0.99}):
        found = {(p.key_a, p.key_b) for p in pairs if p.probability >= cut}
        precision, recall = precision_recall(found, truth)
        print(f"  threshold {cut:.2f}: {len(found):>7,} pairs  precision {precision:.4f}  recall {recall:.4f}")
    by_key = {r.key: r for r in records}
    sample = sorted(truth)[:50]
    started = time.perf_counter()
    for a, b in sample:
        score(by_key[a], by_key[b])
    seconds = time.perf_counter() - started
    print(f"score(): {len(sample) / seconds:,.0f} pairs/s (one pair at a time)")
    everything = [(by_key[a], by_key[b]) for a, b in sorted(truth)]
    started = time.perf_counter()
    score_many(everything)
    seconds = time.perf_counter() - started
    print(f"score_many(): {len(everything) / seconds:,.0f} pairs/s ({len(everything):,} pairs)")
    missed = [(by_key[a], by_key[b]) for a, b in sorted(truth - {(p.key_a, p.key_b) for p in pairs
                                                                 if p.probability >= threshold})]
    for a, b in missed[:8]:
        print("  missed:", a, "|", b, f"{score(a, b):.3f}")


if __name__ == "__main__":
    main()
