import lzma
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bamara.terminologies import hpo, search
from bamara.terminologies.models import HpoIsA, HpoTerm, TerminologyRelease

pytestmark = pytest.mark.django_db

OBO = """format-version: 1.2
data-version: hp/releases/2025-01-16
ontology: hp.obo

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
def: "A phenotypic abnormality, with \\"quotes\\"." [HPO:probinson]
synonym: "Organ abnormality" EXACT layperson [ORCID:0000]
synonym: "Anomalie" RELATED []
is_a: HP:0000001 ! All

[Term]
id: HP:0001250
name: Seizure
alt_id: HP:0002279
is_a: HP:0000118 ! Phenotypic abnormality
is_a: HP:0000001 {source="test"} ! All

[Term]
id: HP:0000057
name: obsolete Clitoromegaly
is_obsolete: true
replaced_by: HP:0001250

[Typedef]
id: part_of
name: part of
"""


def _write(tmp_path: Path, text: str, name: str = "hp.obo") -> Path:
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(lzma.compress(data) if name.endswith(".xz") else data)
    return path


@pytest.mark.parametrize("name", ["hp.obo", "hp.obo.xz"])
def test_it_loads_an_obo_file(tmp_path, name):
    call_command("load_hpo", _write(tmp_path, OBO, name), verbosity=0)

    assert HpoTerm.objects.count() == 4
    term = HpoTerm.objects.get(id="HP:0000118")
    assert term.definition == 'A phenotypic abnormality, with "quotes".'
    assert term.synonyms == [
        {"text": "Organ abnormality", "scope": "EXACT", "type": "layperson"},
        {"text": "Anomalie", "scope": "RELATED", "type": ""},
    ]
    seizure = HpoTerm.objects.get(id="HP:0001250")
    assert seizure.alt_ids == ["HP:0002279"]
    assert set(HpoIsA.objects.filter(child=seizure).values_list("parent", flat=True)) == {
        "HP:0000118",
        "HP:0000001",
    }
    obsolete = HpoTerm.objects.get(id="HP:0000057")
    assert (obsolete.is_obsolete, obsolete.replaced_by) == (True, "HP:0001250")
    release = TerminologyRelease.current("hpo")
    assert (release.version, str(release.release_date), release.source_file) == (
        "2025-01-16",
        "2025-01-16",
        name,
    )


def test_it_resolves_alternative_and_obsolete_ids(tmp_path):
    call_command("load_hpo", _write(tmp_path, OBO), verbosity=0)
    assert hpo.resolve("HP:0001250") == "HP:0001250"
    assert hpo.resolve("HP:0002279") == "HP:0001250"  # alt_id
    assert hpo.resolve("HP:0000057") == "HP:0001250"  # obsolete, replaced_by
    assert hpo.resolve("HP:9999999") is None
    assert hpo.ancestors("HP:0001250") == {"HP:0000118", "HP:0000001"}
    assert hpo.descendants("HP:0000001") == {"HP:0000118", "HP:0001250"}
    assert [h.code for h in search.hpo("HP:0002279")] == ["HP:0001250"]
    assert [h.code for h in search.hpo("organ abn")] == ["HP:0000118"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: HP:0000001\n" + OBO, "en-tête OBO absent"),
        (OBO.replace("data-version: hp/releases/2025-01-16\n", ""), "en-tête data-version absent"),
        (OBO.replace("name: Seizure\n", ""), "terme HP:0001250 sans nom"),
        (
            OBO.replace("is_a: HP:0000118 ! Phenotypic", "is_a: HP:0000119 ! Phenotypic"),
            "parent HP:0000119 inconnu",
        ),
        (
            OBO.replace("id: HP:0000001\nname: All\n", "id: HP:0000002\nname: All\n"),
            "terme racine HP:0000001 absent",
        ),
        (OBO + "\n[Term]\nid: HP:0001250\nname: Seizure again\n", "HP:0001250 en double"),
    ],
)
def test_it_rejects_a_malformed_obo_file(tmp_path, text, message):
    with pytest.raises(CommandError, match=f"^Fichier HPO invalide : hp.obo : .*{message}"):
        call_command("load_hpo", _write(tmp_path, text), verbosity=0)
    assert not HpoTerm.objects.filter(name="Seizure again").exists()


def test_it_rejects_a_truncated_xz_and_keeps_the_loaded_release(tmp_path):
    call_command("load_hpo", _write(tmp_path, OBO), verbosity=0)
    release = TerminologyRelease.current("hpo")
    whole = lzma.compress(OBO.encode() * 200)
    cut = tmp_path / "cut" / "hp.obo.xz"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        CommandError, match=r"^Fichier HPO invalide : hp\.obo\.xz : fichier illisible ou tronqué"
    ):
        call_command("load_hpo", cut, verbosity=0)
    assert HpoTerm.objects.count() == 4
    assert TerminologyRelease.current("hpo") == release


def test_it_rejects_a_non_utf8_file(tmp_path):
    path = tmp_path / "hp.obo"
    path.write_bytes(OBO.replace("Seizure", "Crise épileptique").encode("latin-1"))
    with pytest.raises(CommandError, match="encodage invalide, UTF-8 attendu"):
        call_command("load_hpo", path, verbosity=0)


def test_it_loads_the_bundled_release(bundled_dir):
    call_command("load_hpo", bundled_dir / "hpo" / "hp.obo.xz", verbosity=0)
    assert HpoTerm.objects.count() == 19484
    assert HpoTerm.objects.filter(is_obsolete=True).count() == 450
    assert HpoTerm.objects.get(id="HP:0001250").name == "Seizure"
    assert hpo.resolve("HP:0001425") == "HP:0000005"
    assert "HP:0000118" in hpo.ancestors("HP:0001250")
    assert search.hpo("seizure")[0].code == "HP:0001250"
    assert search.hpo("0001250")[0].code == "HP:0001250"


@pytest.mark.shared
def test_it_bundles_the_release_file_unmodified(shared_data, bundled_dir):
    bundled = bundled_dir / "hpo" / "hp.obo.xz"
    assert bundled.read_bytes() == (shared_data / "hpo" / "hp.obo.xz").read_bytes()
    assert lzma.decompress(bundled.read_bytes()).startswith(
        b"format-version: 1.2\ndata-version: hp/releases/2025-01-16\n"
    )
