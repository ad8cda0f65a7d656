"""`bamara refresh_report_facts`: rebuilds the facts after bulk updates and precomputes the
instance's years, which the pages then show with their as-of time."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from bamara.accounts.testing import login_verified
from bamara.records.models import Patient
from bamara.reports import scopes
from bamara.reports.compute import Period, compute
from bamara.reports.models import Refresh, SitePatientFact, Snapshot
from tests.reports.conftest import act

pytestmark = pytest.mark.django_db
YEAR = Period.year(2025)


def refresh(*args: str) -> str:
    out = io.StringIO()
    call_command("refresh_report_facts", *args, verbosity=0, stdout=out)
    return out.getvalue()


def test_it_serves_the_instance_year_from_its_snapshot_with_the_same_figures(year):
    instance = scopes.resolve("national", scopes.NATIONAL_KEY)
    live = compute(instance, YEAR)
    assert live.as_of is None  # no snapshot yet: computed live
    assert "années de l'instance précalculées" in refresh()
    assert set(Snapshot.objects.values_list("start__year", flat=True)) == {2024, 2025, 2026}
    snap = compute(instance, YEAR)
    assert snap.as_of is not None
    for name in ("values", "by_status", "by_context", "monthly", "pyramid", "top_diagnoses"):
        assert getattr(snap, name) == getattr(live, name), name
        if name != "values":  # values are read by key; breakdowns are shown in dict order
            assert list(getattr(snap, name)) == list(getattr(live, name)), name  # same order
    assert snap.values["file_active"] == 8 and snap.values["activities"] == 15


def test_it_shows_the_as_of_time_and_keeps_the_snapshot_until_the_next_refresh(client, year):
    refresh("--years", "2025")
    act(Patient.objects.get(birth_name="IRIS"), year.far, "2025-11-11", "11429006")
    instance = scopes.resolve("national", scopes.NATIONAL_KEY)
    assert compute(instance, YEAR).values["activities"] == 15  # as of the refresh
    assert compute(instance, YEAR, precomputed=False).values["activities"] == 16
    login_verified(client, year.users["national"])
    html = client.get(reverse("reports:activity", args=["national", "france"]), {"annee": 2025}).content.decode()
    assert "Chiffres précalculés le" in html
    refresh("--skip-facts", "--years", "2025")
    assert compute(instance, YEAR).values["activities"] == 16
    # Other years and scopes are computed live.
    html = client.get(reverse("reports:activity", args=["site", "S9001"]), {"annee": 2025}).content.decode()
    assert "calculés à l" in html and "dernière reconstruction complète" in html


def test_it_rebuilds_facts_left_stale_by_a_queryset_update(year):
    Patient.objects.filter(birth_name="EPSILON").update(death_date="2025-03-01")  # no signal
    site = scopes.resolve("site", "S9001")
    assert compute(site, YEAR).values["deceased"] == 1  # stale until the refresh
    refresh("--years")
    assert compute(site, YEAR).values["deceased"] == 2
    assert Refresh.objects.filter(name="facts").exists()
    assert SitePatientFact.objects.count() == 13  # world's 3 patients, BETA twice, the 9 others


def test_it_refuses_a_bad_batch_size_or_year(year):
    with pytest.raises(CommandError, match="batch-size"):
        refresh("--batch-size", "0")
    with pytest.raises(CommandError, match="Année invalide"):
        refresh("--skip-facts", "--years", "1900")
