import pytest

from bamara.terminologies import search
from bamara.terminologies.loaders.common import Dataset, SearchEntry, store
from bamara.terminologies.models import (
    OrphaClassification,
    OrphaClassificationEdge,
    OrphaConcept,
    OrphaRedirection,
    OrphaSynonym,
    SearchTerm,
)
from bamara.terminologies.text import normalize, words

NAME, ALT, SYN = SearchTerm.Kind.NAME, SearchTerm.Kind.NAME_ALT, SearchTerm.Kind.SYNONYM


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Maladie d'Alexander", "maladie d alexander"),
        ("MALADIE D’ALEXANDER", "maladie d alexander"),
        ("Syndrome de Sjögren-Larsson", "syndrome de sjogren larsson"),
        ("Œdème  –  α-1-antitrypsine", "oedeme alpha 1 antitrypsine"),
        ("  ", ""),
    ],
)
def test_it_normalises_case_accents_hyphens_and_apostrophes(text, key):
    assert normalize(text) == key


def test_it_splits_a_key_into_distinct_words():
    assert words("syndrome de x de y") == ["syndrome", "de", "x", "y"]


def _orpha(code, name_fr, status="active", level="disorder"):
    return OrphaConcept(
        code=code,
        name_fr=name_fr,
        name_en="",
        disorder_type="Disease",
        level=level,
        status=status,
        flag_value=1,
    )


@pytest.fixture
def ranked(db):
    """Concepts built so that "fibrose" matches each of them at a different rank."""
    concepts = [
        _orpha(1, "Fibrose"),  # exact name
        _orpha(2, "Fibrose kystique du foie"),  # name prefix
        _orpha(3, "Syndrome de fibrose rénale"),  # word prefix
        _orpha(4, "Mucoviscidose"),  # synonym "Fibrose kystique"
        _orpha(5, "Myélofibrose"),  # contains
        _orpha(6, "Fibrose obsolète", status="obsolete"),  # name prefix, but inactive
        _orpha(7, "Fibrose, groupe", level="group"),  # name prefix, a group
        _orpha(8, "Fibroses", level="subtype"),  # name prefix, a subtype
    ]
    entries = [
        SearchEntry(
            str(c.code),
            NAME,
            c.name_fr,
            c.status == "active",
            {"disorder": 0, "subtype": 1, "group": 2}[c.level],
        )
        for c in concepts
    ]
    entries.append(SearchEntry("4", SYN, "Fibrose kystique"))
    entries.append(SearchEntry("4", ALT, "Cystic fibrosis"))
    tables = [
        (OrphaConcept, concepts),
        *(
            (model, [])
            for model in (
                OrphaSynonym,
                OrphaRedirection,
                OrphaClassification,
                OrphaClassificationEdge,
            )
        ),
    ]
    store(Dataset("orphanet", "test", None, [], tables, entries, sha256="x"))


def test_it_ranks_exact_name_prefix_word_synonym_then_contains(ranked):
    hits = search.orpha("fibrose")
    assert [(h.code, h.rank) for h in hits] == [
        ("1", "nom exact"),
        ("2", "début du nom"),
        ("8", "début du nom"),
        ("7", "début du nom"),
        ("6", "début du nom"),
        ("3", "début de mot"),
        ("4", "synonyme"),
        ("5", "contient"),
    ]
    assert hits[6].matched_text == "Fibrose kystique"


def test_it_puts_active_concepts_before_inactive_and_disorders_before_groups(ranked):
    ranks = [h.code for h in search.orpha("fibrose") if h.rank == "début du nom"]
    assert ranks == ["2", "8", "7", "6"]  # disorder, subtype, group, then the inactive one
    assert not next(h for h in search.orpha("fibrose") if h.code == "6").active


def test_it_matches_every_word_in_any_order(ranked):
    assert [h.code for h in search.orpha("kystique fib")] == ["2", "4"]
    assert [h.code for h in search.orpha("FIBROSE-KYSTIQUE")] == ["4", "2"]
    assert search.orpha("cystic")[0].code == "4"


def test_it_prefers_an_exact_synonym_to_a_name_prefix(ranked):
    assert [(h.code, h.rank) for h in search.orpha("fibrose kystique")] == [
        ("4", "synonyme exact"),
        ("2", "début du nom"),
    ]


def test_it_respects_the_limit_and_ignores_empty_queries(ranked):
    assert len(search.orpha("fibrose", limit=3)) == 3
    assert search.orpha("fibrose", limit=0) == []
    assert search.orpha(" - ' ") == []
    assert search.orpha("zzz") == []


# --- On the real 2023 nomenclature -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "586",
        "ORPHA:586",
        "orpha 586",
        "Orpha586",
        "mucoviscidose",
        "MUCOVISCIDOSE",
        "Cystic fibrosis",
        "CF",
    ],
)
def test_it_finds_cystic_fibrosis_first(orphanet_loaded, query):
    assert search.orpha(query)[0].code == "586"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("maladie d'alexander", "58"),
        ("Maladie-d’Alexander", "58"),
        ("maladie dalexander", None),
        ("gaucher type 1", "77259"),
        ("sclerose laterale amyotrophique", "803"),
        ("trisomie 21", "870"),
        ("syndrome de rett", "778"),
    ],
)
def test_it_is_insensitive_to_case_accents_hyphens_and_apostrophes(orphanet_loaded, query, code):
    hits = search.orpha(query, limit=5)
    assert (hits[0].code if hits else None) == code


@pytest.mark.django_db
def test_it_flags_inactive_codes_with_their_replacement(orphanet_loaded):
    hit = search.orpha("ORPHA:166068")[0]
    assert (hit.active, hit.replaced_by, hit.obj.status) == (False, ("166063",), "deprecated")
    assert search.orpha("ORPHA:586")[0].replaced_by == ()
