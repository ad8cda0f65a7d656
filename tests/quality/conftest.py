"""Fixtures of the quality tests: the real Orphanet (bundled 2023 extract, or shared/) loaded
once per session, and hand-built patients around the edges of each follow-up list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from bamara.records.models import Activity, ClinicalSign, Diagnosis, Patient
from bamara.sdm import oids
from bamara.terminologies.models import OrphaConcept
from tests.factories import World, make_patient

TODAY = dt.date(2026, 11, 28)
IN_PROGRESS = ("385651009", oids.SNOMED_CT)
UNDETERMINED = ("42425007", oids.SNOMED_CT)
FOETAL, NEONATAL, POSTNATAL = "303112003", "255407002", "767023003"
AGE_UNDETERMINED = "373068000"


@pytest.fixture(scope="session")
def _orphanet_session(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        if not OrphaConcept.objects.filter(code=166068).exists():
            call_command("load_orphanet", verbosity=0)


@pytest.fixture
def orphanet(_orphanet_session, db) -> None:
    # A transactional test elsewhere may have flushed the tables since: load again.
    if not OrphaConcept.objects.filter(code=166068).exists():
        call_command("load_orphanet", verbosity=0, force=True)


def last_activity(patient: Patient, site, day: dt.date | None) -> None:
    """Set the patient's activity at `site` on `day` (None: no activity there)."""
    if day is None:
        Activity.objects.filter(patient=patient, site=site).delete()
    else:
        Activity.objects.filter(patient=patient, site=site).update(date=day)


def diagnose(patient: Patient, status: tuple[str, str], onset: str, value: int | None = None,
             unit: str | None = None, disease: str = "") -> Diagnosis:
    diagnosis = patient.diagnoses.get()
    diagnosis.status_code, diagnosis.status_system = status
    diagnosis.onset_age_code, diagnosis.onset_age_system = onset, oids.SNOMED_CT
    diagnosis.onset_age_value, diagnosis.onset_age_unit = value, unit or ""
    diagnosis.disease_code = disease
    diagnosis.disease_system = oids.ORPHA if disease else ""
    diagnosis.save()
    return diagnosis


@pytest.fixture
def edges(world: World) -> dict[str, Patient]:
    """Patients at the own site (S9001) and sibling site (S9002), named after what they test."""
    own, sibling = world.own, world.sibling
    p: dict[str, Patient] = {}

    def patient(name: str, sites=None, born: str = "2015-03-12") -> Patient:
        p[name] = make_patient(name, sites or [own], born=born)
        return p[name]

    # -- without activity for more than 12 months (cut-off 28/11/2025) --
    last_activity(patient("EXACTEMENT"), own, dt.date(2025, 11, 28))
    last_activity(patient("UNJOURDEPLUS"), own, dt.date(2025, 11, 27))
    deceased = patient("DECEDE")
    deceased.deceased = True
    deceased.save()
    two = patient("DEUXSITES", [own, sibling])  # 02/05/2024 at own, recent at the sibling site
    last_activity(two, sibling, dt.date(2026, 10, 1))
    last_activity(patient("RECENTINCLUS"), own, None)
    p["RECENTINCLUS"].care_episodes.update(inclusion_date=dt.date(2026, 6, 1))
    last_activity(patient("JAMAISVU"), own, None)  # included 15/01/2020

    # -- diagnostic dead-end (two years before: 28/11/2024) --
    diagnose(patient("DEUXANS", born="2024-11-28"), UNDETERMINED, FOETAL)
    diagnose(patient("DEUXANSUNJOUR", born="2024-11-27"), IN_PROGRESS, FOETAL)
    diagnose(patient("ANNEESEULE", born="2024"), IN_PROGRESS, NEONATAL)
    diagnose(patient("MOISSEUL", born="2022-10"), UNDETERMINED, POSTNATAL, 1, "a")
    diagnose(patient("AGEINCONNU", born="2010"), UNDETERMINED, AGE_UNDETERMINED)
    dead = patient("IMPASSEDECEDE", born="2010-01-01")
    diagnose(dead, UNDETERMINED, FOETAL)
    dead.deceased = True
    dead.save()
    diagnose(patient("ANCIENCODE"), ("GEN-034", oids.TA_ASIP), NEONATAL)

    # -- inactive ORPHA codes --
    diagnose(patient("OBSOLETE"), ("255545003", oids.SNOMED_CT), NEONATAL, disease="166068")
    sign = patient("SIGNEINACTIF").diagnoses.get()
    ClinicalSign.objects.create(diagnosis=sign, sign_code="166068", sign_system=oids.ORPHA)
    diagnose(patient("VOISINOBSOLETE", [sibling]), ("255545003", oids.SNOMED_CT), NEONATAL, disease="166068")
    return p
