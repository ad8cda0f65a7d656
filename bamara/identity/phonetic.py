"""French phonetic key: the FONEM algorithm (Bouchard, Brard & Lavoie, 1981).

FONEM was designed by demographers to link French family names across parish registers
(Population, 36(6), 1981, pp. 1085-1103). Unlike Soundex-style codes it keeps a readable
skeleton of the name and only merges spellings of the same sound (EAU/AU/AUD/AULT -> O,
PH -> F, final consonant pairs, doubled letters, soft C and G, nasal vowels, silent H...), so
it gives fewer false matches: LEFEBVRE -> LEFEVRE, GAUTHIER -> GOTIER, PHILIPPE -> FILIPE,
DUPONT and DUPOND -> DUPON, but MARTIN and MARTINEZ stay apart.

The rules below are numbered as in the article (V- vowels, C- consonants). Their order and
exact contexts were checked against the article's worked examples (tests/identity). Two
reading choices are documented in docs/identity.md: Z becomes S only between two vowels or
two consonants (so POUYEZ stays POUYEZ, as in the article), and IM is nasal only before a
consonant. ``phonetic_key`` applies FONEM to the name key (normalised, spaces removed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .normalise import name_key

_V = "AEIOUY"
_C = "BCDFGHJKLMNPQRSTVWXZ"
_C_NO_H = "BCDFGJKLMNPQRSTVWXZ"


def _final_pair(match: re.Match[str]) -> str:
    # C-29: of two final consonants keep the first, except the endings listed in group 1.
    return match.group(1) or match.group(2)


Replacement = str | Callable[[re.Match[str]], str]


def _rule(name: str, guard: str, pattern: str, repl: Replacement) -> tuple:
    # The rule only runs when ``guard`` is in the word: most regular expressions are skipped
    # on most names (the key runs on millions of names).
    return (name, guard, re.compile(pattern), repl)


# Doubled letters; run first and again at the end.
_DOUBLES = [
    _rule("V-14", "", rf"([{_V}])\1", r"\1"),
    _rule("C-28", "", r"([BDFGHJKMNPQRTVWXZ])\1", r"\1"),
    _rule("C-28a", "CC", rf"CC(?=[{_C}]|$)", "C"),
    _rule("C-28b", "SS", rf"(?:^|(?<=[{_C}]))SS", "S"),
    _rule("C-28bb", "SS", rf"SS(?=[{_C}]|$)", "S"),
    _rule("C-28c", "LL", r"(?<!I)LL", "L"),
    _rule("C-28d", "ILE", r"ILE$", "ILLE"),
]

_RULES = [
    *_DOUBLES,
    # C and G before the vowels change (GEAU must not become GO, nor CE become CO).
    _rule("C-12", "GE", r"GE(?:O|AU)", "JO"),
    _rule("C-8", "CC", r"CC(?=[AOU])", "K"),
    _rule("C-9", "CC", r"CC(?=[EIY])", "X"),
    _rule("C-10", "G", r"G(?=[EIY])", "J"),
    # MAC/MC prefixes are protected by a marker until the end (C-35).
    _rule("C-16", "MAC", rf"^MAC(?=[{_C}])", "MA#"),
    _rule("C-17", "MC", r"^MC", "MA#"),
    _rule("C-2", "C", rf"(?<=[{_V}])C(?=[EIY])", "SS"),
    _rule("C-3", "C", r"(?<=[BDFGHJKLMNPQRSTVWZ])C(?=[EIY])", "S"),
    _rule("C-7", "C", rf"C(?=[{_C_NO_H}])", "K"),
    # Vowel groups sounding O.
    _rule("V-2,5", "L", r"(?:E?AU|O)L[TX]$", "O"),
    _rule("V-3,4", "AU", r"E?AU[TX]$", "O"),
    _rule("V-6", "AU", r"E?AUL?D$", "O"),
    _rule("V-1", "AU", r"E?AU", "O"),
    # Silent H (kept in CH, PH, SH).
    _rule("C-14", "H", r"(?<![CPS])H", ""),
    # SAINT, SAINTE and their spellings as prefixes.
    _rule("C-31,33", "S", r"^(?:SAINTE|STE)-?", "STE-"),
    _rule("C-30,32", "", r"^(?:SA?INT?|SEI[NM]|CINQ?|ST)(?!E)-?", "ST-"),
    # Nasal vowels (GAN/GAM/GAIN are protected by C-11).
    _rule("C-11", "GA", r"GA(?=I?[MN])", "G#"),
    _rule("V-15", "M", rf"[AE]M(?=[{_C}])", "EN"),
    _rule("V-17", "AN", rf"AN(?=[{_C}])", "EN"),
    _rule("V-18", "N", rf"(?:AI[MN]|EIN)(?=[{_C}]|$)", "IN"),
    # Y, I and OU as semi-vowels.
    _rule("V-7", "AY", r"(?<!G)AY$", "E"),
    _rule("V-8", "EUX", r"EUX$", "EU"),
    _rule("V-9", "EY", rf"EY(?=[{_C}]|$)", "E"),
    _rule("V-10", "Y", r"Y", "I"),
    _rule("V-11", "I", rf"(?<=[{_V}])I(?=[{_V}])", "Y"),
    _rule("V-12", "ILL", rf"(?<=[{_V}])ILL", "Y"),
    _rule("V-13", "OU", r"OU(?=[AEOU]|I(?!LL))", "W"),
    _rule("V-16", "OM", rf"OM(?=[{_C}])", "ON"),
    _rule("V-19", "RN", r"B(?:OU|O|U)RNE?$", "BURN"),
    _rule("V-20", "IM", rf"(?:^|(?<=[{_C}]))IM(?=[{_C}])", "IN"),
    # Consonants.
    _rule("C-1", "BV", r"BV", "V"),
    _rule("C-4", "C", r"^C(?=[EIY])", "S"),
    _rule("C-5", "C", r"^C(?=[AOU])", "K"),
    _rule("C-6", "C", rf"(?<=[{_V}])C$", "K"),
    _rule("C-13", "GNI", rf"GNI(?=[{_V}])", "GN"),
    _rule("C-15", "JEA", r"JEA", "JA"),
    _rule("C-18", "PH", r"PH", "F"),
    _rule("C-19", "QU", r"QU", "K"),
    _rule("C-20", "SC", r"^SC(?=[EIY])", "S"),
    _rule("C-21", "SC", r"(?<=.)SC(?=[EIY])", "SS"),
    _rule("C-22", "SC", r"(?<=.)SC(?=[AOU])", "SK"),
    _rule("C-23", "SH", r"SH", "CH"),
    _rule("C-24", "TIA", r"TIA$", "SSIA"),
    _rule("C-25", "W", r"(?<=[AIOUY])W", ""),
    _rule("C-26", "X", r"X[CSZ]", "X"),
    _rule("C-27", "Z", rf"(?<=[{_V}])Z(?=[{_V}])|(?<=[{_C}])Z(?=[{_C}])", "S"),
    _rule("C-29", "", rf"(ILS|[CS]H|[MN]P|R[CFKLNSX])$|([{_C}])[{_C}]$", _final_pair),
    *_DOUBLES,
    _rule("C-34", "G#", r"G#", "GA"),
    _rule("C-35", "MA#", r"MA#", "MAC"),
]


def fonem(word: str) -> str:
    """FONEM code of a word already made of upper-case A-Z (and hyphens)."""
    for _name, guard, pattern, repl in _RULES:
        if guard in word:
            word = pattern.sub(repl, word)
    return word


@lru_cache(maxsize=1 << 16)
def phonetic_key(text: str | None, particles: bool = True) -> str:
    """French phonetic key of a name: FONEM of its name key ("Lefèbvre" -> "LEFEVRE").

    Same name key implies same phonetic key. ``particles=False`` drops separate particles
    first, as ``name_key`` does (search only).
    """
    key = name_key(text, particles)
    return fonem(key) if key else ""
