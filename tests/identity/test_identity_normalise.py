import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bamara.identity.normalise import (
    IdentityTraits,
    InsufficientTraits,
    first_given_name,
    identity_key,
    name_key,
    normalise,
    partial_date,
    person_identity_keys,
    sex_key,
)
from bamara.identity.phonetic import phonetic_key
from bamara.records.fields import PartialDate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lefèvre", "LEFEVRE"),
        ("François", "FRANCOIS"),
        ("Œillet", "OEILLET"),
        ("Lætitia", "LAETITIA"),
        ("Weiß", "WEISS"),
        ("Øster", "OSTER"),
        ("Łukasz", "LUKASZ"),
        ("Müller", "MULLER"),
        ("Jean-Pierre", "JEAN PIERRE"),
        ("d’Artagnan", "D ARTAGNAN"),
        ("d'Artagnan", "D ARTAGNAN"),
        ("O‘Neill", "O NEILL"),
        ("Dʼ Estaing", "D ESTAING"),
        ("L`Hermite", "L HERMITE"),
        ("St. Pierre", "ST PIERRE"),
        ("  de   la\tFontaine  ", "DE LA FONTAINE"),
        ("Marie–Claire", "MARIE CLAIRE"),
        ("Noël\u00a0Dupont", "NOEL DUPONT"),
        ("", ""),
        (None, ""),
        ("---", ""),
    ],
)
def test_it_normalises_case_diacritics_ligatures_and_separators(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "variant", ["de La Fontaine", "DELAFONTAINE", "Delafontaine", "De-La-Fontaine", "de  la fontaine", "DE LA FONTAINE."]
)
def test_it_gives_particle_and_spacing_variants_one_name_key(variant):
    assert name_key(variant) == "DELAFONTAINE"


@pytest.mark.parametrize("variant", ["d'Artagnan", "DARTAGNAN", "d’artagnan", "D Artagnan", "D-ARTAGNAN"])
def test_it_gives_apostrophe_variants_one_name_key(variant):
    assert name_key(variant) == "DARTAGNAN"


def test_it_drops_separate_particles_only_when_asked_for_search():
    assert name_key("de Gaulle") == "DEGAULLE"
    assert name_key("de Gaulle", particles=False) == "GAULLE"
    assert name_key("Van der Berg", particles=False) == "BERG"
    assert name_key("d'Estaing", particles=False) == "ESTAING"
    # A fused particle cannot be told from the name: DELACROIX stays whole.
    assert name_key("Delacroix", particles=False) == "DELACROIX"
    # A name made only of particles is a name.
    assert name_key("Le", particles=False) == "LE"
    assert name_key("Da", particles=False) == "DA"
    # MAC is part of the name, not a particle.
    assert name_key("Mac Donald", particles=False) == "MACDONALD"


@pytest.mark.parametrize(
    ("first", "given_names", "expected"),
    [
        ("", "Jean-Pierre Marie Louis", "JEAN PIERRE"),
        ("", "Jean - Pierre Marie", "JEAN PIERRE"),
        ("", "Marie, Louise", "MARIE"),
        ("", "  Anne-Sophie  ", "ANNE SOPHIE"),
        ("Léa", "Anne Léa", "LEA"),
        ("Jean-Pierre", "", "JEAN PIERRE"),
        ("", "", ""),
    ],
)
def test_it_takes_the_first_given_name_and_keeps_hyphenated_compounds(first, given_names, expected):
    assert first_given_name(first, given_names) == expected


def test_it_reads_dates_as_known_including_the_ins_zero_convention():
    assert partial_date("1980") == PartialDate(1980)
    assert partial_date("1980-05") == PartialDate(1980, 5)
    assert partial_date("1980-05-12") == PartialDate(1980, 5, 12)
    assert partial_date("19800512") == PartialDate(1980, 5, 12)
    assert partial_date("1950-00-00") == PartialDate(1950)
    assert partial_date("1950-03-00") == PartialDate(1950, 3)
    assert partial_date(dt.date(2001, 2, 3)) == PartialDate(2001, 2, 3)
    assert partial_date("") is None
    with pytest.raises(ValueError):
        partial_date("1980-02-30")


def test_it_reads_sex_codes_and_rejects_unknown_ones():
    assert [sex_key(code) for code in ("F", "m", "UN", "UNK", "", None)] == ["F", "M", "U", "U", "U", "U"]
    with pytest.raises(ValueError):
        sex_key("X")


def test_it_builds_a_canonical_identity_key_that_encodes_the_date_precision():
    traits = IdentityTraits(birth_name="de La Fontaine", first_given_name="Jean-Pierre", birth_date="1980", sex="M")
    assert identity_key(traits) == "P|DELAFONTAINE|JEANPIERRE|1980|M"
    full = IdentityTraits(birth_name="Dupont", birth_given_names="Éloïse Marie", birth_date="1980-05-12", sex="F")
    assert identity_key(full) == "P|DUPONT|ELOISE|1980-05-12|F"


def test_it_refuses_traits_that_identify_no_one():
    with pytest.raises(InsufficientTraits):
        identity_key(IdentityTraits(birth_name="  - ", birth_date="1980"))
    with pytest.raises(InsufficientTraits):
        identity_key(IdentityTraits(birth_name="Dupont"))
    with pytest.raises(InsufficientTraits):
        identity_key(IdentityTraits(is_foetus=True, mother_birth_name="Dupont", foetus_rank=1))
    with pytest.raises(InsufficientTraits):
        identity_key(IdentityTraits(is_foetus=True, pregnancy_start="2024-03"))


@given(st.text(max_size=40))
def test_its_keys_are_idempotent_and_made_of_a_to_z(text):
    key = name_key(text)
    assert key == name_key(key) == name_key(normalise(text))
    assert all("A" <= char <= "Z" for char in key)
    assert phonetic_key(text) == phonetic_key(key)


def test_person_identity_keys_are_identity_key_or_empty_when_insufficient():
    people = [("de La Fontaine", "", "Jean-Pierre Marie", PartialDate(1950, 3, 2), "M"),
              ("Œdipe", "Léa", "", PartialDate(1980), " f "), ("", "A", "", PartialDate(2000), "F"),
              ("ROUX", "A", "", None, "F"), ("ROUX", "A", "", PartialDate(2001, 5), "X"),
              ("ROUX", "", "", "1990-00-00", ""), ("ROUX", "B", "", dt.date(1990, 1, 2), "UN")]

    def one(name, first, given, date, sex):
        try:
            return identity_key(IdentityTraits(birth_name=name, first_given_name=first,
                                               birth_given_names=given, birth_date=date, sex=sex))
        except ValueError:
            return ""

    expected = [one(*person) for person in people]
    assert person_identity_keys(people) == expected
    assert expected.count("") == 3
