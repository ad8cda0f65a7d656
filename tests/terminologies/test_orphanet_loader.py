import csv
import gzip
import lzma
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bamara.terminologies import orphanet as api
from bamara.terminologies.loaders import orphanet
from bamara.terminologies.loaders.common import InvalidSource, store
from bamara.terminologies.models import (
    OrphaClassification,
    OrphaClassificationEdge,
    OrphaConcept,
    OrphaRedirection,
    OrphaSynonym,
    SearchTerm,
    TerminologyRelease,
)
from tests.terminologies.samples import (
    EDGES,
    FR_NAMES,
    ORPHA_CODES,
    ORPHA_REDIRECTIONS,
    nomenclature_xml,
    write_tsv,
)


def _load(
    pack: Path, fr_names: Path | None = None, fr_synonyms: Path | None = None
) -> TerminologyRelease:
    data = orphanet.read(pack, fr_names, fr_synonyms)
    return store(orphanet.dataset(data, [p for p in (pack, fr_names, fr_synonyms) if p]))


def _snapshot() -> dict[str, int]:
    return {
        "concepts": OrphaConcept.objects.count(),
        "synonyms": OrphaSynonym.objects.count(),
        "redirections": OrphaRedirection.objects.count(),
        "classifications": OrphaClassification.objects.count(),
        "edges": OrphaClassificationEdge.objects.count(),
        "search": SearchTerm.objects.filter(terminology="orphanet").count(),
        "releases": TerminologyRelease.objects.filter(terminology="orphanet").count(),
    }


# --- The tiny hand-made pack: every packaging, every field --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["dir", "xml", "tar.xz", "zip"])
def test_it_reads_the_official_pack_in_every_packaging(mini_pack, kind):
    pack, fr_names, fr_synonyms = mini_pack(kind)
    release = _load(pack, fr_names, fr_synonyms)

    assert release.counts["concepts"] == 6
    beta = OrphaConcept.objects.get(code=101)
    assert (beta.name_fr, beta.name_en) == ("Maladie bêta", "Beta disease")
    assert (beta.level, beta.status, beta.flag_value, beta.disorder_type) == (
        "disorder",
        "active",
        1,
        "Disease",
    )
    assert OrphaConcept.objects.get(code=102).aggregation_codes == [101]
    assert OrphaConcept.objects.get(code=100).level == "group"
    assert OrphaConcept.objects.get(code=104).status == "non_rare"
    assert set(beta.synonyms.values_list("lang", "text")) == {("en", "BD"), ("fr", "Bêta-pathie")}
    assert set(OrphaRedirection.objects.values_list("source", "target", "association_type")) == {
        (103, 101, "Moved to"),
        (103, 105, "Referred to"),
    }
    assert (
        set(OrphaClassificationEdge.objects.values_list("classification", "parent", "child"))
        == EDGES
    )
    # The root node without <Disorder> is skipped: 105 is the root of classification 2.
    assert OrphaClassification.objects.get(id=2).root_code == 105
    assert release.version == "2023 (extraction 2023-06-21, JDBOR 1.3.25 / 4.1.7)"
    assert str(release.release_date) == "2023-06-21"


@pytest.mark.django_db
def test_it_reads_back_its_compact_format_identically(mini_pack, tmp_path):
    pack, fr_names, fr_synonyms = mini_pack("tar.xz")
    original = orphanet.read(pack, fr_names, fr_synonyms)
    orphanet.write_compact(original, tmp_path / "compact", ["pack.tar.xz"])
    again = orphanet.read(tmp_path / "compact")

    def fields(data):
        return {
            c.code: (
                c.name_fr,
                c.name_en,
                c.disorder_type,
                c.level,
                c.status,
                c.flag_value,
                c.aggregation_codes,
            )
            for c in data.concepts.values()
        }

    assert fields(again) == fields(original)
    assert again.synonyms == original.synonyms
    assert again.redirections == original.redirections
    assert again.edges == original.edges == EDGES
    assert again.version == original.version
    # Deterministic output: the same data gives the same bytes, hence the same release sha256.
    orphanet.write_compact(again, tmp_path / "compact2", ["pack.tar.xz"])
    for name in ("nomenclature.tsv.gz", "synonyms.tsv.gz", "classification_edges.tsv.gz"):
        assert (tmp_path / "compact" / name).read_bytes() == (
            tmp_path / "compact2" / name
        ).read_bytes()


@pytest.mark.django_db
def test_it_keeps_the_english_name_when_no_french_file_is_given(mini_pack):
    pack, _fr, _syn = mini_pack("dir")
    release = _load(pack)
    assert OrphaConcept.objects.get(code=101).name == "Beta disease"
    assert release.counts["without_fr_name"] == 6


# --- Malformed inputs: clear French message, nothing written ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (nomenclature_xml()[:-300], "XML mal formé ou tronqué"),
        (nomenclature_xml(root="Orphanet"), "élément racine <Orphanet> inattendu"),
        (nomenclature_xml(count=7), "6 maladies lues pour count=7"),
        (nomenclature_xml().replace("Inactive: Obsolete", "Retired"), "statut 'Retired'"),
        (
            nomenclature_xml().replace("<OrphaCode>102</OrphaCode>", "<OrphaCode>101</OrphaCode>"),
            "ORPHA:101 en double",
        ),
        (nomenclature_xml().replace("Moved to", "Merged with"), "type d'association inconnu"),
        # Declared UTF-8 but written in Latin-1 (the accents of "bêta").
        (
            nomenclature_xml()
            .replace("ISO-8859-1", "UTF-8")
            .replace("Beta disease<", "Bêta disease<")
            .encode("latin-1"),
            "encodage invalide",
        ),
    ],
)
def test_it_rejects_a_malformed_nomenclature(mini_pack, xml, message):
    pack, fr_names, fr_synonyms = mini_pack("tar.xz", nomenclature=xml)
    before = _snapshot()
    with pytest.raises(
        CommandError,
        match=rf"^Fichier Orphanet invalide : ORPHAnomenclature_en_2023\.xml : .*{message}",
    ):
        call_command(
            "load_orphanet", pack=pack, fr_names=fr_names, fr_synonyms=fr_synonyms, verbosity=0
        )
    assert _snapshot() == before


@pytest.mark.django_db
def test_it_rejects_a_truncated_archive(mini_pack, tmp_path):
    pack, fr_names, fr_synonyms = mini_pack("tar.xz")
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    with pytest.raises(
        CommandError,
        match=r"Fichier Orphanet invalide : cut\.tar\.xz : archive illisible ou tronquée",
    ):
        call_command(
            "load_orphanet", pack=cut, fr_names=fr_names, fr_synonyms=fr_synonyms, verbosity=0
        )


@pytest.mark.django_db
def test_it_does_not_expand_external_entities(mini_pack, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (
        nomenclature_xml()
        .replace("<JDBOR", f'<!DOCTYPE JDBOR [<!ENTITY leak SYSTEM "file://{secret}">]>\n<JDBOR', 1)
        .replace("Beta disease<", "Beta disease &leak;<")
    )
    pack, _fr_names, _fr_synonyms = mini_pack("dir", nomenclature=xml)
    try:
        data = orphanet.read(pack)
    except InvalidSource:
        return  # refusing the file is fine too
    assert "TOP-SECRET" not in data.concepts[101].name_en


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "header", "encoding", "message"),
    [
        ([(101, "x")], ["orpha_code", "nom"], "utf-8", "colonnes manquantes : name_fr"),
        (
            [(101, "Maladie bêta")],
            ["orpha_code", "name_fr"],
            "latin-1",
            "encodage invalide, UTF-8 attendu",
        ),
        (
            [(101, "a", "b")],
            ["orpha_code", "name_fr"],
            "utf-8",
            "ligne 2 : nombre de colonnes incorrect",
        ),
        ([("ORPHA101", "x")], ["orpha_code", "name_fr"], "utf-8", "orpha_code non numérique"),
        (
            [(101, "Maladie bêta")],
            ["orpha_code", "name_fr"],
            "utf-8",
            "noms français pour 1 codes sur 6",
        ),
    ],
)
def test_it_rejects_a_malformed_french_names_file(
    mini_pack, tmp_path, rows, header, encoding, message
):
    pack, _fr, fr_synonyms = mini_pack("dir")
    bad = write_tsv(tmp_path / "noms.tsv", header, rows, encoding=encoding)
    with pytest.raises(CommandError, match=f"^Fichier Orphanet invalide : noms.tsv : {message}"):
        call_command("load_orphanet", pack=pack, fr_names=bad, fr_synonyms=fr_synonyms, verbosity=0)


@pytest.mark.django_db
def test_it_rejects_a_classification_naming_unknown_codes(mini_pack):
    pack, fr_names, fr_synonyms = mini_pack("dir")
    xml = pack / "Classifications" / "ORPHAclassification_1_test_en_2023.xml"
    xml.write_text(
        xml.read_text(encoding="iso-8859-1").replace("<OrphaCode>102<", "<OrphaCode>999<"),
        encoding="iso-8859-1",
    )
    with pytest.raises(InvalidSource, match=r"lien ORPHA:101 -> ORPHA:999 hors nomenclature"):
        orphanet.read(pack, fr_names, fr_synonyms)


@pytest.mark.django_db
def test_it_rejects_an_unknown_file_and_a_missing_one(tmp_path):
    other = tmp_path / "pack.rar"
    other.write_bytes(b"x")
    with pytest.raises(CommandError, match="format non reconnu"):
        call_command("load_orphanet", pack=other, verbosity=0)
    with pytest.raises(CommandError, match="introuvable"):
        call_command("load_orphanet", pack=tmp_path / "absent.tar.xz", verbosity=0)


# --- The real data ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_loads_the_bundled_compact_extract(bundled_dir):
    release = _load(bundled_dir / "orphanet")
    assert release.counts["concepts"] == OrphaConcept.objects.count() == ORPHA_CODES
    assert not OrphaConcept.objects.filter(name_fr="").exists()
    assert OrphaRedirection.objects.count() == ORPHA_REDIRECTIONS
    assert OrphaClassification.objects.count() == 34
    assert OrphaConcept.objects.get(code=586).name_fr == "Mucoviscidose"


@pytest.mark.shared
@pytest.mark.django_db
def test_it_loads_the_official_2023_pack(orphanet_pack_files, orphanet_loaded):
    # The session fixture loads with the command's defaults: the official pack of shared/.

    assert OrphaConcept.objects.count() == ORPHA_CODES
    assert not OrphaConcept.objects.filter(name_fr="").exists()
    assert OrphaRedirection.objects.count() == ORPHA_REDIRECTIONS
    assert OrphaConcept.objects.filter(status="active").count() == 9479
    assert OrphaConcept.objects.filter(level="subtype").count() == 1271
    cf = OrphaConcept.objects.get(code=586)
    assert (cf.name_fr, cf.name_en, cf.level, cf.aggregation_codes) == (
        "Mucoviscidose",
        "Cystic fibrosis",
        "disorder",
        [586],
    )
    assert set(cf.synonyms.filter(lang="fr").values_list("text", flat=True)) == {
        "CF",
        "Fibrose kystique du pancréas",
    }
    release = TerminologyRelease.current("orphanet")
    assert (
        release.source_file
        == "Orphanet_Nomenclature_Pack_EN_2023.tar.xz, orpha_nomenclature_2023.tsv.gz, orpha_synonyms_2023.tsv.gz"
    )
    assert len(release.sha256) == 64
    assert (
        release.counts["ignored_redirections_unknown_code"] == 2
    )  # named in the pack, absent from it


@pytest.mark.shared
@pytest.mark.django_db
def test_it_parses_the_same_trees_as_the_published_edge_list(orphanet_pack_files, shared_data):
    data = orphanet.read(orphanet_pack_files["pack"])
    with gzip.open(
        shared_data / "orphanet" / "orpha_classification_edges_2023.tsv.gz", "rt"
    ) as handle:
        published = {
            (int(r["classification_id"]), int(r["parent_orpha_code"]), int(r["child_orpha_code"]))
            for r in csv.DictReader(handle, delimiter="\t")
        }
    assert len(data.edges) == 35755
    assert data.edges == published
    assert len(data.classifications) == 34


@pytest.mark.shared
@pytest.mark.django_db
def test_it_gives_the_same_data_from_the_pack_and_from_the_bundle(orphanet_pack_files, bundled_dir):
    from_pack = orphanet.read(**orphanet_pack_files)
    from_bundle = orphanet.read(bundled_dir / "orphanet")
    assert {
        c: (x.name_fr, x.name_en, x.status, x.level) for c, x in from_pack.concepts.items()
    } == {c: (x.name_fr, x.name_en, x.status, x.level) for c, x in from_bundle.concepts.items()}
    assert from_pack.redirections == from_bundle.redirections
    assert from_pack.synonyms == from_bundle.synonyms
    assert from_pack.edges == from_bundle.edges


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_files_are_loaded_again(orphanet_loaded):
    before = _snapshot()
    release = TerminologyRelease.current("orphanet")

    out = StringIO()
    call_command("load_orphanet", stdout=out, verbosity=1)
    assert "déjà chargé" in out.getvalue()
    call_command("load_orphanet", force=True, verbosity=0)

    assert _snapshot() == before
    assert before["concepts"] == ORPHA_CODES
    again = TerminologyRelease.current("orphanet")
    assert (again.pk, again.sha256, again.counts) == (release.pk, release.sha256, release.counts)
    assert again.loaded_at > release.loaded_at


@pytest.mark.django_db
def test_it_leaves_the_previous_release_when_the_new_xml_is_truncated(
    orphanet_loaded, tmp_path, bundled_dir
):
    before = _snapshot()
    release = TerminologyRelease.current("orphanet")
    # A real nomenclature, cut in the middle of a disorder.
    xml = nomenclature_xml()
    cut = tmp_path / "pack"
    cut.mkdir()
    (cut / "ORPHAnomenclature_fr_2024.xml").write_bytes(
        xml.encode("iso-8859-1")[: len(xml) * 2 // 3]
    )

    with pytest.raises(
        CommandError,
        match=r"^Fichier Orphanet invalide : ORPHAnomenclature_fr_2024\.xml : XML mal formé ou tronqué",
    ):
        call_command("load_orphanet", pack=cut, verbosity=0)

    assert _snapshot() == before
    assert TerminologyRelease.current("orphanet") == release
    assert api.resolve(586) == [586]


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.django_db
def test_it_leaves_the_previous_release_when_the_official_xml_is_truncated(
    orphanet_loaded, orphanet_pack_files, tmp_path
):
    before = _snapshot()
    release = TerminologyRelease.current("orphanet")
    with tarfile.open(orphanet_pack_files["pack"]) as tar:
        member = tar.getmember("pack-2023_en/ORPHAnomenclature_en_2023.xml")
        xml = tar.extractfile(member).read()
    pack = tmp_path / "truncated.tar.xz"
    with tarfile.open(pack, "w:xz", preset=0) as tar:
        cut = xml[: len(xml) // 2]
        info = tarfile.TarInfo("pack-2023_en/ORPHAnomenclature_en_2023.xml")
        info.size = len(cut)
        tar.addfile(info, fileobj=__import__("io").BytesIO(cut))

    with pytest.raises(CommandError, match="XML mal formé ou tronqué"):
        call_command(
            "load_orphanet",
            pack=pack,
            verbosity=0,
            **{k: v for k, v in orphanet_pack_files.items() if k != "pack"},
        )

    assert _snapshot() == before
    assert TerminologyRelease.current("orphanet") == release


@pytest.mark.django_db
def test_it_accepts_a_compressed_bare_xml_only_through_an_archive(tmp_path):
    bare = tmp_path / "ORPHAnomenclature_en_2023.xml.xz"
    bare.write_bytes(lzma.compress(nomenclature_xml().encode("iso-8859-1")))
    with pytest.raises(CommandError, match="format non reconnu"):
        call_command("load_orphanet", pack=bare, verbosity=0)


@pytest.mark.django_db
def test_it_keeps_every_french_name_of_the_tiny_pack(mini_pack):
    pack, fr_names, fr_synonyms = mini_pack("zip")
    _load(pack, fr_names, fr_synonyms)
    assert dict(OrphaConcept.objects.values_list("code", "name_fr")) == FR_NAMES
