"""Ranked search in the terminologies, for the web autocomplete and the CLI.

    from bamara.terminologies import search
    search.orpha("mucoviscidose")   # [Hit(code="586", label="Mucoviscidose", ...), ...]

The query and the stored keys go through the same text.normalize (lower-case, no accents,
hyphens and apostrophes as spaces), so "Maladie d'Alexander", "maladie-d alexander" and
"MALADIE D'ALEXANDER" are one query, on SQLite and PostgreSQL alike. Ranks, best first:
exact code > exact name (preferred or English name, then exact synonym) > name starts with
the query > every query word starts a word of the name > synonym (starts with the query,
every query word starts one of its words) > name or synonym contains the query.
Inside a rank: active concepts first, then the terminology's weight (Orphanet: disorders,
subtypes, groups; communes: larger population), then shorter texts.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum, Value

from bamara.terminologies.models import (
    Cim10Code,
    Commune,
    FinessEstablishment,
    HpoTerm,
    OrphaConcept,
    OrphaRedirection,
    SearchTerm,
    SearchVocabulary,
    SearchWord,
    Terminology,
)
from bamara.terminologies.orphanet import parse_code
from bamara.terminologies.text import normalize

DEFAULT_LIMIT = 20
NAMES = (SearchTerm.Kind.NAME, SearchTerm.Kind.NAME_ALT)

RANK_CODE = "code"
RANK_CODE_PREFIX = "début du code"
RANK_NAME = "nom exact"
RANK_SYNONYM_EXACT = "synonyme exact"
RANK_NAME_PREFIX = "début du nom"
RANK_WORDS = "début de mot"
RANK_SYNONYM = "synonyme"
RANK_CONTAINS = "contient"


@dataclass(frozen=True)
class Hit:
    code: str  # as stored by the other apps: "586", "HP:0001250", "E840", "75056"
    display_code: str  # "ORPHA:586", "HP:0001250", "E84.0", "75056"
    label: str  # French name
    detail: str  # level, type, département...
    active: bool
    rank: str  # one of the RANK_* above
    matched_text: str = ""  # the synonym or name that matched, when not the label
    replaced_by: tuple[str, ...] = ()  # codes of the replacement(s) of an inactive concept
    obj: Any = field(default=None, compare=False, repr=False)


# Words too common to narrow a multi-word query down ("maladie d'alexander" looks for
# "maladie" and "alexander"), and costly since thousands of words start with them.
STOPWORDS = frozenset(
    "a au aux avec d de des du en et l la le les ou par pour sans sur un une "  # noqa: SIM905
    "and by for in of on or the to with without".split()
)

# A stage read by pages: (offset, size) -> (rows read, [(code, text)] kept).
Page = Callable[[int, int], tuple[int, list[tuple[str, str]]]]
# The SQL filters on the rarest query word, plus the next one when it starts at most
# RARE_ENOUGH indexed words, among the MAX_COSTED_TOKENS longest words of the query; the rows
# it returns are then checked against every word. A whole CIM-10 label stays cheap.
RARE_ENOUGH = 3000
MAX_COSTED_TOKENS = 6
# Rows of a stage read at most: a long query close to thousands of labels (the CIM-10
# external causes) must not read them all to find its last few matches.
MAX_ROWS_PER_STAGE = 2000


def _word_sql(
    terminology: str, branches: list[tuple[str, bool]], synonyms: list[bool]
) -> tuple[str, list]:
    """SQL giving (term_id, best rank) of the terms having, for each (token, contains) branch,
    a word that starts with the token (or contains it).

    One scan of the word index per token, then a GROUP BY: the cost is the number of words
    matched, whatever the statistics. (One IN-subquery per token let PostgreSQL pick nested
    loops that rescanned a token's words for every candidate: 100 times slower.)"""
    parts, params = [], []
    for number, (token, contains) in enumerate(branches):
        words = SearchWord.objects.filter(terminology=terminology, synonym__in=synonyms)
        if contains:
            vocabulary = SearchVocabulary.objects.filter(
                terminology=terminology, word__contains=token
            )
            words = words.filter(word__in=vocabulary.values("word"))
        else:
            words = words.filter(word__prefix=token)
        sql, branch_params = (
            words.annotate(token=Value(number))
            .values("term_id", "rank", "token")
            .query.sql_with_params()
        )
        parts.append(sql)
        params.extend(branch_params)
    union = " UNION ALL ".join(parts)
    return (
        f"SELECT term_id, MIN(rank) AS best FROM ({union}) words "
        f"GROUP BY term_id HAVING COUNT(DISTINCT token) = {len(parts)}",
        params,
    )


class _Tokens:
    """The words of a query, and how many indexed words each one would scan (from the
    vocabulary's frequencies), so that the SQL filters on the rarest ones only."""

    def __init__(self, terminology: str, key: str):
        self.terminology, self.key = terminology, key
        self.all = list(dict.fromkeys(key.split()))
        self.significant = [t for t in self.all if t not in STOPWORDS] or self.all
        self._costs: dict[tuple[str, bool], int] = {}

    def cost(self, token: str, contains: bool) -> int:
        if (token, contains) not in self._costs:
            vocabulary = SearchVocabulary.objects.filter(terminology=self.terminology)
            vocabulary = (
                vocabulary.filter(word__contains=token)
                if contains
                else vocabulary.filter(word__prefix=token)
            )
            self._costs[token, contains] = vocabulary.aggregate(n=Sum("frequency"))["n"] or 0
        return self._costs[token, contains]

    def branches(self, prefixes: list[str], contains: str | None = None) -> list[tuple[str, bool]]:
        """The (token, contains) filters for the SQL: the rarest one, and the next one if it is
        rare too. A common word is better checked on the rows than intersected in SQL: most
        rows pass, so the first page is enough."""
        # Costing every word of a whole CIM-10 label would cost more than it saves.
        options = [(t, False) for t in sorted(prefixes, key=len, reverse=True)[:MAX_COSTED_TOKENS]]
        if contains:
            options.append((contains, True))
        if len(options) > 1:
            options.sort(key=lambda option: self.cost(*option))
        return options[:1] + [o for o in options[1:2] if self.cost(*o) <= RARE_ENOUGH]


def _words_page(tokens: _Tokens, synonyms: list[bool], contains: bool = False) -> Page:
    """Terms whose words start with every query word (contains=True: whose key contains the
    whole query). The SQL filters on the rarest words; each row it returns is then checked
    against all of them."""
    key = tokens.key
    if contains:
        # The words after the first one start words of the key: the word index finds them;
        # the first one may sit inside a word: the vocabulary's words are searched for it.
        rest = [t for t in tokens.all[1:] if t not in STOPWORDS]
        branches = tokens.branches(
            rest, contains=tokens.all[0] if len(tokens.all[0]) > 2 or not rest else None
        )

        def keep(term_key: str) -> bool:
            return key in term_key
    else:
        significant = tokens.significant
        branches = tokens.branches(significant)

        def keep(term_key: str) -> bool:
            term_words = term_key.split()
            return all(any(w.startswith(t) for w in term_words) for t in significant)

    built: list[tuple[str, list]] = []  # the SQL, built on first use: most searches stop earlier

    def page(offset: int, size: int) -> tuple[int, list[tuple[str, str]]]:
        if not built:
            built.append(_word_sql(tokens.terminology, branches, synonyms))
        sql, params = built[0]
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY best LIMIT %s OFFSET %s", [*params, size, offset])
            ids = [row[0] for row in cursor.fetchall()]
        terms = SearchTerm.objects.only("code", "text", "key").in_bulk(ids)
        return len(ids), [(terms[i].code, terms[i].text) for i in ids if keep(terms[i].key)]

    return page


def _query_page(qs: QuerySet) -> Page:
    rows = qs.order_by("rank").values_list("code", "text")

    def page(offset: int, size: int) -> tuple[int, list[tuple[str, str]]]:
        found = list(rows[offset : offset + size])
        return len(found), found

    return page


def _text_stages(terminology: str, key: str) -> list[tuple[str, Page]]:
    terms = SearchTerm.objects.filter(terminology=terminology)
    names, synonym = terms.filter(kind__in=NAMES), terms.filter(kind=SearchTerm.Kind.SYNONYM)
    tokens = _Tokens(terminology, key)
    return [
        (RANK_NAME, _query_page(names.filter(key=key))),
        # A synonym equal to the query ("CF", "SLA") beats a name that merely starts with it.
        (RANK_SYNONYM_EXACT, _query_page(synonym.filter(key=key))),
        (RANK_NAME_PREFIX, _query_page(names.filter(key__prefix=key))),
        (RANK_WORDS, _words_page(tokens, [False])),
        (RANK_SYNONYM, _query_page(synonym.filter(key__prefix=key))),
        (RANK_SYNONYM, _words_page(tokens, [True])),
        (RANK_CONTAINS, _words_page(tokens, [False, True], contains=True)),
    ]


class _Collector:
    """Gathers (code, rank, matched text) stage after stage, one entry per code, until
    `limit` codes are found."""

    def __init__(self, limit: int):
        self.limit = limit
        self.found: dict[str, tuple[str, str]] = {}

    @property
    def full(self) -> bool:
        return len(self.found) >= self.limit

    def add(self, code: str, rank: str, text: str = "") -> None:
        if not self.full and code not in self.found:
            self.found[code] = (rank, text)

    def add_all(self, rank: str, rows: Iterable[tuple[str, str]]) -> None:
        for code, text in rows:
            self.add(code, rank, text)

    def add_pages(self, rank: str, page: Page) -> None:
        """Read a stage page by page; a code can come back several times (names and
        synonyms), hence pages rather than one LIMIT."""
        size, offset = max(self.limit * 3, 30), 0
        while not self.full and offset < MAX_ROWS_PER_STAGE:
            read, rows = page(offset, size)
            self.add_all(rank, rows)
            if read < size:
                return
            offset += size
            size *= 2  # few rows kept (checked in Python): read larger pages


def _search_terms(collector: _Collector, terminology: str, key: str) -> None:
    for rank, page in _text_stages(terminology, key):
        if collector.full:
            return
        collector.add_pages(rank, page)


def _code_terms(collector: _Collector, terminology: str, key: str, prefix: bool = False) -> None:
    """Alternative codes (HPO alt_id, postal codes), exact then prefix."""
    codes = SearchTerm.objects.filter(terminology=terminology, kind=SearchTerm.Kind.CODE)
    collector.add_pages(RANK_CODE, _query_page(codes.filter(key=key)))
    if prefix:
        collector.add_pages(RANK_CODE_PREFIX, _query_page(codes.filter(key__prefix=key)))


# --- Orphanet --------------------------------------------------------------------------------


def orpha(text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """ORPHA concepts by code ("586", "ORPHA:586", "orpha 586"), French or English name or
    synonym. Inactive concepts carry their replacement code(s) in `replaced_by`."""
    key = normalize(text)
    if not key or limit <= 0:
        return []
    collector = _Collector(limit)
    code = parse_code(key.replace(" ", "") if key.startswith("orpha") else key)
    if code is not None and OrphaConcept.objects.filter(code=code).exists():
        collector.add(str(code), RANK_CODE)
    _search_terms(collector, Terminology.ORPHANET, key)

    concepts = OrphaConcept.objects.in_bulk([int(c) for c in collector.found])
    replacements: dict[int, list[str]] = {}
    inactive = [c for c, concept in concepts.items() if not concept.is_active]
    for source, target in OrphaRedirection.objects.filter(source__in=inactive).values_list(
        "source_id", "target_id"
    ):
        replacements.setdefault(source, []).append(str(target))
    hits = []
    for code_text, (rank, matched) in collector.found.items():
        concept = concepts.get(int(code_text))
        if concept is None:
            continue
        hits.append(
            Hit(
                code=code_text,
                display_code=f"ORPHA:{code_text}",
                label=concept.name,
                detail=concept.get_level_display(),
                active=concept.is_active,
                rank=rank,
                matched_text="" if matched == concept.name else matched,
                replaced_by=tuple(sorted(replacements.get(concept.code, []), key=int)),
                obj=concept,
            )
        )
    return hits


# --- HPO -------------------------------------------------------------------------------------

_HPO_CODE = re.compile(r"^(?:hp\s*)?(\d{1,7})$")


def hpo(text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """HPO terms by id ("HP:0001250", "0001250", alternative ids), name or synonym."""
    key = normalize(text)
    if not key or limit <= 0:
        return []
    collector = _Collector(limit)
    match = _HPO_CODE.match(key)
    if match:
        term_id = f"HP:{int(match.group(1)):07d}"
        if HpoTerm.objects.filter(id=term_id).exists():
            collector.add(term_id, RANK_CODE)
        _code_terms(collector, Terminology.HPO, normalize(term_id))
    _search_terms(collector, Terminology.HPO, key)

    terms = HpoTerm.objects.in_bulk(list(collector.found))
    return [
        Hit(
            code=term.id,
            display_code=term.id,
            label=term.name,
            detail="",
            active=not term.is_obsolete,
            rank=rank,
            matched_text="" if matched == term.name else matched,
            replaced_by=(term.replaced_by,) if term.replaced_by else (),
            obj=term,
        )
        for term_id, (rank, matched) in collector.found.items()
        if (term := terms.get(term_id))
    ]


# --- CIM-10 ----------------------------------------------------------------------------------

_CIM10_CODE = re.compile(r"^[a-z]\d{2}[0-9a-z+]*$")


def cim10(text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """CIM-10 codes by code, with or without the dot ("E84.0", "e840", "E84" and the codes
    below it), or by label."""
    key = normalize(text)
    if not key or limit <= 0:
        return []
    collector = _Collector(limit)
    compact = text.strip().replace(".", "").replace(" ", "").upper()
    if _CIM10_CODE.match(compact.lower()):
        codes = Cim10Code.objects.filter(code__startswith=compact).order_by("code")
        collector.add_all(RANK_CODE, codes.filter(code=compact).values_list("code", "label"))
        collector.add_all(RANK_CODE_PREFIX, codes.values_list("code", "label")[: limit + 1])
    _search_terms(collector, Terminology.CIM10, key)

    codes = Cim10Code.objects.in_bulk(list(collector.found))
    return [
        Hit(
            code=c.code,
            display_code=c.code_dotted,
            label=c.label,
            detail="catégorie" if c.atih_type == 3 else "",
            active=True,
            rank=rank,
            matched_text="" if matched == c.label else matched,
            obj=c,
        )
        for code, (rank, matched) in collector.found.items()
        if (c := codes.get(code))
    ]


# --- Communes, FINESS ------------------------------------------------------------------------


def communes(text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """Communes by name, INSEE code or postal code (a partial postal code lists the
    communes under it). Current communes first, then by population."""
    key = normalize(text)
    if not key or limit <= 0:
        return []
    collector = _Collector(limit)
    compact = key.replace(" ", "").upper()
    if re.fullmatch(r"\d[\dAB]\d{0,3}", compact):
        if len(compact) == 5 and Commune.objects.filter(code=compact).exists():
            collector.add(compact, RANK_CODE)
        _code_terms(collector, Terminology.GEO, compact.lower(), prefix=True)
    _search_terms(collector, Terminology.GEO, key)

    found = Commune.objects.select_related("departement").in_bulk(list(collector.found))
    return [
        Hit(
            code=c.code,
            display_code=c.code,
            label=c.name,
            detail=f"{c.postal_code} {c.departement.name}".strip()
            + ("" if c.type == Commune.Type.ACTUELLE else f" ({c.get_type_display().lower()})"),
            active=c.type in (Commune.Type.ACTUELLE, Commune.Type.ARRONDISSEMENT),
            rank=rank,
            matched_text="" if matched == c.name else matched,
            replaced_by=(c.parent_id,)
            if c.parent_id and c.type != Commune.Type.ARRONDISSEMENT
            else (),
            obj=c,
        )
        for code, (rank, matched) in collector.found.items()
        if (c := found.get(code))
    ]


def finess(text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """Hospitals by FINESS number (ET), name or city."""
    key = normalize(text)
    if not key or limit <= 0:
        return []
    collector = _Collector(limit)
    compact = key.replace(" ", "").upper()
    if re.fullmatch(r"\d[\dAB]\d{7}", compact):
        collector.add_all(
            RANK_CODE,
            FinessEstablishment.objects.filter(finess=compact).values_list("finess", "name"),
        )
        _code_terms(collector, Terminology.FINESS, compact.lower())
    _search_terms(collector, Terminology.FINESS, key)

    found = FinessEstablishment.objects.in_bulk(list(collector.found))
    return [
        Hit(
            code=e.finess,
            display_code=e.finess,
            label=e.name,
            detail=" ".join(filter(None, [e.postal_code, e.city])),
            active=True,
            rank=rank,
            matched_text="" if matched == e.name else matched,
            obj=e,
        )
        for code, (rank, matched) in collector.found.items()
        if (e := found.get(code))
    ]
