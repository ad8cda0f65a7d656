"""One million distinct synthetic identities, one million distinct identifiers."""

import datetime as dt
import time

from bamara.identity.idmr import compute, is_valid
from bamara.identity.normalise import IdentityTraits, name_key
from bamara.records.fields import PartialDate

KEY = "collision-test-key-0123456789abcdef"
SURNAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèbvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
]
GIVEN_NAMES = [
    "Marie", "Jean", "Pierre", "Michel", "André", "Philippe", "Nathalie", "Isabelle",
    "Jean-Pierre", "Sylvie", "Catherine", "Françoise", "Léa", "Chloé", "Noé", "Zoé", "Hélène",
    "Jérôme", "Loïc", "Anaïs",
]
DATES = [PartialDate.from_date(dt.date(1925, 1, 1) + dt.timedelta(days=73 * i)) for i in range(500)]


def test_it_gives_no_collision_over_a_million_distinct_identities():
    # The identities are distinct by construction: distinct name keys, dates and sexes.
    assert len({name_key(name) for name in SURNAMES}) == len(SURNAMES) == 50
    assert len({name_key(name) for name in GIVEN_NAMES}) == len(GIVEN_NAMES) == 20
    assert DATES[-1].year - DATES[0].year == 99 and len(set(DATES)) == 500

    start = time.perf_counter()
    codes = set()
    for birth_name in SURNAMES:
        for given_name in GIVEN_NAMES:
            for birth_date in DATES:
                for sex in ("F", "M"):
                    traits = IdentityTraits(birth_name, given_name, birth_date=birth_date, sex=sex)
                    codes.add(compute(traits, key=KEY))
    elapsed = time.perf_counter() - start

    assert len(codes) == 50 * 20 * 500 * 2 == 1_000_000
    assert all(is_valid(code) for code in list(codes)[:10_000])
    print(f"1,000,000 identifiers in {elapsed:.1f} s ({1_000_000 / elapsed:,.0f}/s)")
