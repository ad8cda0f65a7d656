"""`bamara quality_snapshot`: one snapshot per site and day, the records to fix, audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bamara.audit.models import AuditEvent
from bamara.quality.models import QualitySnapshot, RecordIssue
from bamara.records.models import Patient


def run(*args: str) -> str:
    out = StringIO()
    call_command("quality_snapshot", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_records_the_scorecard_of_a_site(world, edges, orphanet):
    out = run("--site", "S9001", "--date", "2026-11-28")
    snapshot = QualitySnapshot.objects.get(site=world.own)
    assert snapshot.taken_on.isoformat() == "2026-11-28"
    own = Patient.objects.filter(care_episodes__site=world.own).count()
    assert snapshot.patients == own == 16
    assert snapshot.records_with_inactive_codes == 2
    assert snapshot.dead_ends == 3
    assert 0 < snapshot.mandatory_filled < snapshot.mandatory_total
    assert {row[0] for row in snapshot.items} >= {"date_naissance", "statut_diagnostic", "activite_date"}
    # The obsolete ORPHA:166068 is reported by validation too (rule orpha_inactive).
    assert snapshot.rules["orpha_inactive"][1] == 2
    issues = RecordIssue.objects.filter(site=world.own)
    assert sum(1 for i in issues if i.errors) == snapshot.records_with_errors
    assert sum(i.errors for i in issues) == snapshot.errors
    assert set(issues.get(patient=edges["OBSOLETE"]).rules) >= {"orpha_inactive"}
    assert "S9001 : 16 dossiers" in out
    event = AuditEvent.objects.get(channel="qualite")
    assert "S9001" in event.detail and event.user_id is None


def test_it_replaces_the_same_days_snapshot_and_keeps_the_trend(world, edges, orphanet):
    run("--site", "S9001", "--date", "2026-11-27")
    run("--site", "S9001", "--date", "2026-11-28")
    first_issues = RecordIssue.objects.filter(site=world.own).count()
    run("--site", "S9001", "--date", "2026-11-28")
    dates = QualitySnapshot.objects.filter(site=world.own).order_by("taken_on").values_list("taken_on", flat=True)
    assert [d.isoformat() for d in dates] == ["2026-11-27", "2026-11-28"]
    assert RecordIssue.objects.filter(site=world.own).count() == first_issues


def test_it_takes_every_active_site(world, orphanet):
    world.far.active = False
    world.far.save()
    run("--all", "--date", "2026-11-28")
    assert set(QualitySnapshot.objects.values_list("site__code", flat=True)) == {"S9001", "S9002"}


@pytest.mark.parametrize("args, message", [
    (["--site", "S0000"], "site(s) inconnu(s) : S0000"),
    (["--all", "--date", "28/11/2026"], "date invalide"),
])
def test_it_refuses_bad_arguments_in_french(world, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(*args)
    assert not QualitySnapshot.objects.exists()
