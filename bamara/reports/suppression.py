"""The small-number rule, shared by every screen and file that shows aggregate figures.

Roles without access to the records behind a figure (filière referents, the national team,
hospital account managers) must not be able to single out a patient: a count from 1 to 9 is
shown as « < 10 ». Zero reveals nobody and stays visible.

    from bamara.reports.suppression import mask, mask_breakdown, SUPPRESSED

    mask(7)                                  # SUPPRESSED, rendered "< 10"
    mask_breakdown({"F": 120, "M": 5, "UN": 30})   # M and the next smallest (UN) hidden

`mask_breakdown` also hides a second cell when only one cell of a breakdown is small, so that
the hidden value cannot be recovered by subtracting the others from the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

THRESHOLD = 10
K = TypeVar("K")


class Suppressed:
    """A count hidden by the small-number rule (a singleton; falsy, prints "< 10")."""

    _instance: Suppressed | None = None

    def __new__(cls) -> Suppressed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __str__(self) -> str:
        return f"< {THRESHOLD}"

    __repr__ = __str__

    def __bool__(self) -> bool:
        return False


SUPPRESSED = Suppressed()
Masked = int | float | Suppressed | None


def is_small(count: int | None) -> bool:
    return count is not None and 0 < count < THRESHOLD


def mask(count: int | None) -> int | Suppressed | None:
    return SUPPRESSED if is_small(count) else count


def mask_breakdown(counts: Mapping[K, int]) -> dict[K, int | Suppressed]:
    """Mask each small cell; when exactly one cell is hidden, hide the next smallest non-zero
    cell too (complementary suppression), since the total is shown next to the breakdown."""
    masked: dict[K, int | Suppressed] = {key: (SUPPRESSED if is_small(value) else value) for key, value in counts.items()}
    hidden = [key for key, value in masked.items() if value is SUPPRESSED]
    if len(hidden) == 1:
        others = sorted((value, str(key), key) for key, value in counts.items()
                        if key not in hidden and value > 0)
        if others:
            masked[others[0][2]] = SUPPRESSED
    return masked


def mask_ratio(value: float | None, denominator: int | None) -> float | Suppressed | None:
    """A ratio (e.g. activities per patient) computed on fewer than THRESHOLD patients."""
    return SUPPRESSED if is_small(denominator) else value


def display(value: object) -> str:
    """How a (possibly masked) figure reads on a screen or in a file."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return str(value)
