"""HPO loader: the hp.obo release file (OBO 1.2), plain or .xz/.gz compressed."""

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bamara.terminologies.loaders.common import (
    READ_ERRORS,
    Dataset,
    InvalidSource,
    SearchEntry,
    open_text,
    progress,
    require_file,
)
from bamara.terminologies.models import HpoIsA, HpoTerm, SearchTerm, Terminology

LABEL = "HPO"
ROOT = "HP:0000001"
_ID = re.compile(r"^HP:\d{7}$")
# "quoted text" SCOPE [TYPE] [xrefs]; the text may contain \" escapes.
_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(.*)$')


@dataclass
class Hpo:
    version: str = ""
    release_date: date | None = None
    terms: dict[str, HpoTerm] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)


def _unquote(value: str) -> tuple[str, str]:
    """'"text" rest' -> ("text", "rest"), OBO escapes undone."""
    match = _QUOTED.match(value)
    if not match:
        return value, ""
    return re.sub(r"\\(.)", r"\1", match.group(1)), match.group(2)


def _strip_id(value: str) -> str:
    """'HP:0000118 ! Phenotypic abnormality' or 'HP:1 {source="x"}' -> 'HP:0000118'."""
    return value.split("!", 1)[0].split("{", 1)[0].strip()


def read(path: Path, show_progress: bool = False) -> Hpo:
    require_file(LABEL, path)
    data = Hpo()
    header: dict[str, str] = {}
    stanza: str | None = None  # None while in the header
    current: dict[str, list[str]] = {}
    stanzas: list[tuple[int, dict[str, list[str]]]] = []
    start_line = 0
    try:
        with open_text(path) as handle:
            for number, raw in enumerate(progress(handle, "HPO : lecture", show_progress), start=1):
                line = raw.rstrip("\n").rstrip("\r")
                if number == 1 and not line.startswith("format-version:"):
                    raise InvalidSource(
                        LABEL, path, "en-tête OBO absent (format-version attendu en première ligne)"
                    )
                if line.startswith("["):
                    if stanza == "Term":
                        stanzas.append((start_line, current))
                    stanza, current, start_line = line.strip("[] "), {}, number
                    continue
                if not line.strip() or line.startswith("!") or ":" not in line:
                    continue
                tag, value = line.split(":", 1)
                if stanza is None:
                    header.setdefault(tag, value.strip())
                elif stanza == "Term":
                    current.setdefault(tag, []).append(value.strip())
            if stanza == "Term":
                stanzas.append((start_line, current))
    except UnicodeDecodeError as exc:
        raise InvalidSource(
            LABEL, path, f"encodage invalide, UTF-8 attendu ({exc.reason})"
        ) from exc
    except READ_ERRORS as exc:
        raise InvalidSource(LABEL, path, f"fichier illisible ou tronqué ({exc})") from exc

    version = header.get("data-version", "")
    if not version:
        raise InvalidSource(LABEL, path, "en-tête data-version absent")
    data.version = version.rsplit("/", 1)[-1]
    try:
        data.release_date = date.fromisoformat(data.version)
    except ValueError:
        data.release_date = None

    for line, tags in stanzas:
        term_id = (tags.get("id") or [""])[0]
        if not _ID.match(term_id):
            continue  # other ontologies' terms imported in the file, if any
        name = (tags.get("name") or [""])[0]
        if not name:
            raise InvalidSource(
                LABEL, path, f"ligne {line} : terme {term_id} sans nom (fichier tronqué ?)"
            )
        if term_id in data.terms:
            raise InvalidSource(LABEL, path, f"ligne {line} : terme {term_id} en double")
        synonyms = []
        for value in tags.get("synonym", []):
            text, rest = _unquote(value)
            parts = rest.split("[", 1)[0].split()
            synonyms.append(
                {
                    "text": text,
                    "scope": parts[0] if parts else "",
                    "type": parts[1] if len(parts) > 1 else "",
                }
            )
        data.terms[term_id] = HpoTerm(
            id=term_id,
            name=name,
            definition=_unquote(tags["def"][0])[0] if "def" in tags else "",
            synonyms=synonyms,
            is_obsolete=(tags.get("is_obsolete") or ["false"])[0] == "true",
            replaced_by=_strip_id((tags.get("replaced_by") or [""])[0]),
            consider=[_strip_id(v) for v in tags.get("consider", [])],
            alt_ids=[_strip_id(v) for v in tags.get("alt_id", [])],
        )
        data.parents[term_id] = [_strip_id(v) for v in tags.get("is_a", [])]

    if ROOT not in data.terms:
        raise InvalidSource(LABEL, path, f"terme racine {ROOT} absent")
    for term_id, parents in data.parents.items():
        for parent in parents:
            if parent not in data.terms:
                raise InvalidSource(
                    LABEL, path, f"{term_id} : parent {parent} inconnu (fichier tronqué ?)"
                )
    return data


def dataset(data: Hpo, files: list[Path]) -> Dataset:
    terms = list(data.terms.values())
    search = []
    for t in terms:
        active = not t.is_obsolete
        search.append(SearchEntry(t.id, SearchTerm.Kind.NAME, t.name, active))
        search.extend(
            SearchEntry(t.id, SearchTerm.Kind.SYNONYM, s["text"], active) for s in t.synonyms
        )
        search.extend(SearchEntry(t.id, SearchTerm.Kind.CODE, alt, active) for alt in t.alt_ids)
    links = [
        HpoIsA(child_id=child, parent_id=p)
        for child, parents in data.parents.items()
        for p in dict.fromkeys(parents)
    ]
    return Dataset(
        terminology=Terminology.HPO,
        version=data.version,
        release_date=data.release_date,
        files=files,
        tables=[(HpoTerm, terms), (HpoIsA, links)],
        search=search,
        counts={
            "terms": len(terms),
            "obsolete": sum(t.is_obsolete for t in terms),
            "synonyms": sum(len(t.synonyms) for t in terms),
            "is_a": len(links),
        },
    )
