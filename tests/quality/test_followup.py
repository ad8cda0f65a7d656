"""The follow-up list queries on hand-built edges (tests/quality/conftest.py `edges`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bamara.organisations import access
from bamara.quality import followup
from bamara.records.fields import PartialDate
from tests.quality.conftest import FOETAL, NEONATAL, POSTNATAL, TODAY


def names(patients) -> set[str]:
    return {p.birth_name for p in patients}


def test_it_lists_patients_without_activity_for_more_than_n_months(world, edges):
    own = followup.inactive_since(access.visible_patients(world.users["saisie"], world.own), world.own, 12, TODAY)
    listed = names(own)
    assert {"UNJOURDEPLUS", "DEUXSITES", "JAMAISVU", "LEFEVRE"} <= listed
    assert not {"EXACTEMENT", "DECEDE", "RECENTINCLUS", "IMPASSEDECEDE"} & listed
    # Every other own patient still has its activity of 02/05/2024.
    assert own.count() == 12
    # Never seen at the site first, then the oldest activity.
    assert own[0].birth_name == "JAMAISVU" and own[0].last_activity is None
    assert own.last().birth_name == "UNJOURDEPLUS"


def test_it_counts_only_the_activities_of_the_site(world, edges):
    sibling = followup.inactive_since(access.visible_patients(world.users["voisin"], world.sibling), world.sibling,
                                      12, TODAY)
    # DEUXSITES was seen at the sibling site on 01/10/2026; VOISINOBSOLETE and DUPONT on 02/05/2024.
    assert names(sibling) == {"DUPONT", "VOISINOBSOLETE"}
    assert names(followup.inactive_since(access.visible_patients(world.users["voisin"], world.sibling),
                                         world.sibling, 36, TODAY)) == set()


def test_it_lists_diagnostic_dead_ends_more_than_two_years_after_first_signs(world, edges):
    found = followup.dead_ends(access.visible_patients(world.users["saisie"], world.own), TODAY)
    by_pk = {edges[name].pk: name for name in edges}
    assert [by_pk.get(d.patient_id) for d in found] == ["ANCIENCODE", "MOISSEUL", "DEUXANSUNJOUR"]
    assert found[0].status_code == "GEN-034"
    assert found[2].onset_latest == dt.date(2024, 11, 27)


def test_it_does_not_show_another_sites_dead_ends(world, edges):
    assert followup.dead_ends(access.visible_patients(world.users["lointain"], world.far), TODAY) == []


def test_it_dates_first_signs_at_their_latest(db):
    snomed = "2.16.840.1.113883.6.96"
    latest = followup.onset_latest
    assert latest(PartialDate(2024), FOETAL, snomed, None, None) == dt.date(2024, 12, 31)
    assert latest(PartialDate(2024, 2, 10), NEONATAL, snomed, None, None) == dt.date(2024, 3, 9)
    assert latest(PartialDate(2020, 1, 31), POSTNATAL, snomed, Decimal(1), "mo") == dt.date(2020, 3, 30)
    assert latest(PartialDate(2020, 5, 4), POSTNATAL, snomed, Decimal(3), "a") == dt.date(2024, 5, 3)
    assert latest(PartialDate(2020, 5, 4), POSTNATAL, snomed, Decimal("1.5"), "a") == dt.date(2021, 12, 3)  # 18.12 months, rounded up
    assert latest(PartialDate(2020, 5, 4), POSTNATAL, snomed, None, None) is None
    assert latest(PartialDate(2020, 5, 4), "303113008", snomed, None, None) is None  # post-mortem
    assert latest(None, FOETAL, snomed, None, None) is None
    assert latest(PartialDate(2020), "bogus", snomed, None, None) is None


def test_it_lists_records_with_inactive_orpha_codes_and_their_replacement(world, edges, orphanet):
    patients = access.visible_patients(world.users["saisie"], world.own)
    listed = list(followup.with_inactive_codes(patients))
    assert names(listed) == {"OBSOLETE", "SIGNEINACTIF"}
    details = followup.inactive_code_details([p.pk for p in listed])
    obsolete = details[edges["OBSOLETE"].pk]
    assert [(d.where, d.code) for d in obsolete] == [("diagnostic", 166068)]
    assert [code for code, _name in obsolete[0].replacements] == [166063]
    assert obsolete[0].replacements[0][1]  # the French name of the replacement
    assert [(d.where, d.code) for d in details[edges["SIGNEINACTIF"].pk]] == [("description clinique", 166068)]
    sibling = access.visible_patients(world.users["voisin"], world.sibling)
    assert names(followup.with_inactive_codes(sibling)) == {"VOISINOBSOLETE"}


def test_it_finds_an_inactive_cause_of_death(world, edges, orphanet):
    patient = edges["DECEDE"]
    patient.death_cause_orpha = 166068
    patient.save()
    patients = access.visible_patients(world.users["saisie"], world.own)
    assert "DECEDE" in names(followup.with_inactive_codes(patients))
    assert followup.inactive_code_details([patient.pk])[patient.pk][0].where == "cause du décès"
