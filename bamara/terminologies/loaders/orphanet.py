"""Orphanet loader.

The nomenclature comes either from
- the official Orphanet Nomenclature Pack (ORPHAnomenclature_<lang>_<year>.xml plus
  Classifications/ORPHAclassification_*.xml, JDBOR schema, ISO-8859-1), given as a .tar.xz /
  .tar.gz / .zip archive, a directory, or the bare nomenclature XML; or
- the compact format bundled with bamara (a directory holding manifest.json and TSVs, written
  by `write_compact` from a pack);
then French names and French synonyms are taken from TSVs (the French pack is only
available in that form), overriding what the pack says.
"""

import csv
import gzip
import io
import json
import re
import tarfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from lxml import etree

from bamara.terminologies.loaders.common import (
    READ_ERRORS,
    Dataset,
    InvalidSource,
    SearchEntry,
    progress,
    read_tsv,
    require_file,
    to_int,
)
from bamara.terminologies.models import (
    OrphaClassification,
    OrphaClassificationEdge,
    OrphaConcept,
    OrphaRedirection,
    OrphaSynonym,
    SearchTerm,
    Terminology,
)

LABEL = "Orphanet"
COMPACT_FORMAT = "bamara-orphanet-compact"
ATTRIBUTION = (
    "Orphadata: Free access data from Orphanet. © INSERM 1999. Available on "
    "http://www.orphadata.org. Licence CC BY 4.0."
)

# Orphanet labels (as in the pack and the TSVs) -> stored values.
LEVELS = {
    "Group of disorders": OrphaConcept.Level.GROUP,
    "Disorder": OrphaConcept.Level.DISORDER,
    "Subtype of disorder": OrphaConcept.Level.SUBTYPE,
}
STATUSES = {
    "Active": OrphaConcept.Status.ACTIVE,
    "Inactive: Obsolete": OrphaConcept.Status.OBSOLETE,
    "Inactive: Deprecated": OrphaConcept.Status.DEPRECATED,
    "Inactive: Non rare disease in Europe": OrphaConcept.Status.NON_RARE,
}
LEVEL_LABELS = {v: k for k, v in LEVELS.items()}
STATUS_LABELS = {v: k for k, v in STATUSES.items()}
REDIRECTION_TYPES = {t.value for t in OrphaRedirection.Type}
# Search tie-break at equal rank: disorders, then subtypes, then groups.
LEVEL_WEIGHT = {"disorder": 0, "subtype": 1, "group": 2}

# No DTD, no entity expansion, no network: the pack is data from outside.
SAFE_XML = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}

NOMENCLATURE_COLUMNS = (
    "orpha_code",
    "name_fr",
    "name_en",
    "disorder_type",
    "classification_level",
    "flag_value",
    "status",
    "aggregation_orpha_codes",
)


@dataclass
class Orphanet:
    """A parsed, validated Orphanet release, held in memory."""

    version: str = ""
    release_date: date | None = None
    concepts: dict[int, OrphaConcept] = field(default_factory=dict)
    synonyms: dict[tuple[int, str, str], None] = field(default_factory=dict)  # ordered set
    redirections: dict[tuple[int, int], str] = field(default_factory=dict)
    classifications: dict[int, OrphaClassification] = field(default_factory=dict)
    edges: set[tuple[int, int, int]] = field(default_factory=set)
    ignored: Counter = field(default_factory=Counter)


# --- Reading -------------------------------------------------------------------------------


def read(
    pack: Path,
    fr_names: Path | None = None,
    fr_synonyms: Path | None = None,
    show_progress: bool = False,
) -> Orphanet:
    """Parse and validate everything; raises InvalidSource, never touches the database."""
    require_file(LABEL, pack)
    data = Orphanet()
    if pack.is_dir() and (pack / "manifest.json").exists():
        _read_compact(pack, data)
    else:
        _read_pack(pack, data, show_progress)
    if fr_names:
        _apply_fr_names(data, fr_names)
    if fr_synonyms:
        _apply_fr_synonyms(data, fr_synonyms)
    _check(data, pack)
    return data


@contextmanager
def _xml_members(pack: Path) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    """(name, stream) of each XML file of a pack, whatever its packaging. Archive members are
    read in place, never extracted to disk."""

    def from_files(paths: list[Path]) -> Iterator[tuple[str, IO[bytes]]]:
        for path in paths:
            with path.open("rb") as stream:
                yield path.name, stream

    def from_tar(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
        for member in tar:  # stream order: no seeking back in the compressed file
            stream = tar.extractfile(member) if member.isfile() else None
            if stream and member.name.endswith(".xml"):
                yield Path(member.name).name, stream

    def from_zip(archive: zipfile.ZipFile) -> Iterator[tuple[str, IO[bytes]]]:
        for info in archive.infolist():
            if not info.is_dir() and info.filename.endswith(".xml"):
                with archive.open(info) as stream:
                    yield Path(info.filename).name, stream

    name = pack.name.lower()
    try:
        if pack.is_dir():
            yield from_files(sorted(pack.rglob("*.xml")))
        elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2")):
            with tarfile.open(pack, "r|*") as tar:
                yield from_tar(tar)
        elif name.endswith(".zip"):
            with zipfile.ZipFile(pack) as archive:
                yield from_zip(archive)
        elif name.endswith(".xml"):
            siblings = pack.parent / "Classifications"
            yield from_files([pack, *sorted(siblings.glob("*.xml"))])
        else:
            raise InvalidSource(
                LABEL, pack, "format non reconnu (archive .tar.xz/.zip, dossier ou XML attendu)"
            )
    except (tarfile.TarError, zipfile.BadZipFile, *READ_ERRORS) as exc:
        raise InvalidSource(LABEL, pack, f"archive illisible ou tronquée ({exc})") from exc


def _read_pack(pack: Path, data: Orphanet, show: bool) -> None:
    nomenclatures = 0
    with _xml_members(pack) as members:
        for name, stream in members:
            if name.startswith("ORPHAnomenclature"):
                nomenclatures += 1
                _parse_nomenclature(name, stream, data, show)
            elif name.startswith("ORPHAclassification"):
                _parse_classification(name, stream, data)
    if nomenclatures != 1:
        detail = "plusieurs" if nomenclatures else "aucun"
        raise InvalidSource(LABEL, pack, f"{detail} fichier ORPHAnomenclature_*.xml dans le paquet")
    if not data.classifications:
        data.ignored["no_classification_file"] += 1


def _xml_error(exc: etree.XMLSyntaxError) -> str:
    message = str(exc.msg or exc)
    if "encoding" in message.lower() or "utf-8" in message.lower():
        return f"encodage invalide ({message})"
    return f"XML mal formé ou tronqué, ligne {exc.lineno} ({message})"


def _text(el: etree._Element, path: str) -> str:
    return (el.findtext(path) or "").strip()


def _parse_nomenclature(name: str, stream: IO[bytes], data: Orphanet, show: bool) -> None:
    ids: dict[str, int] = {}  # JDBOR internal id -> ORPHA code, to resolve cycle="true" refs
    associations: list[tuple[int | str, int | str, str, int]] = []

    def ref(el: etree._Element) -> int | str:
        code = _text(el, "OrphaCode")
        if code:
            ids[el.get("id", "")] = int(code)
            return int(code)
        return el.get("id", "")

    context = etree.iterparse(stream, events=("end",), tag="Disorder", **SAFE_XML)
    try:
        for _event, el in progress(context, "Orphanet : nomenclature", show):
            parent = el.getparent()
            if parent is None or parent.tag != "DisorderList":
                continue
            line = el.sourceline
            code_text = _text(el, "OrphaCode")
            if not code_text.isdigit():
                raise InvalidSource(LABEL, name, f"ligne {line} : OrphaCode manquant ou invalide")
            code = int(code_text)
            if code in data.concepts:
                raise InvalidSource(LABEL, name, f"ligne {line} : ORPHA:{code} en double")
            ids[el.get("id", "")] = code
            status, level = _text(el, "Totalstatus"), _text(el, "ClassificationLevel/Name")
            if status not in STATUSES or level not in LEVELS:
                raise InvalidSource(
                    LABEL, name, f"ligne {line} : statut {status!r} ou niveau {level!r} inconnu"
                )
            data.concepts[code] = OrphaConcept(
                code=code,
                name_fr="",
                name_en=_text(el, "Name"),
                disorder_type=_text(el, "DisorderType/Name"),
                level=LEVELS[level],
                status=STATUSES[status],
                flag_value=to_int(LABEL, name, _text(el, "FlagValue"), f"ligne {line} : FlagValue"),
                aggregation_codes=[
                    int(c)
                    for c in el.xpath(
                        "AggregationLevelSection/AggregationLevelList/AggregationLevel/OrphaCode/text()"
                    )
                ],
            )
            for synonym in el.iterfind("SynonymList/Synonym"):
                if synonym.text and synonym.text.strip():
                    data.synonyms[code, synonym.get("lang", "en"), synonym.text.strip()] = None
            for assoc in el.iterfind("DisorderDisorderAssociationList/DisorderDisorderAssociation"):
                root, target = assoc.find("RootDisorder"), assoc.find("TargetDisorder")
                kind = _text(assoc, "DisorderDisorderAssociationType/Name")
                if root is not None and target is not None:
                    associations.append((ref(root), ref(target), kind, assoc.sourceline))
            # Free the parsed disorders as we go: the tree would otherwise hold the whole file.
            el.clear()
            while el.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise InvalidSource(LABEL, name, _xml_error(exc)) from exc

    root = context.root
    if root is None or root.tag != "JDBOR" or root.find("DisorderList") is None:
        tag = "?" if root is None else root.tag
        raise InvalidSource(
            LABEL, name, f"élément racine <{tag}> inattendu (<JDBOR> avec <DisorderList> attendu)"
        )
    expected = root.find("DisorderList").get("count")
    if expected and expected.isdigit() and int(expected) != len(data.concepts):
        raise InvalidSource(
            LABEL, name, f"{len(data.concepts)} maladies lues pour count={expected} annoncé"
        )
    extraction = (root.get("ExtractionDate") or root.get("date") or "")[:10]
    data.release_date = _date(extraction)
    year = re.search(r"_(\d{4})\b", name)
    jdbor = root.get("version", "?").split(" [")[0]
    data.version = f"{year.group(1) if year else '?'} (extraction {extraction}, JDBOR {jdbor})"

    for source_ref, target_ref, kind, line in associations:
        source, target = ids.get(source_ref, source_ref), ids.get(target_ref, target_ref)
        if kind not in REDIRECTION_TYPES:
            raise InvalidSource(LABEL, name, f"ligne {line} : type d'association inconnu {kind!r}")
        if not isinstance(source, int) or not isinstance(target, int):
            raise InvalidSource(LABEL, name, f"ligne {line} : référence de maladie introuvable")
        data.redirections[source, target] = kind


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _parse_classification(name: str, stream: IO[bytes], data: Orphanet) -> None:
    try:
        root = etree.parse(stream, etree.XMLParser(**SAFE_XML)).getroot()
    except etree.XMLSyntaxError as exc:
        raise InvalidSource(LABEL, name, _xml_error(exc)) from exc
    classifications = root.findall("ClassificationList/Classification")
    if root.tag != "JDBOR" or not classifications:
        raise InvalidSource(
            LABEL,
            name,
            f"élément racine <{root.tag}> inattendu (<JDBOR> avec <ClassificationList> attendu)",
        )
    for el in classifications:
        cid = to_int(LABEL, name, el.get("id", ""), "identifiant de classification")
        roots: list[int] = []
        # (node, parent code); a node without <Disorder> (classification 235) is transparent.
        stack = [
            (node, None) for node in el.iterfind("ClassificationNodeRootList/ClassificationNode")
        ]
        while stack:
            node, parent = stack.pop()
            code_text = _text(node, "Disorder/OrphaCode")
            code = int(code_text) if code_text.isdigit() else parent
            if code_text and parent is not None:
                data.edges.add((cid, parent, code))
            elif code_text:
                roots.append(code)
            stack.extend(
                (child, code)
                for child in node.iterfind("ClassificationNodeChildList/ClassificationNode")
            )
        data.classifications[cid] = OrphaClassification(
            id=cid,
            orpha_number=to_int(LABEL, name, _text(el, "OrphaNumber") or "0", "OrphaNumber"),
            name=_text(el, "Name"),
            root_code=roots[0] if roots else None,
        )


def _concept_from_row(row: dict[str, str], path: Path) -> OrphaConcept:
    code = to_int(LABEL, path, row["orpha_code"], "orpha_code")
    status, level = row["status"], row["classification_level"]
    if status not in STATUSES or level not in LEVELS:
        raise InvalidSource(
            LABEL, path, f"ORPHA:{code} : statut {status!r} ou niveau {level!r} inconnu"
        )
    return OrphaConcept(
        code=code,
        name_fr=row["name_fr"].strip(),
        name_en=row["name_en"].strip(),
        disorder_type=row["disorder_type"],
        level=LEVELS[level],
        status=STATUSES[status],
        flag_value=to_int(LABEL, path, row["flag_value"], "flag_value"),
        aggregation_codes=[
            to_int(LABEL, path, c, "aggregation_orpha_codes")
            for c in row["aggregation_orpha_codes"].split("|")
            if c
        ],
    )


def _read_compact(directory: Path, data: Orphanet) -> None:
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSource(LABEL, directory / "manifest.json", f"JSON invalide ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != COMPACT_FORMAT:
        raise InvalidSource(
            LABEL, directory / "manifest.json", f"format {COMPACT_FORMAT!r} attendu"
        )
    data.version = str(manifest.get("version", "?"))
    data.release_date = _date(str(manifest.get("release_date", "")))

    path = directory / "nomenclature.tsv.gz"
    for row in read_tsv(LABEL, path, NOMENCLATURE_COLUMNS):
        concept = _concept_from_row(row, path)
        if concept.code in data.concepts:
            raise InvalidSource(LABEL, path, f"ORPHA:{concept.code} en double")
        data.concepts[concept.code] = concept
    path = directory / "synonyms.tsv.gz"
    for row in read_tsv(LABEL, path, ("orpha_code", "lang", "synonym")):
        data.synonyms[
            to_int(LABEL, path, row["orpha_code"], "orpha_code"), row["lang"], row["synonym"]
        ] = None
    path = directory / "redirections.tsv.gz"
    for row in read_tsv(LABEL, path, ("orpha_code", "target_orpha_code", "association_type")):
        if row["association_type"] not in REDIRECTION_TYPES:
            raise InvalidSource(
                LABEL, path, f"type d'association inconnu {row['association_type']!r}"
            )
        source = to_int(LABEL, path, row["orpha_code"], "orpha_code")
        target = to_int(LABEL, path, row["target_orpha_code"], "target_orpha_code")
        data.redirections[source, target] = row["association_type"]
    path = directory / "classifications.tsv.gz"
    columns = (
        "classification_id",
        "classification_orpha_number",
        "classification_name",
        "root_orpha_code",
    )
    for row in read_tsv(LABEL, path, columns):
        cid = to_int(LABEL, path, row["classification_id"], "classification_id")
        data.classifications[cid] = OrphaClassification(
            id=cid,
            orpha_number=to_int(
                LABEL, path, row["classification_orpha_number"], "classification_orpha_number"
            ),
            name=row["classification_name"],
            root_code=int(row["root_orpha_code"]) if row["root_orpha_code"].isdigit() else None,
        )
    path = directory / "classification_edges.tsv.gz"
    for row in read_tsv(
        LABEL, path, ("classification_id", "parent_orpha_code", "child_orpha_code")
    ):
        data.edges.add(
            (
                to_int(LABEL, path, row["classification_id"], "classification_id"),
                to_int(LABEL, path, row["parent_orpha_code"], "parent_orpha_code"),
                to_int(LABEL, path, row["child_orpha_code"], "child_orpha_code"),
            )
        )


def _apply_fr_names(data: Orphanet, path: Path) -> None:
    """French preferred terms (orpha_nomenclature_*.tsv: orpha_code, name_fr)."""
    rows = read_tsv(LABEL, path, ("orpha_code", "name_fr"))
    matched = 0
    for row in rows:
        concept = data.concepts.get(to_int(LABEL, path, row["orpha_code"], "orpha_code"))
        if concept is None:
            data.ignored["fr_names_unknown_code"] += 1
        elif row["name_fr"].strip():
            concept.name_fr = row["name_fr"].strip()
            matched += 1
    # A French file of another release or of another kind would match few codes.
    if matched < len(data.concepts) / 2:
        raise InvalidSource(
            LABEL,
            path,
            f"noms français pour {matched} codes sur {len(data.concepts)} : mauvais fichier ?",
        )


def _apply_fr_synonyms(data: Orphanet, path: Path) -> None:
    """French synonyms (orpha_synonyms_*.tsv: orpha_code, lang, synonym); replace the pack's."""
    rows = read_tsv(LABEL, path, ("orpha_code", "lang", "synonym"))
    french = {}
    for row in rows:
        code = to_int(LABEL, path, row["orpha_code"], "orpha_code")
        if row["lang"] != "fr" or not row["synonym"].strip():
            continue
        if code in data.concepts:
            french[code, "fr", row["synonym"].strip()] = None
        else:
            data.ignored["fr_synonyms_unknown_code"] += 1
    data.synonyms = {k: None for k in data.synonyms if k[1] != "fr"} | french


def _check(data: Orphanet, pack: Path) -> None:
    """Cross-checks between the parts of a release (catches mixed or damaged files)."""
    if not data.concepts:
        raise InvalidSource(LABEL, pack, "aucun code ORPHA lu")
    known = data.concepts.keys()
    for key in [k for k in data.redirections if k[0] not in known or k[1] not in known]:
        # The 2023 pack names two codes that are not in its own nomenclature.
        del data.redirections[key]
        data.ignored["redirections_unknown_code"] += 1
    for cid, parent, child in data.edges:
        if cid not in data.classifications or parent not in known or child not in known:
            raise InvalidSource(
                LABEL,
                pack,
                f"classification {cid} : lien ORPHA:{parent} -> ORPHA:{child} hors nomenclature",
            )
    for code, lang, _synonym in data.synonyms:
        if code not in known:
            raise InvalidSource(LABEL, pack, f"synonyme d'un code inconnu ORPHA:{code} ({lang})")
    for concept in data.concepts.values():
        if not concept.name_en and not concept.name_fr:
            raise InvalidSource(LABEL, pack, f"ORPHA:{concept.code} sans nom")
        kept = [c for c in concept.aggregation_codes if c in known]
        data.ignored["aggregation_unknown_code"] += len(concept.aggregation_codes) - len(kept)
        concept.aggregation_codes = kept


# --- Storing ---------------------------------------------------------------------------------


def dataset(data: Orphanet, files: list[Path]) -> Dataset:
    concepts = list(data.concepts.values())
    search = []
    for c in concepts:
        active, weight = c.status == OrphaConcept.Status.ACTIVE, LEVEL_WEIGHT[c.level]
        code = str(c.code)
        search.append(
            SearchEntry(code, SearchTerm.Kind.NAME, c.name_fr or c.name_en, active, weight)
        )
        search.append(SearchEntry(code, SearchTerm.Kind.NAME_ALT, c.name_en, active, weight))
    for code, _lang, text in data.synonyms:
        c = data.concepts[code]
        search.append(
            SearchEntry(
                str(code),
                SearchTerm.Kind.SYNONYM,
                text,
                c.status == "active",
                LEVEL_WEIGHT[c.level],
            )
        )
    counts = {
        "concepts": len(concepts),
        "active": sum(c.status == OrphaConcept.Status.ACTIVE for c in concepts),
        "without_fr_name": sum(not c.name_fr for c in concepts),
        "synonyms_fr": sum(lang == "fr" for _c, lang, _t in data.synonyms),
        "synonyms_en": sum(lang == "en" for _c, lang, _t in data.synonyms),
        "redirections": len(data.redirections),
        "classifications": len(data.classifications),
        "classification_edges": len(data.edges),
        **{f"ignored_{k}": v for k, v in sorted(data.ignored.items())},
    }
    return Dataset(
        terminology=Terminology.ORPHANET,
        version=data.version,
        release_date=data.release_date,
        files=files,
        tables=[
            (OrphaConcept, concepts),
            (OrphaClassification, list(data.classifications.values())),
            (
                OrphaSynonym,
                [OrphaSynonym(concept_id=c, lang=lang, text=t) for c, lang, t in data.synonyms],
            ),
            (
                OrphaRedirection,
                [
                    OrphaRedirection(source_id=s, target_id=t, association_type=k)
                    for (s, t), k in data.redirections.items()
                ],
            ),
            (
                OrphaClassificationEdge,
                [
                    OrphaClassificationEdge(classification_id=cid, parent_id=p, child_id=c)
                    for cid, p, c in sorted(data.edges)
                ],
            ),
        ],
        search=search,
        counts=counts,
    )


# --- Compact format (bundled data) -----------------------------------------------------------


def write_compact(data: Orphanet, directory: Path, sources: list[str]) -> None:
    """Write the release in the compact format that `read` accepts (the bundled data)."""
    directory.mkdir(parents=True, exist_ok=True)

    def write(name: str, header: tuple[str, ...], rows: list[tuple]) -> None:
        # mtime=0: the same data gives byte-identical files, hence the same sha256.
        with (
            open(directory / name, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        ):
            text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
            writer = csv.writer(text, delimiter="\t", lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            text.flush()
            text.detach()

    concepts = sorted(data.concepts.values(), key=lambda c: c.code)
    write(
        "nomenclature.tsv.gz",
        NOMENCLATURE_COLUMNS,
        [
            (
                c.code,
                c.name_fr,
                c.name_en,
                c.disorder_type,
                LEVEL_LABELS[c.level],
                c.flag_value,
                STATUS_LABELS[c.status],
                "|".join(map(str, c.aggregation_codes)),
            )
            for c in concepts
        ],
    )
    write("synonyms.tsv.gz", ("orpha_code", "lang", "synonym"), sorted(data.synonyms))
    write(
        "redirections.tsv.gz",
        ("orpha_code", "target_orpha_code", "association_type"),
        sorted((s, t, k) for (s, t), k in data.redirections.items()),
    )
    write(
        "classifications.tsv.gz",
        (
            "classification_id",
            "classification_orpha_number",
            "classification_name",
            "root_orpha_code",
        ),
        [
            (c.id, c.orpha_number, c.name, c.root_code or "")
            for c in sorted(data.classifications.values(), key=lambda c: c.id)
        ],
    )
    write(
        "classification_edges.tsv.gz",
        ("classification_id", "parent_orpha_code", "child_orpha_code"),
        sorted(data.edges),
    )
    manifest = {
        "format": COMPACT_FORMAT,
        "version": data.version,
        "release_date": data.release_date.isoformat() if data.release_date else "",
        "sources": sources,
        "attribution": ATTRIBUTION,
        "modifications": "Extrait reformaté en TSV par bamara (noms et synonymes français, "
        "redirections, classifications) ; définitions et liens experts omis.",
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
