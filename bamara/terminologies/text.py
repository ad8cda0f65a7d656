"""Search-key normalisation shared by the loaders (which store the keys) and the search.

The same Python function builds the stored key and the query key, so matching is identical on
SQLite and PostgreSQL and needs no database extension (unaccent, pg_trgm...).
"""

import re
import unicodedata

# Letters that NFKD does not decompose into ASCII. Greek letters are spelled out because
# Orphanet and HPO write "α-mannosidose" as often as "alpha-mannosidose".
_SPECIAL = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ß": "ss",
        "ø": "o",
        "đ": "d",
        "ł": "l",
        "ı": "i",
        "α": " alpha ",
        "β": " beta ",
        "γ": " gamma ",
        "δ": " delta ",
        "ε": " epsilon ",
        "κ": " kappa ",
        "λ": " lambda ",
        "μ": " mu ",
        "ω": " omega ",
    }
)
_NON_ASCII = re.compile(r"[^\x00-\x7f\u0300-\u036f]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

KEY_MAX_LENGTH = 400
WORD_MAX_LENGTH = 64


def normalize(text: str) -> str:
    """Lower-case, unaccented, every run of non-alphanumeric characters (hyphens,
    apostrophes, punctuation) turned into one space: "Maladie d'Crohn-Like" -> "maladie d crohn like".
    """
    # NFKD splits "é" into "e" + combining accent; other non-ASCII characters (’ – « ...)
    # become spaces, then the ASCII encoding drops the accents.
    text = unicodedata.normalize("NFKD", text.lower().translate(_SPECIAL))
    text = _NON_ASCII.sub(" ", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", text).strip()[:KEY_MAX_LENGTH].rstrip()


def words(key: str) -> list[str]:
    """Distinct words of a normalised key, in order."""
    return list(dict.fromkeys(w[:WORD_MAX_LENGTH] for w in key.split()))
