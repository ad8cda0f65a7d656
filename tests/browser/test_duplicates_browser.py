"""The site referent's duplicate review in a real browser: the queue, the comparison of two
records, the merge, then its undoing from the history. Each step leaves a screenshot."""

from __future__ import annotations

import re

import pytest

from bamara.identity.models import CandidateStatus, DuplicateCandidate, Merge
from bamara.records.models import Patient
from tests.factories import make_patient, make_world
from tests.identity.duplicates import candidate_for


@pytest.fixture
def app(live_server, transactional_db):
    world = make_world()
    # LEFEVRE Léa at the own site, typed again at the sibling site with a sound-alike name.
    other = make_patient("LEFEBVRE", [world.sibling], born="2015-12-03")
    candidate = candidate_for(world, "own", other)
    return world, live_server.url, candidate, other


def test_it_merges_a_pair_and_undoes_the_merge(app, new_page, shots, log_in):
    world, base, candidate, other = app
    kept = world.patients["own"]
    page = new_page("doublons")
    log_in(page, base, world.users["referent"])

    page.get_by_role("link", name="Doublons").first.click()
    page.wait_for_url(re.compile("/doublons/"))
    queue = page.locator("main").inner_text()
    assert "LEFEVRE" in queue and "LEFEBVRE" in queue
    shots(page, "file")

    page.get_by_role("link", name="Examiner").first.click()
    page.wait_for_url(re.compile(f"/doublons/{candidate.pk}/"))
    body = page.locator("main").inner_text()
    assert "S9002" in body and "586" not in body  # identity only, no medical data
    shots(page, "comparaison")
    side = "A" if candidate.patient_a == kept.pk else "B"
    page.get_by_text(f"Conserver le dossier {side}").click()  # the DSFR label covers its radio
    assert page.get_by_label(f"Conserver le dossier {side}").is_checked()
    page.get_by_role("button", name="Fusionner les deux dossiers").click()
    page.wait_for_url(re.compile("/fusions/\\d+/"))
    assert "Dossiers fusionnés" in page.locator("body").inner_text()
    shots(page, "fusion")
    assert not Patient.objects.filter(pk=other.pk).exists()
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == CandidateStatus.MERGED
    assert set(kept.care_episodes.values_list("site__code", flat=True)) == {"S9001", "S9002"}

    page.get_by_role("button", name="Annuler la fusion").click()
    page.wait_for_url(re.compile("/fusions/$"))
    assert "La fusion est annulée" in page.locator("body").inner_text()
    shots(page, "defusion")
    assert Patient.objects.filter(pk=other.pk, birth_name="LEFEBVRE").exists()
    assert set(kept.care_episodes.values_list("site__code", flat=True)) == {"S9001"}
    assert Merge.objects.get().unmerged_at is not None
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == CandidateStatus.PENDING
