"""CIM-10 FR loader: the ATIH code table (TSV) and the chapters/blocks table (TSV)."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from bamara.terminologies.loaders.common import (
    Dataset,
    InvalidSource,
    SearchEntry,
    read_tsv,
    to_int,
)
from bamara.terminologies.models import Cim10Code, Cim10Group, SearchTerm, Terminology

LABEL = "CIM-10"
CODE_COLUMNS = ("code", "code_pointe", "categorie", "type_mco_had", "libelle")
GROUP_COLUMNS = ("hiera", "diag_deb", "diag_fin", "lib")
_CODE = re.compile(r"^[A-Z]\d{2}[0-9A-Z+]{0,5}$")
_YEAR = re.compile(r"(19|20)\d{2}")


@dataclass
class Cim10:
    version: str = ""
    groups: list[Cim10Group] = field(default_factory=list)
    codes: list[Cim10Code] = field(default_factory=list)


def read(codes_path: Path, groups_path: Path | None) -> Cim10:
    data = Cim10()
    if groups_path:
        for row in read_tsv(LABEL, groups_path, GROUP_COLUMNS):
            if row.get("en_cours", "1") == "0":
                continue
            data.groups.append(
                Cim10Group(
                    hiera=row["hiera"],
                    level=row["hiera"].count(".") + 1,
                    code_start=row["diag_deb"],
                    code_end=row["diag_fin"],
                    label=row["lib"],
                )
            )
    # Deepest group first, so the first match of a category is its finest block.
    groups = sorted(data.groups, key=lambda g: -g.level)
    placed: dict[str, tuple[str, str]] = {}

    def place(category: str) -> tuple[str, str]:
        if category not in placed:
            inside = [g for g in groups if g.code_start <= category < g.code_end]
            # The last chapter ends on "Z99" (exclusive in the source) but Z99 exists.
            inside = inside or [g for g in groups if g.code_start <= category <= g.code_end]
            chapter = next((g.hiera for g in inside if g.level == 1), "")
            placed[category] = (chapter, inside[0].hiera if inside else "")
        return placed[category]

    seen: set[str] = set()
    for row in read_tsv(LABEL, codes_path, CODE_COLUMNS):
        code = row["code"].strip().upper()
        if not _CODE.match(code):
            raise InvalidSource(LABEL, codes_path, f"code CIM-10 invalide : {code!r}")
        if code in seen:
            raise InvalidSource(LABEL, codes_path, f"code {code} en double")
        seen.add(code)
        if not row["libelle"].strip():
            raise InvalidSource(LABEL, codes_path, f"code {code} sans libellé")
        chapter, block = place(row["categorie"])
        psy = row.get("type_psy", "")
        data.codes.append(
            Cim10Code(
                code=code,
                code_dotted=row["code_pointe"],
                label=row["libelle"].strip(),
                short_label=row.get("libelle_court", "").strip(),
                category=row["categorie"],
                atih_type=to_int(LABEL, codes_path, row["type_mco_had"], f"{code} : type_mco_had"),
                ssr_profile=row.get("profil_ssr", ""),
                psy_type=int(psy) if psy.isdigit() else None,
                chapter=chapter,
                block=block,
            )
        )
    year = _YEAR.search(codes_path.name)
    data.version = f"ATIH {year.group(0)}" if year else codes_path.name
    return data


def dataset(data: Cim10, files: list[Path]) -> Dataset:
    return Dataset(
        terminology=Terminology.CIM10,
        version=data.version,
        release_date=None,
        files=files,
        tables=[(Cim10Group, data.groups), (Cim10Code, data.codes)],
        search=[SearchEntry(c.code, SearchTerm.Kind.NAME, c.label) for c in data.codes],
        counts={"codes": len(data.codes), "groups": len(data.groups)},
    )
