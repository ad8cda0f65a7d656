"""The national rare-disease identifier (IDMR): a keyed one-way hash of the identity traits.

Code layout, 20 decimal digits: ``V HHHHHHHHHHHHHHHHHH C``

- ``V`` (1 digit): the algorithm version, 1 here. Never 0, so a leading zero cannot be lost.
- ``H`` (18 digits): HMAC-SHA256(IDMR_KEY, "BAMARA-IDMR|v1|" + identity key), read as a
  big-endian integer, modulo 10**18.
- ``C`` (1 digit): Damm check digit of the 19 digits before it. Damm's quasigroup detects every
  single-digit error and every transposition of two adjacent digits (Luhn misses 09<->90).

The identity key (``normalise.identity_key``) is the canonical text of the normalised traits.
docs/identity.md explains the choices, the collision probabilities and key rotation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist

from bamara.records.fields import PartialDate

from .normalise import IdentityTraits, first_given_name, identity_key

if TYPE_CHECKING:
    from bamara.records.models import Patient

VERSION = 1
LENGTH = 20
_DOMAIN = f"BAMARA-IDMR|v{VERSION}|"
_MODULUS = 10**18
_MIN_KEY_BYTES = 16

# Damm's table (H. M. Damm, 2004): a quasigroup of order 10 (a Latin square, so any single
# changed digit changes the result), weakly totally anti-symmetric ((c*x)*y != (c*y)*x when
# x != y, so any swap of two adjacent digits does too), with zeros on its diagonal.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# The same table, by interim digit, for digit characters and for three-digit strings: the
# check digit of 19 digits is then 1 + 6 look-ups instead of 19 (it runs once per identifier).
_DAMM_1 = tuple({str(d): _DAMM[state][d] for d in range(10)} for state in range(10))
_DAMM_3 = tuple(
    {f"{a}{b}{c}": _DAMM[_DAMM[_DAMM[state][a]][b]][c]
     for a in range(10) for b in range(10) for c in range(10)}
    for state in range(10)
)


def damm_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits (0 for a valid complete code)."""
    interim = 0
    head = len(digits) % 3
    for char in digits[:head]:
        interim = _DAMM_1[interim][char]
    for start in range(head, len(digits), 3):
        interim = _DAMM_3[interim][digits[start:start + 3]]
    return interim


def is_valid(code: str) -> bool:
    """A well-formed IDMR: 20 digits, a known version, and a correct check digit."""
    return (
        len(code) == LENGTH
        and code.isascii()
        and code.isdigit()
        and code[0] == str(VERSION)
        and damm_digit(code) == 0
    )


@lru_cache(maxsize=8)
def _hmac_pads(key: str | bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states after the HMAC inner and outer key pads (RFC 2104), computed once per key.

    hmac.digest() costs ~4 µs a call with OpenSSL 3; copying these states costs ~1.5 µs.
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    if len(key) < _MIN_KEY_BYTES:
        # A short or empty key would let anyone recompute identifiers from names and dates.
        raise ImproperlyConfigured(f"IDMR_KEY must be at least {_MIN_KEY_BYTES} bytes long")
    if len(key) > 64:  # the SHA-256 block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer


def hmac_sha256(key: str | bytes, message: bytes) -> bytes:
    """HMAC-SHA256, identical to ``hmac.digest(key, message, "sha256")``, faster in bulk."""
    inner, outer = _hmac_pads(key)
    inner, outer = inner.copy(), outer.copy()
    inner.update(message)
    outer.update(inner.digest())
    return outer.digest()


def compute(traits: IdentityTraits, *, key: str | bytes | None = None) -> str:
    """The 20-digit IDMR of the traits; ``key`` defaults to ``settings.IDMR_KEY``.

    Raises ``InsufficientTraits`` (a ``ValueError``) when the traits cannot identify anyone.
    """
    return from_identity_key(identity_key(traits), key=key)


def from_identity_key(text: str, *, key: str | bytes | None = None) -> str:
    """The IDMR of an identity key (``normalise.identity_key``): ``compute``'s second step, so
    that a parallel import's workers make the keys and its importing process hashes them."""
    return from_identity_keys([text], key=key)[0]


def from_identity_keys(texts: Iterable[str], *, key: str | bytes | None = None) -> list[str]:
    """``from_identity_key`` of each text ("" for ""), for a batch: the key's pads looked up
    once and the loop in one function (a dry run's importing process hashes every row's key:
    ~20 % of its time one call at a time)."""
    inner, outer = _hmac_pads(settings.IDMR_KEY if key is None else key)
    prefix, base, modulus = _DOMAIN, VERSION * _MODULUS, _MODULUS
    first, triples = _DAMM_1[0], _DAMM_3
    found = []
    for text in texts:
        if not text:
            found.append("")
            continue
        one, two = inner.copy(), outer.copy()  # HMAC-SHA256 (hmac_sha256) of the domain and key
        one.update((prefix + text).encode())
        two.update(one.digest())
        # The version digit, then 18 digits of the hash (leading zeros kept by the addition).
        body = str(base + int.from_bytes(two.digest(), "big") % modulus)
        # damm_digit of the 19 digits (always 19: the version digit is never 0), unrolled.
        state = triples[first[body[0]]][body[1:4]]
        state = triples[state][body[4:7]]
        state = triples[state][body[7:10]]
        state = triples[state][body[10:13]]
        state = triples[state][body[13:16]]
        state = triples[state][body[16:19]]
        found.append(body + str(state))
    return found


def _related(obj: object, name: str) -> object | None:
    """A related object, or None when the relation is empty (reverse one-to-one included)."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


# The Patient columns that make a person's traits, in the order of ``person_traits``.
PERSON_COLUMNS = (
    "birth_name", "first_birth_given_name", "birth_given_names", "birth_date",
    "birth_date_precision", "sex_code",
)


def person_traits(
    birth_name: str,
    first_birth_given_name: str,
    birth_given_names: str,
    birth_date: dt.date | None,
    birth_date_precision: str,
    sex_code: str,
) -> IdentityTraits:
    """A person's traits from the Patient columns (``PERSON_COLUMNS``), for bulk reads."""
    return IdentityTraits(
        birth_name=birth_name,
        first_given_name=first_birth_given_name,
        birth_given_names=birth_given_names,
        birth_date=PartialDate.from_columns(birth_date, birth_date_precision),
        sex=sex_code,
    )


def traits_for_patient(patient: Patient) -> IdentityTraits:
    """The identity traits of a patient record (a person, or a foetus through its mother)."""
    if not patient.is_foetus:
        return person_traits(*(getattr(patient, column) for column in PERSON_COLUMNS))
    mother = _related(patient, "mother") if patient.mother_id else None
    entry = _related(patient, "foetus_entry")
    if mother is None and entry is not None:
        mother = entry.mother
    mother_first = patient.mother_first_name
    if not mother_first and mother is not None:
        mother_first = first_given_name(mother.first_birth_given_name, mother.birth_given_names)
    local_id = patient.foetus_local_id or (entry.local_id if entry is not None else "")
    # A local id is unique in its hospital only; the record's uuid is the last resort.
    reference = f"{patient.hospital.finess_et}/{local_id}" if local_id else f"uuid/{patient.uuid}"
    return IdentityTraits(
        is_foetus=True,
        mother_birth_name=patient.mother_birth_name or (mother.birth_name if mother else ""),
        mother_first_name=mother_first,
        foetus_rank=patient.foetus_rank or (entry.rank if entry is not None else None),
        pregnancy_start=entry.pregnancy.start_partial if entry is not None else None,
        foetus_ref=reference,
    )


def for_patient(patient: Patient, *, key: str | bytes | None = None) -> str | None:
    """The IDMR of a patient record, or None when its traits are insufficient or invalid."""
    try:
        return compute(traits_for_patient(patient), key=key)
    except ValueError:  # InsufficientTraits, an unknown sex code, an impossible date
        return None
