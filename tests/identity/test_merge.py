"""Merging two records of one person, and undoing it exactly."""

from __future__ import annotations

import datetime as dt

import pytest

from bamara.audit.models import Action, AuditEvent
from bamara.identity.merge import (
    MergeError,
    closure,
    digest,
    dump,
    kept_record,
    merge,
    record_dump,
    unmerge,
)
from bamara.identity.models import CandidateStatus, DuplicateCandidate, FormerIdentifier, Merge
from bamara.records.models import (
    Activity,
    ActivityObjective,
    CareEpisode,
    ClinicalSign,
    Diagnosis,
    Foetus,
    Gene,
    GenomicVariant,
    Patient,
    PatientName,
    Pregnancy,
    Referral,
    Treatment,
)
from bamara.sdm import oids
from tests.factories import make_patient


@pytest.fixture
def pair(world):
    """LEFEVRE at the own site, and a second record of her at the own and sibling sites,
    with rows in many related tables."""
    kept = world.patients["own"]
    kept.ipp = "IPP-1"
    kept.save()
    other = make_patient("LEFEBVRE", [world.own, world.sibling], given="Léa", born="2015-12-03")
    other.ipp = "IPP-2"
    other.birth_commune = "75056"
    other.save()
    episode = other.care_episodes.get(site=world.own)
    Referral.objects.create(episode=episode, referred_by_code="X1", referred_by_system="1.2.3")
    diagnosis = other.diagnoses.get()
    ClinicalSign.objects.create(diagnosis=diagnosis, sign_code="HP:0002110", sign_system=oids.HPO)
    Gene.objects.create(diagnosis=diagnosis, gene_code="HGNC:1884", gene_system="2.16.840.1.113883.6.281",
                        symbol="CFTR")
    GenomicVariant.objects.create(patient=other, diagnosis=diagnosis, hgvs="NM_000492.4:c.1521_1523del")
    activity = other.activities.first()
    ActivityObjective.objects.create(activity=activity, objective_code="O1", objective_system="1.2")
    Treatment.objects.create(patient=other, label="ivacaftor")
    pregnancy = Pregnancy.objects.create(patient=other, foetus_count=1)
    Foetus.objects.create(pregnancy=pregnancy, mother=other, rank=1, local_id="F1")
    child = make_patient("LEFEBVRE", [world.own], given="Noé", born="2024-01-02", sex="M")
    child.mother = other
    child.save()
    FormerIdentifier.objects.create(patient=other, national_id="10000000000000000001", reason="test")
    kept.refresh_from_db()
    other.refresh_from_db()
    return kept, other, child


def test_it_moves_every_related_row_to_the_kept_record(pair, world):
    kept, other, child = pair
    merge(kept, other, world.users["referent"])
    assert not Patient.objects.filter(pk=other.pk).exists()
    assert set(kept.care_episodes.values_list("site__code", flat=True)) == {"S9001", "S9002"}
    # One episode per site: the other's referral moved to the kept record's episode.
    assert Referral.objects.get().episode.patient_id == kept.pk
    assert kept.diagnoses.count() == 2 and kept.activities.count() == 3
    assert ClinicalSign.objects.get().diagnosis.patient_id == kept.pk
    assert Gene.objects.get().diagnosis.patient_id == kept.pk
    assert GenomicVariant.objects.get().patient_id == kept.pk
    assert ActivityObjective.objects.get().activity.patient_id == kept.pk
    assert Treatment.objects.get().patient_id == kept.pk
    assert Foetus.objects.get().mother_id == kept.pk and Pregnancy.objects.get().patient_id == kept.pk
    child.refresh_from_db()
    assert child.mother_id == kept.pk
    kept.refresh_from_db()
    assert kept.ipp == "IPP-1" and kept.birth_commune == "75056"  # blank filled from the other
    # The name keys follow the sites now followed.
    assert set(PatientName.objects.filter(patient=kept).values_list("site__code", flat=True)) == {"S9001", "S9002"}


def test_it_keeps_the_other_records_identifiers(pair, world):
    kept, other, _ = pair
    row = merge(kept, other, world.users["referent"])
    assert (row.merged_ipp, row.merged_uuid, row.merged_national_id) == ("IPP-2", other.uuid, other.national_id)
    former = set(FormerIdentifier.objects.filter(patient=kept).values_list("national_id", flat=True))
    assert {other.national_id, "10000000000000000001"} <= former
    assert kept_record(kept.hospital_id, ipp="IPP-2") == kept.pk
    assert kept_record(kept.hospital_id, uuid=str(other.uuid)) == kept.pk
    assert kept_record(kept.hospital_id, ipp="unknown") is None


def test_it_audits_the_merge_and_the_unmerge_on_both_records(pair, world):
    kept, other, _ = pair
    user = world.users["referent"]
    row = merge(kept, other, user)
    events = AuditEvent.objects.filter(action=Action.MERGE)
    assert sorted(events.values_list("patient_id", flat=True)) == sorted([kept.pk, other.pk])
    assert {e.user_id for e in events} == {user.pk}
    unmerge(row, user)
    assert sorted(AuditEvent.objects.filter(action=Action.UNMERGE).values_list("patient_id", flat=True)) == \
        sorted([kept.pk, other.pk])


def test_it_restores_both_records_exactly(pair, world):
    kept, other, _child = pair
    before = record_dump([kept.pk, other.pk])
    assert len(before) > 25  # the patients and their rows in a dozen tables
    row = merge(kept, other, world.users["referent"])
    assert record_dump([kept.pk, other.pk]) != before
    unmerge(row, world.users["referent"])
    assert record_dump([kept.pk, other.pk]) == before
    row.refresh_from_db()
    assert row.unmerged_at is not None


def test_it_refuses_to_unmerge_a_record_changed_since(pair, world):
    kept, other, _ = pair
    row = merge(kept, other, world.users["referent"])
    Activity.objects.create(patient=kept, site=world.own, date=dt.date(2025, 1, 2),
                            context_code="11429006", context_system=oids.SNOMED_CT)
    with pytest.raises(MergeError, match="modifié depuis la fusion"):
        unmerge(row, world.users["referent"])
    unmerge(row, world.users["referent"], force=True)
    assert Patient.objects.filter(pk=other.pk).exists()
    with pytest.raises(MergeError, match="déjà été annulée"):
        unmerge(row, world.users["referent"])


def test_it_puts_the_candidate_back_in_the_queue_after_an_unmerge(pair, world):
    kept, other, _ = pair
    low, high = sorted((kept.pk, other.pk))
    candidate = DuplicateCandidate.objects.create(hospital=world.hospital, patient_a=low, patient_b=high,
                                                  probability=0.99)
    row = merge(kept, other, world.users["referent"], candidate=candidate)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.MERGED and candidate.decided_by == world.users["referent"]
    unmerge(row, world.users["referent"])
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PENDING


def test_it_refuses_records_of_two_hospitals_or_one_record_twice(world):
    with pytest.raises(MergeError, match="même établissement"):
        merge(world.patients["own"], world.patients["far"], world.users["referent"])
    with pytest.raises(MergeError, match="lui-même"):
        merge(world.patients["own"], world.patients["own"], world.users["referent"])
    assert not Merge.objects.exists()


def test_it_finds_every_row_of_a_record(pair):
    _kept, other, child = pair
    rows = closure([other])
    labels = {label for label, _ in rows}
    assert {"records.CareEpisode", "records.Referral", "records.Diagnosis", "records.ClinicalSign",
            "records.Gene", "records.GenomicVariant", "records.Activity", "records.ActivityObjective",
            "records.Treatment", "records.Pregnancy", "records.Foetus", "records.PatientName",
            "identity.FormerIdentifier"} <= labels
    # The child's row is there (its mother is repointed) but not the child's own rows.
    assert ("records.Patient", child.pk) in rows
    assert not any(label == "records.CareEpisode" and row.patient_id == child.pk
                   for (label, _), row in rows.items())
    assert CareEpisode.objects.filter(patient=child).exists()
    assert Diagnosis.objects.filter(patient=child).exists()


def test_it_resolves_a_one_to_one_conflict_and_restores_it(world):
    # Both records are the own record of a foetus entry (Foetus.record is one-to-one).
    mother = make_patient("MERE", [world.own], given="Anne", born="1990-02-02")
    pregnancy = Pregnancy.objects.create(patient=mother, foetus_count=2)
    kept, other = world.patients["own"], make_patient("LEFEVRE", [world.own])
    Foetus.objects.create(pregnancy=pregnancy, mother=mother, rank=1, record=kept)
    Foetus.objects.create(pregnancy=pregnancy, mother=mother, rank=2, record=other)
    before = record_dump([kept.pk, other.pk])
    row = merge(kept, other, None)
    assert Foetus.objects.get(rank=1).record_id == kept.pk
    assert Foetus.objects.get(rank=2).record_id is None  # the kept record's entry wins
    unmerge(row, None)
    assert record_dump([kept.pk, other.pk]) == before
    assert Foetus.objects.get(rank=2).record_id == other.pk


def test_it_refuses_to_unmerge_when_an_identifier_was_given_to_a_new_record(pair, world):
    kept, other, _child = pair
    row = merge(kept, other, world.users["referent"])
    newcomer = make_patient("NOUVEAU", [world.sibling])
    newcomer.ipp = "IPP-2"  # the merged record's IPP, reused
    newcomer.save()
    with pytest.raises(MergeError, match="défusion impossible"):
        unmerge(row, world.users["referent"], force=True)
    assert not Patient.objects.filter(pk=other.pk).exists()
    row.refresh_from_db()
    assert row.unmerged_at is None


def test_it_restores_timestamps_to_the_microsecond(pair, world):
    """A timestamp under a millisecond past the second (JSON's default keeps milliseconds)."""
    import datetime as dt

    kept, other, _child = pair
    stamp = dt.datetime(2026, 11, 29, 19, 58, 43, 500, tzinfo=dt.UTC)
    Foetus.objects.filter(mother=other).update(created_at=stamp, updated_at=stamp)
    before = record_dump([kept.pk, other.pk])
    unmerge(merge(kept, other, world.users["referent"]), world.users["referent"])
    assert record_dump([kept.pk, other.pk]) == before
    assert Foetus.objects.get(mother=other).created_at == stamp


def test_it_unmerges_a_merge_whose_digest_kept_milliseconds(pair, world):
    """Merges made before timestamps were kept to the microsecond stored such a digest."""
    kept, other, _child = pair
    row = merge(kept, other, world.users["referent"])
    row.after_digest = digest(dump(closure(list(Patient.objects.filter(pk=kept.pk))), exact=False))
    row.save(update_fields=["after_digest"])
    unmerge(row, world.users["referent"])
    assert Patient.objects.filter(pk=other.pk).exists()
