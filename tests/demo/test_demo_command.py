"""The `demo_data` and `load_filieres` commands, and the demo accounts."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bamara.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_accounts
from bamara.organisations.management.commands.load_filieres import read_filieres
from bamara.organisations.models import (
    Filiere,
    FiliereReferent,
    Hospital,
    HospitalManager,
    SiteMembership,
    SiteRole,
    User,
)
from bamara.records.models import Patient, Source

from .conftest import requires_value_sets

pytestmark = [pytest.mark.django_db]
ARGS = ["--seed", "5", "--as-of", "2026-11-27", "--no-progress", "--skip-indexing"]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("demo_data", *args, *ARGS, stdout=out)
    return out.getvalue()


def test_it_loads_the_23_filieres_idempotently() -> None:
    call_command("load_filieres", stdout=StringIO())
    call_command("load_filieres", stdout=StringIO())
    assert Filiere.objects.count() == 23 == len(read_filieres())
    for acronym in ("FIMARAD", "FILFOIE", "FILNEMUS", "FILSLAN", "Muco-CFTR", "AnDDI-Rares"):
        assert Filiere.objects.filter(acronym=acronym).exists()


@requires_value_sets
def test_it_refuses_to_run_twice_without_append_or_reset() -> None:
    _run("--patients", "20")
    with pytest.raises(CommandError, match="déjà présentes"):
        _run("--patients", "20")
    _run("--patients", "20", "--append")
    assert Patient.objects.filter(source=Source.DEMO).count() == 40


@requires_value_sets
def test_it_resets_demo_rows_only() -> None:
    _run("--patients", "30")
    hospital = Hospital.objects.get(finess_et="750100208")
    real = Patient.objects.create(hospital=hospital, birth_name="REEL", birth_date=dt.date(1990, 5, 1))
    _run("--patients", "10", "--reset")
    assert Patient.objects.filter(source=Source.DEMO).count() == 10
    assert Patient.objects.filter(pk=real.pk).exists()


@requires_value_sets
def test_it_can_restrict_the_load_to_some_sites() -> None:
    _run("--patients", "40", "--sites", "S0003", "S0017")
    sites = set(Patient.objects.values_list("care_episodes__site__code", flat=True))
    assert sites == {"S0003", "S0017"}
    with pytest.raises(CommandError, match="inconnu"):
        _run("--patients", "5", "--append", "--sites", "S9999")


@requires_value_sets
def test_it_prints_the_demo_accounts_and_password() -> None:
    out = _run("--patients", "0")
    assert DEMO_PASSWORD in out
    for email, _ in DEMO_ACCOUNTS:
        assert email in out


@requires_value_sets
def test_it_creates_one_demo_account_per_role() -> None:
    _run("--patients", "0")
    assert [email for email, _ in demo_accounts()] == [email for email, _ in DEMO_ACCOUNTS]
    users = {u.email: u for u in User.objects.filter(email__endswith="@demo.bamara.fr")}
    assert set(users) == {email for email, _ in DEMO_ACCOUNTS}
    assert all(u.check_password(DEMO_PASSWORD) and u.is_active for u in users.values())
    entry = SiteMembership.objects.filter(user=users["saisie@demo.bamara.fr"], role=SiteRole.DATA_ENTRY)
    assert entry.count() == 2
    assert SiteMembership.objects.filter(
        user=users["referent@demo.bamara.fr"], role=SiteRole.SITE_REFERENT
    ).exists()
    assert HospitalManager.objects.filter(
        user=users["gestionnaire@demo.bamara.fr"], hospital__finess_et="750100208"
    ).exists()
    assert FiliereReferent.objects.filter(
        user=users["filiere@demo.bamara.fr"], filiere__acronym="FIMARAD"
    ).exists()
    assert users["national@demo.bamara.fr"].is_national_team
    assert not users["national@demo.bamara.fr"].memberships.exists()
    assert users["admin@demo.bamara.fr"].is_superuser
    assert not users["saisie@demo.bamara.fr"].is_superuser
    # Running again refreshes rather than duplicates.
    _run("--patients", "0")
    assert User.objects.filter(email__endswith="@demo.bamara.fr").count() == len(DEMO_ACCOUNTS)
