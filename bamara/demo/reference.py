"""Reference data of the demo generator, read once from the bundled extracts (bamara/demo/data).

See bamara/demo/data/SOURCES.md for where each file comes from and its licence.
"""

from __future__ import annotations

import bisect
import csv
import functools
import gzip
import itertools
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

DATA_DIR = Path(__file__).resolve().parent / "data"
T = TypeVar("T")


class Picker(Generic[T]):
    """Weighted random choice by bisection on cumulative weights (fast, no per-call setup)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if not items:
            raise ValueError("aucun élément à tirer")
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rnd: Callable[[], float]) -> T:
        return self.items[bisect.bisect_right(self.cum, rnd() * self.total)]

    def lookup(self, slots: int) -> tuple[T, ...]:
        """A table where ``table[int(random() * slots)]`` is a weighted choice (weights rounded
        to 1/slots; every item keeps at least one slot). The very same objects as ``items``."""
        table = [self.items[bisect.bisect_right(self.cum, (i + 0.5) * self.total / slots)] for i in range(slots)]
        for item in self.items:
            if not any(t is item for t in table):
                table[-1 - self.items.index(item)] = item
        return tuple(table)


def _rows(name: str) -> list[dict[str, str]]:
    path = DATA_DIR / name
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@dataclass(frozen=True)
class Commune:
    code: str
    departement: str
    region: str
    population: int
    postal_code: str


@dataclass
class Geography:
    residence: Picker[Commune]
    birth: Picker[Commune]
    by_departement: dict[str, Picker[Commune]]
    by_region: dict[str, Picker[Commune]]
    arrondissements: dict[str, Picker[Commune]]  # Paris, Lyon, Marseille -> their arrondissements
    codes: frozenset[str]

    def birth_place(self, commune: Commune, rnd: Callable[[], float]) -> Commune:
        """Births are recorded by arrondissement in Paris, Lyon and Marseille (INSEE COG)."""
        split = self.arrondissements.get(commune.code)
        return split.pick(rnd) if split else commune


@functools.cache
def geography() -> Geography:
    communes: list[Commune] = []
    arrondissements: dict[str, list[Commune]] = defaultdict(list)
    for row in _rows("communes.tsv.gz"):
        commune = Commune(row["code"], row["departement"], row["region"], int(row["population"]), row["postal_code"])
        if row["kind"] == "A":
            arrondissements[row["parent"]].append(commune)
        else:
            communes.append(commune)
    by_dep: dict[str, list[Commune]] = defaultdict(list)
    by_reg: dict[str, list[Commune]] = defaultdict(list)
    for commune in communes:
        by_dep[commune.departement].append(commune)
        by_reg[commune.region].append(commune)
    # Birth places of Paris, Lyon and Marseille are recorded by arrondissement (INSEE COG).
    birth = [c for c in communes if c.code not in arrondissements]
    birth += [a for group in arrondissements.values() for a in group]

    def picker(items: list[Commune]) -> Picker[Commune]:
        return Picker(items, [max(c.population, 1) for c in items])

    return Geography(
        residence=picker(communes),
        birth=picker(birth),
        by_departement={k: picker(v) for k, v in by_dep.items()},
        by_region={k: picker(v) for k, v in by_reg.items()},
        arrondissements={k: picker(v) for k, v in arrondissements.items()},
        codes=frozenset(c.code for c in communes) | frozenset(c.code for c in birth),
    )


@dataclass(frozen=True)
class Disorder:
    code: str
    active: bool
    weight: float
    onsets: tuple[str, ...]
    groups: tuple[str, ...]
    genes: tuple[str, ...]
    filieres: tuple[str, ...]
    redirect_to: str
    hpo: tuple[str, ...] = ()


@dataclass
class Orpha:
    disorders: dict[str, Disorder]
    pools: dict[str, Picker[Disorder]]  # by filière acronym
    general: Picker[Disorder]
    inactive: list[Disorder] = field(default_factory=list)


@functools.cache
def orpha() -> Orpha:
    hpo = {row["orpha_code"]: tuple(row["hpo_ids"].split("|")) for row in _rows("hpo_orpha.tsv.gz")}

    def split(value: str) -> tuple[str, ...]:
        return tuple(v for v in value.split("|") if v)

    disorders = {
        row["orpha_code"]: Disorder(
            code=row["orpha_code"],
            active=row["active"] == "1",
            weight=float(row["weight"]),
            onsets=split(row["onset"]),
            groups=split(row["groups"]),
            genes=split(row["genes"]),
            filieres=split(row["filieres"]),
            redirect_to=row["redirect_to"],
            hpo=hpo.get(row["orpha_code"], ()),
        )
        for row in _rows("orpha.tsv.gz")
    }
    active = [d for d in disorders.values() if d.active]
    by_filiere: dict[str, list[Disorder]] = defaultdict(list)
    for disorder in active:
        for acronym in disorder.filieres:
            by_filiere[acronym].append(disorder)
    return Orpha(
        disorders=disorders,
        pools={k: Picker(v, [d.weight for d in v]) for k, v in by_filiere.items()},
        general=Picker(active, [d.weight for d in active]),
        inactive=[d for d in disorders.values() if not d.active],
    )


def _ins_case(text: str) -> str:
    """INS identity traits: upper case, no diacritics (ligatures spelt out)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.upper()


@dataclass
class Names:
    last: list[tuple[str, str]]  # (INS form, display form)
    male: list[tuple[str, str]]
    female: list[tuple[str, str]]
    streets: list[str]


STREET_NAMES = [
    "rue de la République", "rue Victor Hugo", "avenue Jean Jaurès", "rue Pasteur",
    "rue de la Gare", "place de l'Église", "rue du Moulin", "allée des Tilleuls",
    "rue des Écoles", "boulevard Gambetta", "rue Jules Ferry", "chemin des Vignes",
    "rue du Général de Gaulle", "avenue de la Libération", "rue de la Paix", "impasse des Lilas",
    "rue Voltaire", "rue Émile Zola", "rue du Stade", "route de la Forêt",
    "rue des Acacias", "avenue Foch", "rue Anatole France", "rue du Château",
]


@functools.cache
def names() -> Names:
    # Faker's fr_FR lists (MIT): common French surnames and first names.
    from faker.providers.person.fr_FR import Provider

    def pairs(values) -> list[tuple[str, str]]:
        return [(_ins_case(v), v) for v in dict.fromkeys(values)]

    return Names(
        last=pairs(Provider.last_names),
        male=pairs(Provider.first_names_male),
        female=pairs(Provider.first_names_female),
        streets=STREET_NAMES,
    )


def luhn_key(digits: str) -> str:
    """Check digit that makes ``digits + key`` pass the Luhn test (as RPPS numbers do)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_key(number[:-1]) == number[-1]


def fake_rpps(serial: int) -> str:
    """An 11-digit RPPS-like number starting with 8 (never a real RPPS), Luhn-valid."""
    body = f"8{serial % 10**9:09d}"
    return body + luhn_key(body)


def nir_key(first13: str) -> str:
    """NIR control key: 97 - (number mod 97), Corsica 2A/2B read as 19/18."""
    number = int(first13.replace("2A", "19").replace("2B", "18"))
    return f"{97 - number % 97:02d}"
