"""The scorecard of a site: live figures for small sites, the last snapshot above LIVE_LIMIT,
plausibility by rule and the trend from the snapshots; no names."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bamara.audit.models import AuditEvent
from bamara.quality import views
from bamara.quality.models import QualitySnapshot
from tests.html import content_without_tokens
from tests.quality.conftest import TODAY


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


def snapshot(site, day: dt.date, **values) -> QualitySnapshot:
    return QualitySnapshot.objects.create(site=site, taken_on=day, **values)


def test_it_shows_live_counts_and_completeness_per_item(client, world, edges, orphanet):
    client.force_login(world.users["saisie"])
    response = client.get(reverse("quality:scorecard", args=["S9001"]))
    assert response.status_code == 200
    assert response.context["live"] is True
    assert response.context["counts"] == {"missing": response.context["counts"]["missing"], "inactive_codes": 2,
                                          "dead_end": 3, "inactive": 12, "to_fix": 0}
    html = response.content.decode()
    assert "Date de naissance" in html and "Statut actuel du diagnostic" in html
    assert reverse("quality:dead_end", args=["S9001"]) in html
    for name in ("LEFEVRE", "OBSOLETE", "MOISSEUL"):
        assert name not in html  # aggregates only
    assert not AuditEvent.objects.exists()


def test_it_labels_the_items_in_english_when_english_is_chosen(client, world, edges):
    client.force_login(world.users["saisie"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(reverse("quality:scorecard", args=["S9001"])).content.decode()
    assert "Date of birth" in html and "Current diagnostic status (assertion)" in html
    assert "Date de naissance" not in html


def test_it_shows_the_trend_and_the_rules_of_the_last_snapshot(client, world, edges):
    snapshot(world.own, dt.date(2026, 11, 20), patients=15, mandatory_filled=50, mandatory_total=100, errors=9)
    snapshot(world.own, dt.date(2026, 11, 27), patients=16, mandatory_filled=60, mandatory_total=100, errors=4,
             warnings=7, records_with_errors=3, rules={"death_before_birth": [4, 3], "orpha_inactive": [2, 2]})
    snapshot(world.sibling, dt.date(2026, 11, 27), patients=2, errors=99)
    client.force_login(world.users["referent"])
    response = client.get(reverse("quality:scorecard", args=["S9001"]))
    assert [s.taken_on.day for s in response.context["snapshots"]] == [27, 20]
    assert [r["id"] for r in response.context["rules"]] == ["death_before_birth", "orpha_inactive"]
    html = content_without_tokens(response)
    assert "60 %" in html and "50 %" in html
    assert "La date de décès est antérieure à la date de naissance." in html
    assert "99" not in html


def test_it_reads_a_large_site_from_its_last_snapshot(client, world, edges, monkeypatch):
    monkeypatch.setattr(views, "LIVE_LIMIT", 3)
    snapshot(world.own, dt.date(2026, 11, 27), patients=16, mandatory_filled=60, mandatory_total=80,
             records_missing_mandatory=11, records_with_inactive_codes=2, dead_ends=3, inactive_12_months=12,
             items=[["date_naissance", "mandatory", 15, 16], ["ins", "recommended", 4, 16]])
    client.force_login(world.users["saisie"])
    response = client.get(reverse("quality:scorecard", args=["S9001"]))
    assert response.context["live"] is False
    assert response.context["counts"]["missing"] == 11
    assert response.context["mandatory_percent"] == 93  # 15/16 from the snapshot's items
    assert [(i.item_id, i.percent) for i in response.context["items"]] == [("date_naissance", 93), ("ins", 25)]
    assert "instantané du 27/11/2026" in response.content.decode()


def test_it_answers_404_for_another_site_and_redirects_the_index(client, world):
    client.force_login(world.users["saisie"])
    assert client.get(reverse("quality:scorecard", args=["S9002"])).status_code == 404
    assert client.get(reverse("quality:scorecard", args=["S0000"])).status_code == 404
    index = client.get(reverse("quality:index"))
    assert index.status_code == 302 and index.url == reverse("quality:scorecard", args=["S9001"])
    client.force_login(world.users["filiere"])
    response = client.get(reverse("quality:index"))
    assert response.status_code == 200 and "Vous n'êtes rattaché(e) à aucun site" in response.content.decode()
