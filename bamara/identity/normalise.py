"""Normalisation of identity traits, and the canonical identity key hashed into the IDMR.

Rules (docs/identity.md has the table of examples):

- upper case, diacritics removed (É→E, Ç→C), ligatures and special letters spelled out
  (Œ→OE, Æ→AE, ß→SS, Ø→O, Ł→L...), as the INS identity traits are written;
- hyphens, apostrophes (' ’ ‘ ` ʼ ´), dots and any other non-letter become one space; runs of
  spaces collapse; leading and trailing spaces go. Letters outside the Latin alphabet are
  dropped (INS traits are Latin letters only);
- *keys* (for comparison, search and hashing) then drop the spaces, so that "de La Fontaine",
  "DE-LA-FONTAINE" and "DELAFONTAINE" give the same key ``DELAFONTAINE``, and "d'Artagnan"
  gives ``DARTAGNAN``.

Particles (DE, DU, LA, VAN...) are *kept* in keys: a particle is part of the birth name, and
removing it only where it is a separate word would make "de La Fontaine" differ from
"DELAFONTAINE". ``name_key(text, particles=False)`` drops separate particles, for search only.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bamara.records.fields import PartialDate

# Letters that NFKD does not split into a base letter plus combining marks.
_SPECIAL_LETTERS = {
    "Œ": "OE", "œ": "OE", "Æ": "AE", "æ": "AE", "ß": "SS", "ẞ": "SS",
    "Ø": "O", "ø": "O", "Ł": "L", "ł": "L", "Đ": "D", "đ": "D", "Ð": "D", "ð": "D",
    "Þ": "TH", "þ": "TH", "ı": "I", "Ŀ": "L", "ŀ": "L",
}
# Non-ASCII separators: typographic apostrophes and quotes, hyphens and dashes, odd spaces.
_UNICODE_SEPARATORS = "’‘ʼ´′ʹ`‚‛“”«»‐‑‒–—―−﹣－\u00a0\u2007\u2009\u202f\u200b\u3000·"
_UNICODE_TABLE = str.maketrans({**_SPECIAL_LETTERS, **dict.fromkeys(_UNICODE_SEPARATORS, " ")})
# After upper-casing, every ASCII character other than A-Z is a separator.
_ASCII_TABLE = str.maketrans({chr(c): " " for c in range(128) if not 65 <= c <= 90})

# Separate words dropped by ``name_key(..., particles=False)``; D and L come from D' and L'.
# MAC/MC are not particles: they are fused to the name ("MACDONALD"); dropping them would
# merge MACDONALD with DONALD. The phonetic key equates MC and MAC instead.
PARTICLES = frozenset(
    [
        "DE", "DU", "DES", "D", "L", "LE", "LA", "LES", "DEL", "DELLA", "DELLE", "DELLO",
        "DEI", "DI", "DA", "DAS", "DOS", "VAN", "VON", "DER", "DEN", "TER", "TEN", "ZU",
    ]
)


class InsufficientTraits(ValueError):
    """The traits cannot identify anyone (no birth name or no birth date...)."""


@lru_cache(maxsize=1 << 16)
def normalise(text: str | None) -> str:
    """Upper-case A-Z words separated by single spaces: ``"Jean-Pierre"`` -> ``"JEAN PIERRE"``."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_UNICODE_TABLE))
        # Drops the combining marks left by NFKD, and letters of other scripts.
        text = text.encode("ascii", "ignore").decode("ascii")
    return " ".join(text.upper().translate(_ASCII_TABLE).split())


def strip_particles(normalised: str) -> str:
    """Drop separate particle words; a name made only of particles ("LE", "DA") is kept."""
    words = normalised.split()
    kept = [word for word in words if word not in PARTICLES]
    return " ".join(kept) if kept else normalised


@lru_cache(maxsize=1 << 16)
def name_key(text: str | None, particles: bool = True) -> str:
    """Comparison key: accents, case, hyphens, apostrophes and spaces do not count."""
    words = normalise(text)
    if not particles:
        words = strip_particles(words)
    return words.replace(" ", "")


_LIST_SEPARATORS = re.compile(r"[\s,;/]+")
_SPACED_HYPHEN = re.compile(r"\s*[-‐‑‒–—]\s*")


def first_given_name(first_birth_given_name: str | None = "", birth_given_names: str | None = "") -> str:
    """The first given name on the birth certificate, normalised.

    ``first_birth_given_name`` wins when given. Otherwise the first name of the list, where names
    are separated by spaces or commas and a hyphen joins a compound name: "Jean-Pierre Marie"
    -> "JEAN PIERRE".
    """
    if first_birth_given_name and first_birth_given_name.strip():
        return normalise(first_birth_given_name)
    text = _SPACED_HYPHEN.sub("-", (birth_given_names or "").strip())
    for word in _LIST_SEPARATORS.split(text):
        if normalise(word):
            return normalise(word)
    return ""


_SEXES = {"F": "F", "M": "M", "U": "U", "UN": "U", "UNK": "U", "I": "U", "": "U"}


def sex_key(code: str | None) -> str:
    """F, M, or U (unknown: HL7 UN, BaMaRa UNK, or not given)."""
    key = _SEXES.get((code or "").strip().upper())
    if key is None:
        raise ValueError(f"sexe inconnu : {code!r} (attendu F, M ou UN)")
    return key


def partial_date(value: PartialDate | dt.date | str | None) -> PartialDate | None:
    """A date as known: ``PartialDate``, ``date``, or text (YYYY, YYYY-MM, YYYY-MM-DD).

    The INS convention of zeros for an unknown day or month ("1950-00-00") gives a partial date.
    """
    if value is None or isinstance(value, PartialDate):
        return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return PartialDate.from_date(value)
    text = value.strip()
    if not text:
        return None
    text = re.sub(r"^(\d{4})-00(-00)?$", r"\1", text)
    text = re.sub(r"^(\d{4}-\d{2})-00$", r"\1", text)
    return PartialDate.parse(text)


@dataclass(frozen=True, slots=True)
class IdentityTraits:
    """The identity traits behind the national identifier.

    A person: birth name, first birth given name (or, when it is not given, the list of birth
    given names, whose first one is taken), birth date (partial allowed), sex.

    A foetus (``is_foetus``) has none of these: it is identified through its mother's birth
    name and first name, its rank in the pregnancy (1 for a singleton) and the pregnancy,
    given by its start date to the month at least (``pregnancy_start``: every site that
    records the pregnancy knows it), or else by ``foetus_ref``, a reference that the caller
    makes unique nationally (e.g. "<FINESS>/<local foetus id>") but that only links the
    records of that one site. Dates may be given as text or ``date``.
    """

    birth_name: str = ""
    first_given_name: str = ""
    birth_given_names: str = ""
    birth_date: PartialDate | None = None
    sex: str = ""
    is_foetus: bool = False
    mother_birth_name: str = ""
    mother_first_name: str = ""
    foetus_rank: int | None = None
    pregnancy_start: PartialDate | None = None
    foetus_ref: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.birth_date, _PARTIAL_OR_NONE):
            object.__setattr__(self, "birth_date", partial_date(self.birth_date))
        if not isinstance(self.pregnancy_start, _PARTIAL_OR_NONE):
            object.__setattr__(self, "pregnancy_start", partial_date(self.pregnancy_start))


_PARTIAL_OR_NONE = (PartialDate, type(None))


def _iso(date: PartialDate) -> str:
    # PartialDate.isoformat(), three times faster (this runs once per identifier).
    if date.day is not None:
        return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
    if date.month is not None:
        return f"{date.year:04d}-{date.month:02d}"
    return f"{date.year:04d}"


def identity_key(traits: IdentityTraits) -> str:
    """The canonical text of the traits, hashed into the IDMR.

    Fields are normalised keys (A-Z), ISO dates (their length tells the precision: a year-only
    birth date hashes "1980") and small codes, joined with "|", which none of them can contain;
    the free-text foetus reference comes last, so it cannot shift the other fields.

    ``P|<birth name>|<first given name>|<birth date>|<sex>``
    ``F|<mother birth name>|<mother first name>|<rank>|<pregnancy>``
    where <pregnancy> is ``S<year-month of the start>`` or ``R<reference>``.
    """
    if traits.is_foetus:
        mother = name_key(traits.mother_birth_name)
        if not mother:
            raise InsufficientTraits("fœtus : nom de naissance de la mère manquant")
        rank = 1 if traits.foetus_rank is None else traits.foetus_rank
        if rank < 1:
            raise InsufficientTraits(f"fœtus : rang invalide {rank}")
        start = traits.pregnancy_start
        if start is not None and start.month is not None:
            # To the month: sites dating the same pregnancy a few days apart still agree; two
            # pregnancies of one mother that both reach a foetal record start months apart.
            pregnancy = f"S{start.year:04d}-{start.month:02d}"
        elif traits.foetus_ref.strip():
            pregnancy = "R" + traits.foetus_ref.strip()
        else:
            # Without it, two pregnancies of the same mother would share one identifier.
            raise InsufficientTraits(
                "fœtus : mois de début de grossesse ou référence locale du fœtus manquant"
            )
        first = name_key(first_given_name(traits.mother_first_name))
        return f"F|{mother}|{first}|{rank}|{pregnancy}"

    birth_name = name_key(traits.birth_name)
    if not birth_name:
        raise InsufficientTraits("nom de naissance manquant")
    if traits.birth_date is None:
        raise InsufficientTraits("date de naissance manquante")
    first = name_key(first_given_name(traits.first_given_name, traits.birth_given_names))
    return _person_key(birth_name, first, traits.birth_date, sex_key(traits.sex))


def _person_key(birth_name: str, first: str, birth_date: PartialDate, sex: str) -> str:
    """``identity_key``'s text for a person, from keys already normalised."""
    return f"P|{birth_name}|{first}|{_iso(birth_date)}|{sex}"


def person_identity_keys(
        people: Iterable[tuple[str | None, str | None, str | None,
                               PartialDate | dt.date | str | None, str | None]]) -> list[str]:
    """``identity_key`` of each person's traits (birth name, first birth given name, birth given
    names, birth date, sex), "" where they are insufficient (``InsufficientTraits``) or the sex
    unknown; None is taken as empty. For a dry run's worker, which keys every row: the same steps
    without an ``IdentityTraits`` per person (its frozen ``__init__`` and ``__post_init__`` were
    about a quarter of the worker's identity cost)."""
    found = []
    for birth_name, first, given, birth_date, sex in people:
        name = name_key(birth_name)
        if not isinstance(birth_date, _PARTIAL_OR_NONE):
            birth_date = partial_date(birth_date)
        sex = _SEXES.get((sex or "").strip().upper())
        if not name or birth_date is None or sex is None:
            found.append("")
            continue
        found.append(_person_key(name, name_key(first_given_name(first, given)), birth_date, sex))
    return found
