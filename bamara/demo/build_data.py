"""Rebuild the small reference extracts bundled in bamara/demo/data/ from the shared data.

Developer tool, not used at run time:

    uv run python -m bamara.demo.build_data [--shared ../shared]

It writes compact, derived files (see bamara/demo/data/SOURCES.md for origin and licences):
hospitals.tsv (real FINESS rows), communes.tsv.gz (INSEE COG 2026 codes + population),
orpha.tsv.gz (ORPHA disorders with prevalence weight, onset, groups, genes, filières) and
hpo_orpha.tsv.gz (HPO annotations of those disorders).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import lzma
from collections import defaultdict, deque
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# The hospitals of the demo, by FINESS ET number (rows copied from the FINESS 2025 list).
HOSPITALS: dict[str, str] = {
    "750100208": "AP-HP Necker",
    "750100125": "AP-HP Pitié-Salpêtrière",
    "690007539": "HCL Femme Mère Enfant",
    "690783154": "HCL Édouard Herriot",
    "590000105": "CHU de Lille",
    "330781360": "CHU de Bordeaux Pellegrin",
    "310783048": "CHU de Toulouse Purpan",
    "440000271": "CHU de Nantes Hôtel-Dieu",
    "130783293": "AP-HM La Timone",
    "340785161": "CHU de Montpellier Lapeyronie",
    "670783273": "HUS Hautepierre",
    "350000741": "CHU de Rennes Pontchaillou",
}

# Which part of the Orphanet classifications each filière covers (root ORPHA codes, all the
# classifications merged). A demo approximation of the filières' scopes, not an official mapping.
FILIERE_ROOTS: dict[str, list[int]] = {
    "AnDDI-Rares": [93890],
    "BRAIN-TEAM": [182070, 68356, 102003, 102002, 68354],
    "CARDIOGEN": [97929],
    "DéfiScience": [87277, 101998],
    "FAI2R": [98023],
    "FAVA-Multi": [98028],
    "FILFOIE": [57146],
    "FILNEMUS": [68381],
    "FILSLAN": [98503],
    "FIMARAD": [89826],
    "FIMATHO": [165711, 97962],
    "FIRENDO": [97978],
    "G2M": [68367],
    "MaRIH": [101997, 182040, 158032],
    "MCGRE": [183651, 275752],
    "MHEMO": [248308],
    "Muco-CFTR": [586, 48],
    "NeuroSphinx": [823, 268357],
    "ORKiD": [93626],
    "OSCAR": [93419],
    "RespiFIL": [97955],
    "SENSGENE": [97966, 96210],
    "TETECOU": [68329, 98026],
}

# Orphanet point-prevalence class -> relative weight (cases per 100 000, class midpoint).
PREVALENCE_WEIGHT: dict[str, float] = {
    ">1 / 1000": 150.0,
    "6-9 / 10 000": 75.0,
    "1-5 / 10 000": 30.0,
    "1-9 / 100 000": 5.0,
    "1-9 / 1 000 000": 0.5,
    "<1 / 1 000 000": 0.05,
}
DEFAULT_WEIGHT = 0.05  # unknown prevalence: treat as ultra-rare
PREVALENCE_TYPES = ["Point prevalence", "Prevalence at birth", "Annual incidence"]
GEO_ORDER = ["France", "Europe", "Worldwide"]
INACTIVE_SAMPLE = 40  # inactive codes kept on purpose (the "codes to update" lists)
HPO_PER_DISORDER = 6


def _tsv(path: Path, delimiter: str = "\t"):
    opener = gzip.open if path.suffix == ".gz" else (lzma.open if path.suffix == ".xz" else open)
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter)


def build_hospitals(shared: Path) -> None:
    rows = {r["finess_et"]: r for r in _tsv(shared / "data/finess/finess_hopitaux_2025.tsv.gz")}
    communes = {r["code_insee"]: r for r in _tsv(shared / "data/geo_fr/communes_2026.tsv.gz")}
    out = DATA_DIR / "hospitals.tsv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(
            ["finess_et", "finess_ej", "name", "short_name", "category_label", "commune_insee",
             "departement", "region", "demo_label"]
        )
        for et, label in HOSPITALS.items():
            row = rows[et]  # KeyError: the FINESS file does not have this hospital
            commune = communes[row["commune_insee"]]
            writer.writerow(
                [et, row["finess_ej"], row["name_long"], row["name_short"], row["category"],
                 row["commune_insee"], commune["departement"], commune["region"], label]
            )
    print(f"{out}: {len(HOSPITALS)} établissements")


def build_communes(shared: Path) -> None:
    out = DATA_DIR / "communes.tsv.gz"
    count = 0
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["code", "kind", "departement", "region", "population", "postal_code", "parent"])
        for row in _tsv(shared / "data/geo_fr/communes_2026.tsv.gz"):
            kind = {"commune-actuelle": "C", "arrondissement-municipal": "A"}.get(row["type"])
            if kind is None or not row["population"]:
                continue
            postal = row["codes_postaux"].split("|")[0]
            writer.writerow(
                [row["code_insee"], kind, row["departement"], row["region"], row["population"],
                 postal, row["commune_parente"]]
            )
            count += 1
    print(f"{out}: {count} communes")


def _prevalence_classes(shared: Path) -> dict[str, str]:
    """Best prevalence class per ORPHA code: France > Europe > Worldwide, point prevalence first."""
    best: dict[str, tuple[int, int, str]] = {}
    for row in _tsv(shared / "data/orphanet/epidemiology_of_rare_diseases.csv.gz", ","):
        klass = row["prevalence_class"]
        if klass not in PREVALENCE_WEIGHT or row["prevalence_type"] not in PREVALENCE_TYPES:
            continue
        geo = GEO_ORDER.index(row["prevalence_geographic"]) if row["prevalence_geographic"] in GEO_ORDER else 3
        rank = (PREVALENCE_TYPES.index(row["prevalence_type"]), geo)
        code = row["orpha_code"]
        if code not in best or rank < best[code][:2]:
            best[code] = (*rank, klass)
    return {code: value[2] for code, value in best.items()}


def build_orpha(shared: Path) -> set[str]:
    orphanet = shared / "data/orphanet"
    nomenclature = {r["orpha_code"]: r for r in _tsv(orphanet / "orpha_nomenclature_2023.tsv.gz")}
    children: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)
    for edge in _tsv(orphanet / "orpha_classification_edges_2023.tsv.gz"):
        children[edge["parent_orpha_code"]].add(edge["child_orpha_code"])
        parents[edge["child_orpha_code"]].add(edge["parent_orpha_code"])

    def active(code: str, level: str) -> bool:
        row = nomenclature.get(code)
        return bool(row) and row["status"] == "Active" and row["classification_level"] == level

    filieres: dict[str, set[str]] = defaultdict(set)
    for acronym, roots in FILIERE_ROOTS.items():
        queue = deque(str(r) for r in roots)
        seen: set[str] = set()
        while queue:
            code = queue.popleft()
            if code in seen:
                continue
            seen.add(code)
            if active(code, "Disorder"):
                filieres[code].add(acronym)
            queue.extend(children.get(code, ()))

    classes = _prevalence_classes(shared)
    onset = {
        r["orpha_code"]: r["age_of_onset"]
        for r in _tsv(orphanet / "natural_history_of_rare_diseases.csv.gz", ",")
    }
    genes: dict[str, list[str]] = defaultdict(list)
    for row in _tsv(orphanet / "genes_associated_with_rare_diseases.csv.gz", ","):
        wanted = row["association_status"] == "Assessed" and row["association_type"].startswith("Disease-causing")
        if wanted and row["gene_symbol"] not in genes[row["orpha_code"]]:
            genes[row["orpha_code"]].append(row["gene_symbol"])

    out = DATA_DIR / "orpha.tsv.gz"
    kept: set[str] = set()
    inactive = [
        code for code, row in nomenclature.items()
        if row["status"].startswith("Inactive") and row["classification_level"] == "Disorder"
        and row["redirect_to"] and all(active(t, "Disorder") for t in row["redirect_to"].split("|"))
    ]
    inactive = sorted(inactive, key=int)[:: max(1, len(inactive) // INACTIVE_SAMPLE)][:INACTIVE_SAMPLE]
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(
            ["orpha_code", "active", "prevalence_class", "weight", "onset", "groups", "genes",
             "filieres", "redirect_to"]
        )
        for code in sorted(nomenclature, key=int):
            row = nomenclature[code]
            is_active = active(code, "Disorder")
            if not is_active and code not in inactive:
                continue
            klass = classes.get(code, "")
            groups = sorted(p for p in parents.get(code, ()) if active(p, "Group of disorders"))
            writer.writerow(
                [code, "1" if is_active else "0", klass, PREVALENCE_WEIGHT.get(klass, DEFAULT_WEIGHT),
                 onset.get(code, ""), "|".join(groups[:4]), "|".join(genes.get(code, [])[:4]),
                 "|".join(sorted(filieres.get(code, ()))), row["redirect_to"]]
            )
            kept.add(code)
    print(f"{out}: {len(kept)} codes ORPHA ({len(inactive)} inactifs)")
    return kept


def build_hpo(shared: Path, orpha_codes: set[str]) -> None:
    hpo = shared / "data/hpo"
    obsolete: set[str] = set()
    current = None
    with lzma.open(hpo / "hp.obo.xz", "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("id: HP:"):
                current = line[4:].strip()
            elif line.startswith("is_obsolete: true") and current:
                obsolete.add(current)
    # Frequency rank: obligate, very frequent, frequent first.
    rank = {"HP:0040280": 0, "HP:0040281": 1, "HP:0040282": 2, "HP:0040283": 3, "HP:0040284": 4}
    terms: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with lzma.open(hpo / "phenotype.hpoa.xz", "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("ORPHA:"):
                continue
            cols = line.rstrip("\n").split("\t")
            code, qualifier, hp, frequency, aspect = cols[0][6:], cols[2], cols[3], cols[7], cols[10]
            if code in orpha_codes and qualifier != "NOT" and aspect == "P" and hp not in obsolete:
                terms[code].append((rank.get(frequency, 5), hp))
    out = DATA_DIR / "hpo_orpha.tsv.gz"
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["orpha_code", "hpo_ids"])
        for code in sorted(terms, key=int):
            best = [hp for _, hp in sorted(set(terms[code]))[:HPO_PER_DISORDER]]
            writer.writerow([code, "|".join(best)])
    print(f"{out}: {len(terms)} codes ORPHA annotés")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared")
    args = parser.parse_args()
    DATA_DIR.mkdir(exist_ok=True)
    build_hospitals(args.shared)
    build_communes(args.shared)
    codes = build_orpha(args.shared)
    build_hpo(args.shared, codes)


if __name__ == "__main__":
    main()
