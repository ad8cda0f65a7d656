"""Terminology autocomplete of the record forms, from a small Orphanet, HPO and CIM-10 subset
loaded through the terminology loaders (real codes and names)."""

from pathlib import Path

import pytest

from bamara.records import autocomplete
from bamara.records.fields import Code
from bamara.sdm import oids
from bamara.terminologies.loaders import cim10 as cim10_loader
from bamara.terminologies.loaders import hpo as hpo_loader
from bamara.terminologies.loaders import orphanet as orphanet_loader
from bamara.terminologies.loaders.common import store
from bamara.terminologies.models import Cim10Code, HpoTerm, OrphaConcept

G, D = OrphaConcept.Level.GROUP, OrphaConcept.Level.DISORDER
ACTIVE = OrphaConcept.Status.ACTIVE


def concept(code, name_fr, name_en, level, status=ACTIVE):
    return OrphaConcept(code=code, name_fr=name_fr, name_en=name_en, disorder_type="Disease", level=level,
                        status=status, flag_value=1, aggregation_codes=[code] if level == D else [])


@pytest.fixture
def terminologies(db):
    orpha = orphanet_loader.Orphanet(version="test")
    for c in (concept(586, "Mucoviscidose", "Cystic fibrosis", D),
              concept(79318, "PMM2-CDG", "PMM2-CDG", D),
              concept(34, "Acidémie pipécolique", "Pipecolic acidemia", D, OrphaConcept.Status.DEPRECATED),
              concept(79189, "Anomalie de la biogenèse du péroxysome", "Peroxisome biogenesis disorder", G),
              concept(98006, "Maladie neurologique rare", "Rare neurologic disease", G),
              concept(166463, "Épilepsie rare", "Rare epilepsy", G)):
        orpha.concepts[c.code] = c
    orpha.synonyms[(586, "fr", "Fibrose kystique du pancréas")] = None
    orpha.redirections[(34, 79189)] = "Moved to"
    dataset = orphanet_loader.dataset(orpha, [])
    dataset.sha256 = "test-orphanet"
    store(dataset)

    hpo = hpo_loader.Hpo(version="test")
    hpo.terms["HP:0001250"] = HpoTerm(id="HP:0001250", name="Seizure", synonyms=[{"text": "Epileptic seizure"}])
    hpo.terms["HP:0002133"] = HpoTerm(id="HP:0002133", name="obsolete Status epilepticus without prominent motor symptoms",
                                      is_obsolete=True, replaced_by="HP:0001250")
    dataset = hpo_loader.dataset(hpo, [Path("hp.obo")])
    dataset.sha256 = "test-hpo"
    store(dataset)

    codes = cim10_loader.Cim10(version="test", codes=[
        Cim10Code(code="E840", code_dotted="E84.0", label="Fibrose kystique avec manifestations pulmonaires",
                  category="E84", atih_type=0),
        Cim10Code(code="E119", code_dotted="E11.9", label="Diabète sucré de type 2, sans complication",
                  category="E11", atih_type=0),
    ])
    dataset = cim10_loader.dataset(codes, [])
    dataset.sha256 = "test-cim10"
    store(dataset)


@pytest.fixture
def saisie(client, world):
    client.force_login(world.users["saisie"])
    return client


def options(client, kind, text, **params):
    response = client.get(f"/autocompletion/{kind}/", {"q": text, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_it_finds_cystic_fibrosis_by_french_name_synonym_and_code(saisie, terminologies):
    for text in ("mucoviscidose", "fibrose kystique", "586", "ORPHA:586"):
        html = options(saisie, "orpha", text)
        assert 'data-value="ORPHA:586"' in html, text
        assert "Mucoviscidose" in html and "Maladie" in html
    first = autocomplete.suggest("orpha", "mucoviscidose")[0]
    assert (first.value, first.label, first.active) == ("ORPHA:586", "Mucoviscidose", True)


def test_it_flags_an_inactive_code_and_proposes_its_replacement(saisie, terminologies):
    found = autocomplete.suggest("orpha", "acidémie pipécolique")
    assert [(s.value, s.active, s.replaces) for s in found[:2]] == [
        ("ORPHA:34", False, ""), ("ORPHA:79189", True, "ORPHA:34")]
    assert "déprécié" in found[0].detail
    html = options(saisie, "orpha", "pipécolique")
    assert "inactif" in html and "Remplacement de ORPHA:34" in html and 'data-value="ORPHA:79189"' in html


def test_it_shows_the_level_of_each_orpha_concept(terminologies):
    details = {s.value: s.detail for s in autocomplete.suggest("orpha", "rare")}
    assert details["ORPHA:98006"] == "Groupe de maladies"
    assert autocomplete.suggest("orpha", "PMM2")[0].detail == "Maladie"


def test_it_describes_signs_with_hpo_orpha_groups_and_cim10(terminologies):
    assert [s.value for s in autocomplete.suggest("signes", "seizure")][:1] == ["HP:0001250"]
    groups = [s.value for s in autocomplete.suggest("signes", "rare")]
    assert "ORPHA:98006" in groups and "ORPHA:586" not in groups  # groups only, not disorders
    assert "E84.0" in [s.value for s in autocomplete.suggest("signes", "fibrose kystique")]


def test_it_proposes_the_replacement_of_an_obsolete_hpo_term(terminologies):
    found = autocomplete.suggest("hpo", "status epilepticus")
    assert [(s.value, s.active, s.replaces) for s in found[:2]] == [
        ("HP:0002133", False, ""), ("HP:0001250", True, "HP:0002133")]


def test_it_completes_cim10_by_code_with_or_without_dot(terminologies):
    assert autocomplete.suggest("cim10", "E84")[0].value == "E84.0"
    assert autocomplete.suggest("diagnostic", "E840")[0].value == "E84.0"


def test_it_completes_the_code_being_typed_in_a_list(saisie, terminologies):
    html = options(saisie, "signes", "", champ="signs", signs="HP:0001250; rare neuro", multiple="1")
    assert 'data-value="ORPHA:98006"' in html and 'data-value="HP:0001250"' not in html


def test_it_reads_codes_typed_without_javascript(terminologies):
    assert autocomplete.read_token("orpha 586", (oids.ORPHA,)).code == Code("586", oids.ORPHA)
    assert autocomplete.read_token("hp:1250", (oids.HPO,)).code == Code("HP:0001250", oids.HPO)
    assert autocomplete.read_token("e84.0", (oids.ORPHA, oids.CIM10)).code == Code("E840", oids.CIM10)
    assert autocomplete.read_token("Mucoviscidose", (oids.ORPHA,)).code == Code("586", oids.ORPHA)
    with pytest.raises(autocomplete.TokenError, match="Suggestions : ORPHA:98006"):
        autocomplete.read_token("neurologique", (oids.ORPHA,))


def test_it_labels_stored_codes(terminologies):
    assert autocomplete.describe(Code("586", oids.ORPHA)) == "ORPHA:586 Mucoviscidose (maladie)"
    assert "déprécié" in autocomplete.label_of(Code("34", oids.ORPHA))
    assert autocomplete.describe(Code("E840", oids.CIM10)) == "E84.0 Fibrose kystique avec manifestations pulmonaires"


def test_it_needs_a_logged_in_user(client, terminologies):
    response = client.get("/autocompletion/orpha/", {"q": "mucoviscidose"})
    assert response.status_code == 302 and "/connexion/" in response.url


def test_it_answers_nothing_for_an_unknown_kind_or_a_one_letter_text(saisie, terminologies):
    assert "data-value" not in options(saisie, "inconnu", "mucoviscidose")
    assert autocomplete.suggest("orpha", "m") == []


def test_it_shows_the_name_of_the_saved_disease_beside_the_input(saisie, world, terminologies):
    patient = world.patients["own"]
    row = patient.diagnoses.get()
    html = saisie.get(f"/patients/{patient.pk}/dossier/diagnostics/{row.pk}/modifier/").content.decode()
    assert 'value="ORPHA:586"' in html and "ORPHA:586 Mucoviscidose (maladie)" in html
    assert 'role="combobox"' in html and 'aria-controls="id_disease-listbox"' in html
    assert 'hx-get="/autocompletion/diagnostic/?champ=disease' in html
