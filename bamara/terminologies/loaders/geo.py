"""INSEE geography loader (COG régions, départements, communes with postal codes, population
and coordinates) and the ISO 3166 country table (from pycountry, French names)."""

import gettext
import re
from importlib.metadata import version as package_version
from pathlib import Path

from bamara.terminologies.loaders.common import (
    Dataset,
    InvalidSource,
    SearchEntry,
    read_tsv,
    to_float,
)
from bamara.terminologies.models import (
    Commune,
    Country,
    Departement,
    Region,
    SearchTerm,
    Terminology,
)

LABEL = "géographie INSEE"
REGION_COLUMNS = ("code", "nom", "chef_lieu", "zone", "population_municipale")
DEPARTEMENT_COLUMNS = (
    "code",
    "nom",
    "region",
    "chef_lieu",
    "zone",
    "population_municipale",
    "centre_lat",
    "centre_lon",
)
COMMUNE_COLUMNS = (
    "code_insee",
    "nom",
    "type",
    "zone",
    "departement",
    "region",
    "commune_parente",
    "codes_postaux",
    "population",
    "latitude",
    "longitude",
)
# When a commune déléguée keeps the code of its commune nouvelle, the code names the latter.
TYPE_PRIORITY = {t: i for i, t in enumerate(Commune.Type.values)}
_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_YEAR = re.compile(r"(19|20)\d{2}")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def read(regions_path: Path, departements_path: Path, communes_path: Path) -> Dataset:
    regions = {
        row["code"]: Region(
            code=row["code"],
            name=row["nom"],
            chef_lieu=row["chef_lieu"],
            zone=row["zone"],
            population=_int(row["population_municipale"]),
        )
        for row in read_tsv(LABEL, regions_path, REGION_COLUMNS)
    }
    departements = {}
    for row in read_tsv(LABEL, departements_path, DEPARTEMENT_COLUMNS):
        if row["region"] not in regions:
            raise InvalidSource(
                LABEL,
                departements_path,
                f"département {row['code']} : région {row['region']} inconnue",
            )
        departements[row["code"]] = Departement(
            code=row["code"],
            name=row["nom"],
            region_id=row["region"],
            chef_lieu=row["chef_lieu"],
            zone=row["zone"],
            population=_int(row["population_municipale"]),
            commune_count=_int(row.get("nb_communes")),
            latitude=to_float(row["centre_lat"]),
            longitude=to_float(row["centre_lon"]),
            area_km2=to_float(row.get("superficie_km2_ign", "")),
        )

    rows = read_tsv(LABEL, communes_path, COMMUNE_COLUMNS)
    rows.sort(key=lambda r: (r["code_insee"], TYPE_PRIORITY.get(r["type"], 99)))
    communes: dict[str, Commune] = {}
    for row in rows:
        code = row["code_insee"]
        if not _CODE.match(code) or row["type"] not in TYPE_PRIORITY:
            raise InvalidSource(
                LABEL, communes_path, f"commune {code!r} : code ou type {row['type']!r} invalide"
            )
        if code in communes:  # a délégué/associé sharing the code of the commune
            if row["nom"] != communes[code].name:
                communes[code].other_names.append(row["nom"])
            continue
        if row["departement"] not in departements or row["region"] not in regions:
            raise InvalidSource(
                LABEL, communes_path, f"commune {code} : département ou région inconnu"
            )
        postal_codes = [c for c in row["codes_postaux"].split("|") if c]
        try:
            latitude, longitude = to_float(row["latitude"]), to_float(row["longitude"])
        except ValueError:
            raise InvalidSource(
                LABEL, communes_path, f"commune {code} : coordonnées invalides"
            ) from None
        communes[code] = Commune(
            code=code,
            name=row["nom"],
            type=row["type"],
            zone=row["zone"],
            departement_id=row["departement"],
            region_id=row["region"],
            parent_id=row["commune_parente"] or None,
            postal_code=postal_codes[0] if postal_codes else "",
            postal_codes=postal_codes,
            population=_int(row["population"]),
            latitude=latitude,
            longitude=longitude,
            former_codes=[c for c in row.get("anciens_codes", "").split("|") if c],
            other_names=[],
        )
    for commune in communes.values():
        if commune.parent_id and commune.parent_id not in communes:
            raise InvalidSource(
                LABEL,
                communes_path,
                f"commune {commune.code} : commune parente {commune.parent_id} inconnue",
            )
    if not communes:
        raise InvalidSource(LABEL, communes_path, "aucune commune")

    search = []
    for c in communes.values():
        active = c.type in (Commune.Type.ACTUELLE, Commune.Type.ARRONDISSEMENT)
        weight = -(c.population or 0)  # larger towns first
        search.append(SearchEntry(c.code, SearchTerm.Kind.NAME, c.name, active, weight))
        search.extend(
            SearchEntry(c.code, SearchTerm.Kind.SYNONYM, n, active, weight) for n in c.other_names
        )
        search.extend(
            SearchEntry(c.code, SearchTerm.Kind.CODE, p, active, weight) for p in c.postal_codes
        )
    year = _YEAR.search(communes_path.name)
    return Dataset(
        terminology=Terminology.GEO,
        version=f"COG {year.group(0)}" if year else communes_path.name,
        release_date=None,
        files=[regions_path, departements_path, communes_path],
        tables=[
            (Region, list(regions.values())),
            (Departement, list(departements.values())),
            # Parents before the communes that point at them (self foreign key).
            (Commune, sorted(communes.values(), key=lambda c: c.parent_id is not None)),
        ],
        search=search,
        counts={
            "regions": len(regions),
            "departements": len(departements),
            "communes": len(communes),
            "communes_actuelles": sum(c.type == Commune.Type.ACTUELLE for c in communes.values()),
            "with_coordinates": sum(c.latitude is not None for c in communes.values()),
        },
    )


def countries() -> Dataset:
    """ISO 3166-1 countries with their French names, from the pycountry package."""
    import pycountry

    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    rows = [
        Country(
            code=c.alpha_2,
            alpha3=c.alpha_3,
            numeric=c.numeric,
            name_fr=french.gettext(c.name),
            name_en=c.name,
        )
        for c in pycountry.countries
    ]
    database = Path(pycountry.DATABASE_DIR) / "iso3166-1.json"
    return Dataset(
        terminology=Terminology.COUNTRIES,
        version=f"pycountry {package_version('pycountry')}",
        release_date=None,
        files=[database],
        tables=[(Country, rows)],
        counts={"countries": len(rows)},
    )
