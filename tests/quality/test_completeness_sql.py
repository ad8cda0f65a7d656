"""The site completeness computed in SQL agrees with the record page's (records.completeness)
on demo records: same totals per level, same missing count per item, same incomplete records."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import transaction
from django.test import override_settings

from bamara.organisations.models import Site
from bamara.quality import completeness as sql
from bamara.quality.snapshot import site_patients
from bamara.records.completeness import completeness
from tests.demo.conftest import FAST_HASHERS, requires_value_sets

pytestmark = requires_value_sets


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from bamara.demo.loader import load_demo

    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield load_demo(200, 11, as_of=dt.date(2026, 11, 27), progress=False)
        transaction.set_rollback(True)


def test_it_counts_each_site_as_the_record_page_does(demo, db):
    sites = [s for s in Site.objects.order_by("code") if site_patients(s).exists()]
    assert sites
    seen = Counter()
    for site in sites:
        patients = site_patients(site)
        per_record = {p.pk: completeness(p, sites=[site]) for p in patients}
        missing = Counter((m.item_id, m.level) for c in per_record.values() for m in c.missing)
        scorecard = sql.site_completeness(patients, site)
        assert scorecard.patients == len(per_record)
        assert scorecard.totals("mandatory") == (
            sum(c.mandatory_filled for c in per_record.values()),
            sum(c.mandatory_total for c in per_record.values()),
        ), site.code
        assert scorecard.totals("recommended") == (
            sum(c.recommended_filled for c in per_record.values()),
            sum(c.recommended_total for c in per_record.values()),
        ), site.code
        assert {(i.item_id, i.level): i.missing for i in scorecard.items if i.missing} == dict(missing), site.code
        incomplete = {pk for pk, c in per_record.items() if c.missing_mandatory}
        assert set(sql.missing_mandatory(patients, site).values_list("pk", flat=True)) == incomplete, site.code
        seen.update(complete=len(per_record) - len(incomplete), incomplete=len(incomplete))
    # The demo data has both kinds, so the comparison above means something.
    assert seen["complete"] > 0 and seen["incomplete"] > 0
