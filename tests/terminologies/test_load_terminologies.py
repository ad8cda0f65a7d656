from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bamara.terminologies import search, sources
from bamara.terminologies.models import (
    Cim10Code,
    Commune,
    Country,
    FinessEstablishment,
    HpoTerm,
    OrphaConcept,
    TerminologyRelease,
)
from tests.terminologies.samples import ORPHA_CODES

pytestmark = pytest.mark.django_db


def test_it_loads_every_terminology_and_records_each_release(all_loaded):
    assert OrphaConcept.objects.count() == ORPHA_CODES
    assert HpoTerm.objects.count() == 19484
    assert Cim10Code.objects.exists()
    assert Commune.objects.count() == 37006
    assert Country.objects.count() == 249
    assert FinessEstablishment.objects.count() >= 5368
    current = TerminologyRelease.objects.filter(is_current=True)
    assert set(current.values_list("terminology", flat=True)) == {
        "orphanet",
        "hpo",
        "cim10",
        "geo",
        "countries",
        "finess",
    }
    assert all(len(r.sha256) == 64 and r.counts for r in current)
    assert search.communes("75115")[0].label == "Paris 15e Arrondissement"


def test_it_does_nothing_the_second_time(all_loaded):
    out = StringIO()
    call_command("load_terminologies", stdout=out)
    assert out.getvalue().count("déjà chargé") == 6
    assert TerminologyRelease.objects.filter(is_current=True).count() == 6


def test_it_falls_back_to_the_bundled_files_without_shared_data(settings, tmp_path):
    settings.SHARED_DIR = tmp_path / "absent"
    assert (
        sources.orphanet().bundled
        and sources.orphanet()["pack"] == sources.BUNDLED_DIR / "orphanet"
    )
    assert sources.finess()["finess"] is None  # the 2025 list is not redistributable
    with pytest.raises(
        CommandError,
        match="Fichiers complets introuvables pour : orphanet, hpo, cim10, geo, finess",
    ):
        call_command("load_terminologies", full=True)


@pytest.mark.shared
def test_it_uses_the_shared_files_when_present(shared_data):
    assert not sources.orphanet().bundled
    assert sources.orphanet()["pack"].name == "Orphanet_Nomenclature_Pack_EN_2023.tar.xz"
    assert sources.orphanet(force_bundled=True).bundled
    assert sources.cim10()["codes"].name == "cim10_fr_atih_2021.tsv.gz"
