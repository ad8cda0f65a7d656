"""A record merged by a site referent stays merged when its source file is imported again:
the import keys of the merged record follow the kept one (identity.merge), and an unmerge
gives them back."""

from __future__ import annotations

from bamara.identity.merge import merge, unmerge
from bamara.imports import service
from bamara.imports.models import ImportedRecord, Outcome
from bamara.records.models import Patient

from .test_engine import ROW, write


def test_it_creates_nothing_again_when_a_merged_record_is_imported_again(world, orphanet_codes, tmp_path):
    # The same child typed twice in the legacy base, with a typo: two records.
    path = write(tmp_path / "a.csv", [ROW, ROW | {"ID_PATIENT": "C2", "IPP": "750000002", "NOM_NAISSANCE": "MOREAUX"}])
    service.import_file(path, "cemara", commit=True)
    kept, other = Patient.objects.get(birth_name="MOREAU"), Patient.objects.get(birth_name="MOREAUX")
    done = merge(kept, other, None)
    assert set(ImportedRecord.objects.values_list("patient_id", flat=True)) == {kept.pk}

    _, summary = service.import_file(path, "cemara", commit=True)
    assert summary.counts[Outcome.CREATED] == 0 and summary.counts[Outcome.UNCHANGED] == 2
    assert list(Patient.objects.filter(source="import").values_list("pk", flat=True)) == [kept.pk]

    unmerge(done, None)  # the re-import changed nothing: the merge can still be undone
    assert ImportedRecord.objects.get(key__endswith=":C2").patient_id == other.pk
    assert ImportedRecord.objects.get(key__endswith=":C1").patient_id == kept.pk
