"""Throughput of the identity module on synthetic identities: IDMR codes/s and phonetic keys/s.

    uv run python bench/idmr_bench.py [--n 1000000]

Identities are generated deterministically (no database, no Django settings: the key is
passed explicitly). Figures are single-process, on whatever machine runs them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time

from bamara.identity.idmr import compute
from bamara.identity.normalise import IdentityTraits
from bamara.identity.phonetic import fonem, phonetic_key
from bamara.records.fields import PartialDate

KEY = "bench-key-0123456789abcdef0123456789"
# Syllables make distinct, name-like words: 36**4 = 1.7 million surnames.
SYLLABLES = [
    "ma", "ri", "du", "pon", "le", "fè", "vre", "gau", "thier", "ber", "nard", "rous", "seau",
    "mo", "rel", "fon", "taine", "ché", "val", "lier", "gué", "rin", "bou", "lan", "ger", "phi",
    "lippe", "schmitt", "cla", "ude", "mi", "chel", "an", "dré", "lau", "rent",
]
GIVEN_NAMES = ["Marie", "Jean", "Pierre", "Léa", "Jean-Pierre", "Chloé", "Hélène", "Loïc", "Anaïs", "Noé"]
FREQUENT_SURNAMES = 20_000  # distinct surnames in a realistic batch, where keys repeat


def surnames(n: int) -> list[str]:
    words = ("".join(parts) for parts in itertools.product(SYLLABLES, repeat=4))
    return [word.capitalize() for word in itertools.islice(words, n)]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s  ({count:,} in {seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="identities (1,000,000)")
    n = parser.parse_args().n
    names = surnames(n)
    start_date = dt.date(1925, 1, 1)
    dates = [PartialDate.from_date(start_date + dt.timedelta(days=d)) for d in range(36_524)]

    started = time.perf_counter()
    traits = [
        IdentityTraits(names[i], GIVEN_NAMES[i % 10], birth_date=dates[i * 7919 % 36_524], sex="FM"[i % 2])
        for i in range(n)
    ]
    built = time.perf_counter() - started
    started = time.perf_counter()
    codes = {compute(t, key=KEY) for t in traits}
    hashed = time.perf_counter() - started
    assert len(codes) == n, "collision"
    print(f"IDMR, distinct identities, traits prebuilt    {rate(n, hashed)}")
    print(f"IDMR, including building the traits           {rate(n, built + hashed)}")

    upper = [name.upper() for name in names]
    started = time.perf_counter()
    for name in upper:
        fonem(name)
    print(f"FONEM alone, distinct A-Z names               {rate(n, time.perf_counter() - started)}")

    phonetic_key.cache_clear()
    started = time.perf_counter()
    for name in names:
        phonetic_key.__wrapped__(name)
    print(f"phonetic_key, distinct raw names, no cache    {rate(n, time.perf_counter() - started)}")

    phonetic_key.cache_clear()
    frequent = [names[i * 7919 % FREQUENT_SURNAMES] for i in range(n)]
    started = time.perf_counter()
    for name in frequent:
        phonetic_key(name)
    print(
        f"phonetic_key, {FREQUENT_SURNAMES:,} distinct names, cached {rate(n, time.perf_counter() - started)}"
    )


if __name__ == "__main__":
    main()
