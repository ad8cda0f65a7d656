import pytest
from django.core.management import call_command

from bamara.terminologies import orphanet
from bamara.terminologies.models import OrphaClassificationEdge, OrphaConcept
from tests.terminologies.samples import ORPHA_CODES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (586, 586),
        ("586", 586),
        ("ORPHA:586", 586),
        ("orpha 586", 586),
        ("ORPHA586", 586),
        (" Orphacode:586 ", 586),
        ("HP:586", None),
        ("abc", None),
        (0, None),
    ],
)
def test_it_parses_orpha_codes(value, code):
    assert orphanet.parse_code(value) == code


def test_it_resolves_active_inactive_and_unknown_codes(orphanet_loaded):
    assert orphanet.resolve(586) == [586]
    assert orphanet.resolve("ORPHA:166068") == [166063]  # deprecated, "Moved to"
    assert orphanet.resolve(77) == [88632]  # obsolete, "Referred to"
    assert OrphaConcept.objects.get(code=106).status == "non_rare"
    assert orphanet.resolve(106) == []  # inactive, no replacement
    assert orphanet.resolve(999999) == []
    with pytest.raises(ValueError, match="Code ORPHA invalide"):
        orphanet.resolve("HP:0001250")


def test_it_resolves_every_inactive_code_to_active_ones(orphanet_loaded):
    inactive = OrphaConcept.objects.exclude(status="active").values_list("code", flat=True)
    resolved = {code: orphanet.resolve(code) for code in inactive[:300]}
    targets = {t for codes in resolved.values() for t in codes}
    assert set(OrphaConcept.objects.filter(code__in=targets).values_list("status", flat=True)) == {
        "active"
    }
    assert sum(bool(v) for v in resolved.values()) > 200


def test_it_walks_the_classifications(orphanet_loaded):
    assert OrphaConcept.objects.count() == ORPHA_CODES
    genetic = orphanet.descendants(98053)  # Rare genetic disease
    assert len(genetic) == 6851
    assert 586 in genetic
    assert 98053 in orphanet.ancestors(586)
    assert orphanet.parents(586) <= orphanet.ancestors(586)
    # Gaucher disease type 1 sits under Gaucher disease in several trees.
    assert 355 in orphanet.ancestors(77259)
    assert {77259, 77260, 77261} <= orphanet.descendants("ORPHA:355")
    # Restricted to one tree (inborn errors of metabolism, id 150).
    assert orphanet.descendants(68367, classification=150) <= orphanet.descendants(68367)
    assert orphanet.descendants(586) == set() == orphanet.children(586)


def test_it_walks_a_cycle_without_looping(orphanet_loaded):
    # Data can be wrong: a cycle must still end.
    OrphaClassificationEdge.objects.create(classification_id=150, parent_id=77259, child_id=355)
    assert 355 in orphanet.descendants(355)
    assert 77259 in orphanet.ancestors(77259)


def test_it_finds_cystic_fibrosis_first_from_the_command_line(orphanet_loaded, capsys):
    call_command("orpha_search", "mucoviscidose")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ORPHA:586 | Mucoviscidose | Maladie | actif"


def test_it_shows_the_replacement_of_an_inactive_code(orphanet_loaded, capsys):
    call_command("orpha_search", "166068", limit=1)
    assert capsys.readouterr().out.strip() == (
        "ORPHA:166068 | Hypoplasie pontocérébelleuse type 5 | Maladie | déprécié → ORPHA:166063"
    )
