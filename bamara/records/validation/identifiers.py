"""Format and check-key controls of French identifiers (pure functions, no database).

Each ``*_problem`` function returns None when the value is well formed, else a short French
reason used in the message text.
"""

from __future__ import annotations

import re

# First character: 1/2 (NIR), 3/4 (special cases), 7/8 (NIA, temporary numbers).
_NIR_RE = re.compile(r"[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}(?:[0-9]{2})?")
_FINESS_RE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{7}")
_RPPS_RE = re.compile(r"[0-9]{11}")
_COMMUNE_RE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")


def nir_key(first13: str) -> int:
    """Control key of a NIR/NIA: 97 - (the 13 first characters as a number, mod 97).

    Corsica: the département 2A counts as 19 and 2B as 18 (the rule of the NIR).
    """
    digits = first13.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


def ins_problem(value: str) -> str | None:
    """INS matricule (NIR or NIA): 15 characters, the last two being the control key.

    13 characters (no key) are well formed but cannot be checked: see ``ins_has_key``.
    """
    if not _NIR_RE.fullmatch(value):
        return "15 caractères attendus (13 chiffres commençant par 1, 2, 3, 4, 7 ou 8, 2A/2B pour la Corse, puis la clé à 2 chiffres)"
    if len(value) == 15 and int(value[13:]) != nir_key(value[:13]):
        return f"la clé de contrôle {value[13:]} ne correspond pas (clé attendue : {nir_key(value[:13]):02d})"
    return None


def ins_has_key(value: str) -> bool:
    return len(value) == 15


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def finess_problem(value: str) -> str | None:
    """FINESS number: 9 characters (département, 2A/2B for Corsica) ending with a Luhn key.

    The Luhn key was checked against every number of the FINESS extracts in
    shared/data/finess (14,646 numbers, ET and EJ, 2020 and 2025): all pass, Corsican numbers
    with A read as 1 and B as 2.
    """
    if not _FINESS_RE.fullmatch(value):
        return "9 caractères attendus (chiffres, 2A/2B pour la Corse)"
    if not luhn_ok(value.replace("A", "1").replace("B", "2")):
        return "la clé de contrôle (dernier chiffre) ne correspond pas"
    return None


def rpps_problem(value: str) -> str | None:
    if _RPPS_RE.fullmatch(value):
        return None
    if len(value) == 12 and value.startswith("8") and value.isdigit():
        # The CDA carries the RPPS as "8" + RPPS (national identifier type prefix).
        return "11 chiffres attendus (retirer le préfixe 8 de l'identifiant national)"
    return "11 chiffres attendus"


def commune_problem(value: str) -> str | None:
    """INSEE COG commune code: 5 characters, 2A/2B for Corsica (99xxx = born abroad)."""
    if _COMMUNE_RE.fullmatch(value):
        return None
    return "5 caractères attendus (code INSEE de la commune, 2A/2B pour la Corse)"


def country_problem(value: str) -> str | None:
    if _COUNTRY_RE.fullmatch(value):
        return None
    return "2 lettres majuscules attendues (code ISO 3166-1 alpha-2, ex. FR)"
