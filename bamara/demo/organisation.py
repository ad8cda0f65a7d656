"""Demo organisation: real hospitals (FINESS) and fictional rare-disease sites S0001…S0040."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from django.db import transaction

from bamara.organisations.management.commands.load_filieres import load_filieres
from bamara.organisations.models import DeploymentMode, Filiere, Hospital, Site

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_SUFFIX = " (démo)"

# FINESS category label (as in the FINESS file) -> category code of the ANS nomenclature
# TRE_R66-CategorieEtablissement (101 = "Centre Hospitalier Régional (C.H.R.)").
CATEGORY_CODES = {"Centre Hospitalier Régional (C.H.R.)": "101"}
# A few sites send their records from the EHR (connected mode), as some hospitals do.
CONNECTED_HOSPITALS = {"590000105", "440000271"}


def read_tsv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def demo_site_codes() -> list[str]:
    return [row["code"] for row in read_tsv("sites.tsv")]


@transaction.atomic
def ensure_organisation() -> list[Site]:
    """Create or update the filières, demo hospitals and demo sites (idempotent)."""
    if Filiere.objects.count() < 23:
        load_filieres()
    hospitals = {}
    for row in read_tsv("hospitals.tsv"):
        hospitals[row["finess_et"]], _ = Hospital.objects.update_or_create(
            finess_et=row["finess_et"],
            defaults={
                "finess_ej": row["finess_ej"],
                "name": row["name"],
                "short_name": row["demo_label"],
                "category": CATEGORY_CODES.get(row["category_label"], ""),
                "commune_code": row["commune_insee"],
            },
        )
    filieres = {f.acronym: f for f in Filiere.objects.all()}
    sites = []
    for index, row in enumerate(read_tsv("sites.tsv")):
        hospital = hospitals[row["finess_et"]]
        site, _ = Site.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"] + DEMO_SUFFIX,
                "centre_acronym": f"DEMO-{row['filiere'].upper()[:10]}",
                "kind": row["kind"],
                "filiere": filieres[row["filiere"]],
                "hospital": hospital,
                "care_unit": row["care_unit"],
                "deployment_mode": (
                    DeploymentMode.CONNECTED
                    if row["finess_et"] in CONNECTED_HOSPITALS
                    else DeploymentMode.AUTONOMOUS
                ),
                "convention_signed_on": dt.date(2017 + index % 6, 1 + index % 12, 1),
                "active": True,
            },
        )
        sites.append(site)
    return sites
