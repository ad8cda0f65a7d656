"""CEMARA-style exports with injected faults, for tests and benchmarks.

``generate()`` writes one row per patient and centre (identity, up to two ORPHA diagnoses,
up to three activities) and returns the ground truth of the faults it injected, by class:

- ``typo``: a second record of a patient with a typo in the birth name (another source id):
  a probable duplicate, pairs of row numbers;
- ``swapped``: a birth date written month first (day > 12, so the swap is detectable);
- ``missing``: a mandatory item left empty (birth name, birth date, sex or inclusion date);
- ``inactive``: a diagnosis coded with an inactive ORPHA code that has one replacement;
- ``two_centres``: the same patient at a second centre (same identity): to federate.

Fault rows are disjoint, and the patients copied by ``typo`` and ``two_centres`` are clean,
so that each fault has one expected finding.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

HEADER = [
    "CENTRE", "ID_PATIENT", "IPP", "NOM_NAISSANCE", "NOM_USAGE", "PRENOM", "DATE_NAISSANCE",
    "SEXE", "COMMUNE_NAISSANCE", "DATE_INCLUSION",
    "ORPHA_1", "STATUT_DIAG_1", "DATE_DIAG_1", "ORPHA_2", "STATUT_DIAG_2", "DATE_DIAG_2",
    "TYPE_ACTIVITE_1", "DATE_ACTIVITE_1", "INTERVENANT_1",
    "TYPE_ACTIVITE_2", "DATE_ACTIVITE_2", "INTERVENANT_2",
    "TYPE_ACTIVITE_3", "DATE_ACTIVITE_3", "INTERVENANT_3",
]
_SYLLABLES = ["BA", "BER", "BO", "CA", "CHA", "DE", "DU", "FA", "FON", "GA", "GI", "GUE", "LA",
              "LE", "LOU", "MA", "MER", "MO", "NA", "NOI", "PE", "PI", "RA", "RE", "RI", "RO",
              "SA", "SE", "TA", "TI", "TOU", "VA", "VE", "VI", "ZA", "MI", "CO", "PA", "BRU", "GRE"]
_ENDINGS = ["", "T", "N", "L", "R", "S", "UX", "AU", "Y", "IN", "ET", "ARD"]
FIRST_F = ["Léa", "Emma", "Chloé", "Manon", "Camille", "Sarah", "Inès", "Jade", "Louise", "Alice",
           "Lina", "Zoé", "Julie", "Anaïs", "Clara", "Marie", "Lucie", "Eva", "Léna", "Juliette"]
FIRST_M = ["Lucas", "Hugo", "Louis", "Nathan", "Gabriel", "Arthur", "Jules", "Adam", "Raphaël",
           "Tom", "Théo", "Paul", "Noah", "Enzo", "Maxime", "Antoine", "Léo", "Victor", "Samuel",
           "Mathis"]
STATUSES = ["confirmé", "en cours", "probable", "porteur sain"]
ACTIVITIES = ["CONSULTATION", "CONSULTATION_PLURI", "HOSPITALISATION", "HDJ", "AVIS_DOSSIER",
              "TELECONSULTATION"]
MANDATORY = ["NOM_NAISSANCE", "DATE_NAISSANCE", "SEXE", "DATE_INCLUSION"]
CLASSES = ("typo", "swapped", "missing", "inactive", "two_centres")


@dataclass
class Truth:
    rows: int = 0
    patients: int = 0
    swapped: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    inactive: set[int] = field(default_factory=set)
    two_centres: set[int] = field(default_factory=set)  # the second record's row number
    typo: set[tuple[int, int]] = field(default_factory=set)  # (original row, typo row), sorted

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in CLASSES}


def _typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1) if len(name) > 2 else 0
    kind = rng.randrange(3)
    if kind == 0:  # a substituted letter
        letter = rng.choice([c for c in "AEIOULMNRST" if c != name[i]])
        return name[:i] + letter + name[i + 1:]
    if kind == 1 and len(name) > 4:  # a dropped letter
        return name[:i] + name[i + 1:]
    return name[:i] + name[i] + name[i:]  # a doubled letter


def generate(path: str | Path, patients: int, *, sites: list[tuple[str, str]],
             active_codes: list[int], inactive_codes: list[int], seed: int = 1,
             rate: float = 0.005) -> Truth:
    """Write the export to ``path`` (CSV, ";"); ``sites`` are (site code, hospital FINESS) of
    at least two centres; ``rate`` is the share of patients of each fault class."""
    rng = random.Random(seed)
    per_class = max(1, int(patients * rate))
    used: set[tuple] = set()
    people = []
    for n in range(patients):
        while True:
            name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3)))) \
                + rng.choice(_ENDINGS)
            sex = rng.choice("FM")
            first = rng.choice(FIRST_F if sex == "F" else FIRST_M)
            year, month, day = rng.randint(1940, 2024), rng.randint(1, 12), rng.randint(1, 28)
            identity = (name, first, year, month, day, sex)
            if identity not in used:
                used.add(identity)
                break
        site, finess = rng.choice(sites)
        row = {
            "CENTRE": site, "ID_PATIENT": f"C{n:07d}", "IPP": f"{finess[:3]}{n:08d}",
            "NOM_NAISSANCE": name, "NOM_USAGE": "", "PRENOM": first,
            "DATE_NAISSANCE": f"{day:02d}/{month:02d}/{year}", "SEXE": sex,
            "COMMUNE_NAISSANCE": "", "DATE_INCLUSION": f"{rng.randint(1, 28):02d}/"
            f"{rng.randint(1, 12):02d}/{rng.randint(max(year, 2005), 2025)}",
        }
        for d in (1, 2):
            has = d == 1 or rng.random() < 0.2
            row[f"ORPHA_{d}"] = f"ORPHA:{rng.choice(active_codes)}" if has else ""
            row[f"STATUT_DIAG_{d}"] = rng.choice(STATUSES) if has else ""
            row[f"DATE_DIAG_{d}"] = str(rng.randint(max(year, 2000), 2025)) if has else ""
        for a in (1, 2, 3):
            has = a == 1 or rng.random() < 0.4
            row[f"TYPE_ACTIVITE_{a}"] = rng.choice(ACTIVITIES) if has else ""
            row[f"DATE_ACTIVITE_{a}"] = (f"{rng.randint(2020, 2025)}-{rng.randint(1, 12):02d}-"
                                         f"{rng.randint(1, 28):02d}") if has else ""
            row[f"INTERVENANT_{a}"] = "Dr " + rng.choice(_SYLLABLES).title() if has else ""
        people.append(row)

    # Disjoint fault groups: the first 5 * per_class patients of a shuffled order.
    order = list(range(patients))
    rng.shuffle(order)
    groups = {cls: order[i * per_class:(i + 1) * per_class] for i, cls in enumerate(CLASSES)}
    marks: dict[int, str] = {}
    extra: list[tuple[str, int, dict]] = []  # (class, index of the original, row)
    for index in groups["swapped"]:
        row = people[index]
        day, month, year = row["DATE_NAISSANCE"].split("/")
        day = f"{rng.randint(13, 28):02d}"
        row["DATE_NAISSANCE"] = f"{month}/{day}/{year}"  # month first
        marks[index] = "swapped"
    for index in groups["missing"]:
        people[index][rng.choice(MANDATORY)] = ""
        marks[index] = "missing"
    for index in groups["inactive"]:
        people[index]["ORPHA_1"] = str(rng.choice(inactive_codes))
        marks[index] = "inactive"
    for index in groups["typo"]:
        copy = dict(people[index], ID_PATIENT=people[index]["ID_PATIENT"] + "T",
                    IPP=people[index]["IPP"] + "9")
        copy["NOM_NAISSANCE"] = _typo(copy["NOM_NAISSANCE"], rng)
        extra.append(("typo", index, copy))
    for index in groups["two_centres"]:
        original = people[index]
        site, finess = rng.choice([s for s in sites if s[0] != original["CENTRE"]])
        same_hospital = any(s == original["CENTRE"] and f == finess for s, f in sites)
        copy = dict(original, CENTRE=site,
                    IPP=original["IPP"] if same_hospital else f"{finess[:3]}{original['IPP'][3:]}")
        extra.append(("two_centres", index, copy))

    # Originals in random order; each copy somewhere after its original, as an export sorted
    # by creation would have it.
    slots = list(range(patients))
    rng.shuffle(slots)
    keyed = [(float(slots[i]), "", i, r) for i, r in enumerate(people)]
    keyed += [(rng.uniform(slots[i] + 0.5, patients), cls, i, r) for cls, i, r in extra]
    keyed.sort(key=lambda entry: entry[0])
    ordered = [(cls, i, r) for _, cls, i, r in keyed]
    truth = Truth(rows=len(ordered), patients=patients)
    original_row = {i: p + 2 for p, (c, i, _) in enumerate(ordered) if c == ""}
    for p, (cls, index, _row) in enumerate(ordered):
        number = p + 2  # the header is row 1
        if cls == "typo":
            truth.typo.add((original_row[index], number))
        elif cls == "two_centres":
            truth.two_centres.add(number)
        elif index in marks:
            getattr(truth, marks[index]).add(number)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, HEADER, delimiter=";")
        writer.writeheader()
        writer.writerows(row for _, _, row in ordered)
    return truth
