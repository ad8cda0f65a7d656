"""The search engine behind the patient search (bamara.records.search.find): ranking, the
"more than shown" flag, partial birth dates, and the wall when the name keys lag behind."""

import pytest

from bamara.organisations import access
from bamara.records.models import PatientName
from bamara.records.search import find
from tests.factories import make_patient


def run(world, text: str, limit: int = 50):
    user = world.users["saisie"]
    return find(access.visible_patients(user), text, limit=limit, sites=access.user_site_ids(user))


def names(found) -> list[str]:
    return [p.birth_name for p in found.patients]


def test_it_lists_exact_spellings_before_sound_alikes(world):
    make_patient("LEFEBVRE", [world.own], given="Anne")  # before LEFEVRE in name order
    found = run(world, "lefevre")
    assert names(found) == ["LEFEVRE", "LEFEBVRE"]
    assert names(run(world, "Lefebvre")) == ["LEFEBVRE", "LEFEVRE"]


def test_it_orders_each_tier_by_name(world):
    make_patient("LEFEVRE", [world.own], given="Albert")
    make_patient("LEFEVRE-DURAND", [world.own], given="Zoé")
    found = run(world, "lefevre")
    assert [(p.birth_name, p.first_birth_given_name) for p in found.patients] == [
        ("LEFEVRE", "Albert"), ("LEFEVRE", "Léa"), ("LEFEVRE-DURAND", "Zoé")]


def test_it_says_when_more_patients_match_than_it_shows(world):
    for given in ("Anne", "Berthe"):
        make_patient("LEFEVRE", [world.own], given=given)
    assert (len(run(world, "lefevre", limit=2).patients), run(world, "lefevre", limit=2).more) == (2, True)
    assert (len(run(world, "lefevre", limit=3).patients), run(world, "lefevre", limit=3).more) == (3, False)


@pytest.mark.parametrize(("born", "query", "found"), [
    ("1980-03", "12/03/1980", True),     # month known: any day of that month
    ("1980-03", "12/04/1980", False),
    ("1980", "31/12/1980", True),        # year known: any day of that year
    ("1980", "01/01/1981", False),
    ("1980-03-12", "1980-12-03", True),  # day and month swapped
])
def test_it_matches_partial_birth_dates(world, born, query, found):
    patient = make_patient("ROUSSEAU", [world.own], born=born)
    assert (patient in run(world, query).patients) is found


def test_it_needs_something_to_search_for(world):
    assert run(world, "-- ' ").patients == []
    assert names(run(world, "-- 12/03/2015")) == ["LEFEVRE"]


def test_it_never_shows_a_patient_whose_name_keys_lag_behind_the_wall(world):
    """A stale name key (a bulk load not yet reindexed) puts the far patient at our site, first
    in name order: the search answers from the wall and still fills the page."""
    far = world.patients["far"]
    PatientName.objects.create(patient=far, site=world.own, kind="naissance", key="MARTIN",
                               phonetic="MARTIN")
    ours = make_patient("MARTINEAU", [world.own])
    found = run(world, "martin", limit=1)
    assert found.patients == [ours]
    assert far not in run(world, "martin").patients


def test_it_finds_by_identifier_within_the_wall_only(world):
    far = world.patients["far"]
    far.ipp = "IPP-FAR-1"
    far.save()
    assert run(world, "IPP-FAR-1").patients == []
    own = world.patients["own"]
    own.ipp = "IPP-OWN-1"
    own.save()
    assert run(world, "IPP-OWN-1").patients == [own]


def test_it_needs_every_word_to_match(world):
    make_patient("LEFEVRE", [world.own], given="Bruno", sex="M")
    assert [p.first_birth_given_name for p in run(world, "lef bruno").patients] == ["Bruno"]
    assert run(world, "lefevre jules").patients == []
