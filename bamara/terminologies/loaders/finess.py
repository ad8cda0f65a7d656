"""FINESS loader: hospitals from the 2025 FINESS list (entités juridiques, categories) and
the Eurostat 2020 list (addresses, coordinates), merged on the FINESS géographique number."""

import re
from pathlib import Path

from bamara.terminologies.loaders.common import (
    Dataset,
    InvalidSource,
    SearchEntry,
    read_tsv,
    to_float,
)
from bamara.terminologies.models import FinessEstablishment, SearchTerm, Terminology

LABEL = "FINESS"
FINESS_COLUMNS = (
    "finess_et",
    "finess_ej",
    "name_short",
    "name_long",
    "category",
    "category_group",
    "legal_status",
    "departement_code",
    "postcode",
    "city",
    "commune_insee",
    "telephone",
    "siret",
    "latitude",
    "longitude",
)
EUROSTAT_COLUMNS = (
    "finess_et",
    "name",
    "facility_type",
    "public_private",
    "street",
    "house_number",
    "postcode",
    "city",
    "commune_insee",
    "latitude",
    "longitude",
    "tel",
)
_FINESS = re.compile(r"^(\d{2}|2[AB]|9[78])\d{7}$|^\d[\dAB]\d{7}$")


def _check(path: Path, number: str) -> str:
    if not _FINESS.match(number):
        raise InvalidSource(LABEL, path, f"numéro FINESS invalide : {number!r}")
    return number


def _coordinates(path: Path, row: dict[str, str]) -> tuple[float | None, float | None]:
    try:
        return to_float(row["latitude"]), to_float(row["longitude"])
    except ValueError:
        raise InvalidSource(LABEL, path, f"{row['finess_et']} : coordonnées invalides") from None


def _departement(commune: str) -> str:
    return commune[:3] if commune.startswith("97") else commune[:2]


def read(finess_path: Path | None, eurostat_path: Path | None) -> Dataset:
    if not finess_path and not eurostat_path:
        raise InvalidSource(LABEL, "", "aucun fichier source")
    found: dict[str, FinessEstablishment] = {}
    if eurostat_path:
        for row in read_tsv(LABEL, eurostat_path, EUROSTAT_COLUMNS):
            number = _check(eurostat_path, row["finess_et"])
            latitude, longitude = _coordinates(eurostat_path, row)
            found[number] = FinessEstablishment(
                finess=number,
                name=row["name"],
                short_name=row.get("site_name", ""),
                category=row["facility_type"],
                public_private=row["public_private"],
                address=" ".join(filter(None, [row["house_number"], row["street"]])),
                postal_code=row["postcode"],
                city=row["city"],
                commune_code=row["commune_insee"],
                departement_code=_departement(row["commune_insee"]),
                phone=row["tel"],
                latitude=latitude,
                longitude=longitude,
                sources="eurostat-2020",
            )
    if finess_path:
        for row in read_tsv(LABEL, finess_path, FINESS_COLUMNS):
            number = _check(finess_path, row["finess_et"])
            latitude, longitude = _coordinates(finess_path, row)
            known = found.get(number)
            establishment = known or FinessEstablishment(
                finess=number, latitude=latitude, longitude=longitude
            )
            # The 2025 list is newer: its names, category and location win.
            establishment.finess_ej = row["finess_ej"]
            establishment.name = row["name_long"] or row["name_short"]
            establishment.short_name = row["name_short"]
            establishment.category = row["category"]
            establishment.category_group = row["category_group"]
            establishment.legal_status = row["legal_status"]
            establishment.postal_code = row["postcode"]
            establishment.city = row["city"]
            establishment.commune_code = row["commune_insee"]
            establishment.departement_code = row["departement_code"]
            establishment.phone = row["telephone"]
            establishment.siret = row["siret"]
            establishment.sources = "finess-2025,eurostat-2020" if known else "finess-2025"
            found[number] = establishment
    rows = list(found.values())
    search = []
    for e in rows:
        search.append(SearchEntry(e.finess, SearchTerm.Kind.NAME, e.name))
        if e.short_name:
            search.append(SearchEntry(e.finess, SearchTerm.Kind.NAME_ALT, e.short_name))
        if e.city:  # "chu lille", "hopital nord marseille"
            search.append(
                SearchEntry(e.finess, SearchTerm.Kind.SYNONYM, f"{e.short_name or e.name} {e.city}")
            )
        if e.finess_ej:
            search.append(SearchEntry(e.finess, SearchTerm.Kind.CODE, e.finess_ej))
    files = [p for p in (finess_path, eurostat_path) if p]
    return Dataset(
        terminology=Terminology.FINESS,
        version=" + ".join(p.name.split(".")[0] for p in files),
        release_date=None,
        files=files,
        tables=[(FinessEstablishment, rows)],
        search=search,
        counts={
            "establishments": len(rows),
            "with_coordinates": sum(e.latitude is not None for e in rows),
            "with_finess_ej": sum(bool(e.finess_ej) for e in rows),
        },
    )
