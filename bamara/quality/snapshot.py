"""Take the dated scorecard snapshot of a site: completeness (SQL aggregates), plausibility
(every record of the site through ``validate()``), inactive ORPHA codes.

Validation is Python (51 rules), so it runs here, in the daily command, and not in a page:
the scorecard shows the last snapshot's plausibility figures and the records it flagged.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from bamara.audit import trail
from bamara.audit.models import Action
from bamara.organisations.models import Site
from bamara.records.models import CareEpisode, Patient
from bamara.records.validation import DbTerminologies, records_from_patients, validate

from . import completeness, followup
from .models import QualitySnapshot, RecordIssue


def site_patients(site: Site) -> QuerySet[Patient]:
    """The records followed at the site (what its members see, through access.visible_patients)."""
    return Patient.objects.filter(Exists(CareEpisode.objects.filter(patient=OuterRef("pk"), site=site)))


def take(site: Site, today: dt.date | None = None, *, terminologies: DbTerminologies | None = None,
         progress: Callable[[int], None] | None = None, chunk_size: int = 500) -> QualitySnapshot:
    """Compute and store the snapshot of `site` for `today` (replacing one of the same day)."""
    today = today or dt.date.today()
    started = time.monotonic()
    patients = site_patients(site)
    scorecard = completeness.site_completeness(patients, site)
    mandatory = scorecard.totals("mandatory")
    recommended = scorecard.totals("recommended")
    terminologies = terminologies or DbTerminologies()
    issues: list[RecordIssue] = []
    messages_by_rule: Counter[str] = Counter()
    records_by_rule: Counter[str] = Counter()
    errors = warnings = with_errors = with_warnings = 0
    for patient, data in records_from_patients(patients.order_by("pk"), chunk_size=chunk_size):
        found = validate(data, today=today, terminologies=terminologies)
        if progress is not None:
            progress(1)
        if not found:
            continue
        record_errors = sum(1 for m in found if m.level == "error")
        record_warnings = len(found) - record_errors
        errors += record_errors
        warnings += record_warnings
        with_errors += bool(record_errors)
        with_warnings += bool(record_warnings)
        rules = Counter(m.code for m in found)
        messages_by_rule.update(rules)
        records_by_rule.update(rules.keys())
        issues.append(RecordIssue(site=site, patient_id=patient.pk, checked_on=today, errors=record_errors,
                                  warnings=record_warnings, rules=sorted(rules)))
    values = {
        "patients": scorecard.patients,
        "mandatory_filled": mandatory[0], "mandatory_total": mandatory[1],
        "recommended_filled": recommended[0], "recommended_total": recommended[1],
        "records_missing_mandatory": completeness.missing_mandatory(patients, site).count(),
        "records_with_errors": with_errors, "records_with_warnings": with_warnings,
        "errors": errors, "warnings": warnings,
        "records_with_inactive_codes": followup.with_inactive_codes(patients).count(),
        "dead_ends": len(followup.dead_ends(patients, today)),
        "inactive_12_months": followup.inactive_since(patients, site, 12, today).count(),
        "items": [[i.item_id, i.level, i.filled, i.total] for i in scorecard.items],
        "rules": {rule: [count, records_by_rule[rule]] for rule, count in sorted(messages_by_rule.items())},
    }
    with transaction.atomic():
        RecordIssue.objects.filter(site=site).delete()
        RecordIssue.objects.bulk_create(issues, batch_size=2000)
        values["seconds"] = round(time.monotonic() - started, 2)
        snapshot, _created = QualitySnapshot.objects.update_or_create(site=site, taken_on=today, defaults=values)
        # A system process read every record of the site: one event says so.
        trail.record(None, Action.VIEW, obj=snapshot, channel="qualite",
                     detail=f"contrôle qualité du site {site.code} : {scorecard.patients} dossiers")
    return snapshot
