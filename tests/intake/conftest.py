"""Fixtures of the connected-mode tests: the hospital of the official ANS examples and its
rare-disease site S001, another hospital, and helpers to ingest and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from bamara.intake import exporter, service
from bamara.intake.models import Channel
from bamara.organisations.models import Filiere, Hospital, Site, SiteKind
from bamara.records.models import Patient

EXAMPLES = Path(settings.SHARED_DIR) / "data" / "ans-sdm-mr" / "examples"
NEWBORN = "SDM-MR_2024.01_nouveau-ne.xml"
PREGNANT = "SDM-MR_2024.01_patiente-enceinte.xml"
AFTER_PREGNANCY = "SDM-MR_2024.01_patiente-post-grossesse.xml"
V2021 = "SDM-MR_2021.01.xml"
V2022 = "SDM-MR_2022.01.xml"
ALL_EXAMPLES = (V2021, V2022, NEWBORN, PREGNANT, AFTER_PREGNANCY)

requires_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="exemples ANS absents (../shared)")


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@pytest.fixture
def debre(db) -> Hospital:
    """The custodian of the 2024.01 examples (FINESS ET 750803454) with site S001, and a
    second site of another hospital."""
    filiere = Filiere.objects.create(acronym="DEFISCIENCE", name="Anomalies du développement")
    hospital = Hospital.objects.create(finess_et="750803454", finess_ej="750712184", name="GHU APHP Nord - Robert Debré")
    other = Hospital.objects.create(finess_et="690783154", finess_ej="690781810", name="HFME Lyon")
    Site.objects.create(code="S001", name="ADIdF", kind=SiteKind.CRMR_COORDINATING, filiere=filiere, hospital=hospital)
    Site.objects.create(code="S002", name="Centre lyonnais", kind=SiteKind.CRMR_COORDINATING, filiere=filiere, hospital=other)
    return hospital


@pytest.fixture
def other_hospital(debre) -> Hospital:
    return Hospital.objects.get(finess_et="690783154")


def ingest(data: bytes, hospital: Hospital, channel: str = Channel.CLI):
    acks = service.receive(data, hospital=hospital, channel=channel)
    assert len(acks) == 1
    return acks[0]


def record(ack) -> Patient:
    return exporter.patients_for_export(Patient.objects.filter(uuid=ack.patient)).get()


def export(patient: Patient, **options) -> bytes:
    return exporter.export_patient(exporter.patients_for_export(Patient.objects.filter(pk=patient.pk)).get(), **options)


def errors(ack) -> list[str]:
    return [m.code for m in ack.messages if m.level == "error"]
