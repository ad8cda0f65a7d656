import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bamara.terminologies import search
from bamara.terminologies.models import Cim10Code, Cim10Group, TerminologyRelease
from tests.terminologies.samples import write_tsv

pytestmark = pytest.mark.django_db

CODE_HEADER = [
    "code",
    "code_pointe",
    "categorie",
    "type_mco_had",
    "profil_ssr",
    "type_psy",
    "libelle_court",
    "libelle",
]
CODES = [
    ("E84", "E84", "E84", 3, "NNNN", 3, "FIBROSE KYSTIQUE", "Fibrose kystique"),
    (
        "E840",
        "E84.0",
        "E84",
        0,
        "NOOO",
        0,
        "FIBROSE KYSTIQUE PULM",
        "Fibrose kystique avec manifestations pulmonaires",
    ),
    ("Q900", "Q90.0", "Q90", 0, "NOOO", 0, "TRISOMIE 21", "Trisomie 21, non-disjonction méïotique"),
    ("Z992", "Z99.2", "Z99", 0, "NOOO", 0, "DIALYSE", "Dépendance envers une dialyse rénale"),
]
GROUP_HEADER = [
    "hiera",
    "diag_deb",
    "diag_fin",
    "lib",
    "annee_deb",
    "annee_fin",
    "en_cours",
    "niveau_fin",
]
GROUPS = [
    ("04", "E00", "F00", "Maladies endocriniennes", 2009, 2025, 1, 0),
    ("04.08", "E70", "E91", "Troubles du métabolisme", 2009, 2025, 1, 1),
    ("17", "Q00", "R00", "Malformations congénitales", 2009, 2025, 1, 0),
    ("21", "Z00", "Z99", "Facteurs influant sur l'état de santé", 2009, 2025, 1, 0),
]


@pytest.fixture
def files(tmp_path):
    return (
        write_tsv(tmp_path / "cim10_fr_atih_2021.tsv.gz", CODE_HEADER, CODES),
        write_tsv(tmp_path / "blocs.tsv", GROUP_HEADER, GROUPS),
    )


def test_it_loads_codes_with_their_chapter_and_block(files):
    codes, groups = files
    call_command("load_cim10", codes, chapters=groups, verbosity=0)

    e840 = Cim10Code.objects.get(code="E840")
    assert (e840.code_dotted, e840.category, e840.atih_type, e840.chapter, e840.block) == (
        "E84.0",
        "E84",
        0,
        "04",
        "04.08",
    )
    assert e840.short_label == "FIBROSE KYSTIQUE PULM"
    assert Cim10Code.objects.get(code="Q900").block == "17"
    assert (
        Cim10Code.objects.get(code="Z992").chapter == "21"
    )  # Z99 is the (exclusive) end of chapter 21
    assert Cim10Group.objects.get(hiera="04.08").level == 2
    assert TerminologyRelease.current("cim10").version == "ATIH 2021"


def test_it_finds_codes_with_or_without_the_dot(files):
    codes, groups = files
    call_command("load_cim10", codes, chapters=groups, verbosity=0)
    for query in ("E84.0", "e840", "E84 0"):
        assert search.cim10(query)[0].code == "E840"
    assert [h.code for h in search.cim10("E84")] == ["E84", "E840"]
    assert [h.rank for h in search.cim10("E84")] == ["code", "début du code"]
    assert search.cim10("meiotique")[0].code == "Q900"
    assert search.cim10("fibrose kyst pulm")[0].code == "E840"


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (CODES, CODE_HEADER[:-1], "colonnes manquantes : libelle"),
        ([("E84.0", *CODES[1][1:])], CODE_HEADER, "code CIM-10 invalide : 'E84.0'"),
        ([CODES[1], CODES[1]], CODE_HEADER, "code E840 en double"),
        ([(*CODES[1][:3], "x", *CODES[1][4:])], CODE_HEADER, "E840 : type_mco_had non numérique"),
    ],
)
def test_it_rejects_a_malformed_code_table(tmp_path, files, rows, header, message):
    bad = write_tsv(tmp_path / "codes.tsv", header, rows)
    with pytest.raises(CommandError, match=rf"^Fichier CIM-10 invalide : codes\.tsv : {message}"):
        call_command("load_cim10", bad, chapters=files[1], verbosity=0)


def test_it_loads_the_bundled_subset(bundled_dir):
    call_command("load_cim10", bundled=True, verbosity=0)
    categories = set(Cim10Code.objects.values_list("category", flat=True))
    assert categories and all("Q00" <= c <= "Q99" or "E70" <= c <= "E90" for c in categories)
    assert Cim10Code.objects.count() == 853
    assert Cim10Group.objects.count() == 259
    assert search.cim10("E84.0")[0].label == "Fibrose kystique avec manifestations pulmonaires"


@pytest.mark.shared
def test_it_loads_the_full_atih_table(shared_data, all_loaded):
    # The session loaded the full files of shared/ with the commands' defaults.
    assert (
        TerminologyRelease.current("cim10").source_file
        == "cim10_fr_atih_2021.tsv.gz, cim10_chapitres_blocs.tsv"
    )
    assert Cim10Code.objects.count() == 42880
    assert not Cim10Code.objects.filter(chapter="").exists()
    assert search.cim10("cholera")[0].code == "A00"
