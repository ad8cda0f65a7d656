"""Helpers for the duplicate-review tests (and the access matrix): a second record of a world
patient at the same site, a candidate pair, a merge."""

from __future__ import annotations

from bamara.identity.merge import merge
from bamara.identity.models import DuplicateCandidate, Merge
from bamara.records.models import Patient
from tests.factories import World, make_patient

SITE_OF = {"own": "own", "sibling": "sibling", "far": "far"}


def second_record(world: World, target: str, name: str = "HOMONYME") -> Patient:
    return make_patient(name, [getattr(world, SITE_OF[target])])


def candidate_for(world: World, target: str, other: Patient | None = None) -> DuplicateCandidate:
    patient = world.patients[target]
    other = other or second_record(world, target)
    low, high = sorted((patient.pk, other.pk))
    return DuplicateCandidate.objects.create(hospital=patient.hospital, patient_a=low, patient_b=high,
                                             probability=0.97, reasons=["nom : identique"])


def candidate_kwargs(world: World, target: str) -> dict:
    return {"pk": candidate_for(world, target).pk}


def merge_for(world: World, target: str) -> Merge:
    return merge(world.patients[target], second_record(world, target), None)


def merge_kwargs(world: World, target: str) -> dict:
    return {"pk": merge_for(world, target).pk}
