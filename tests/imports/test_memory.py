"""A dry run keeps at most one batch of rows in memory: per-row results and what later rows
look up (source ids, identities, IPPs) go to its scratch file and are read back from it."""

from __future__ import annotations

import gc

from bamara.imports import fakes
from bamara.imports import mapping as mappings
from bamara.imports.engine import Importer, RowResult
from bamara.imports.models import ImportRow, Outcome
from bamara.imports.service import import_file, start_run
from bamara.imports.transform import Parsed
from tests.imports.test_engine import ROW, write
from tests.imports.test_faults import SITES


def export(tmp_path, codes, patients: int):
    active, inactive = codes
    path = tmp_path / "cemara.csv"
    fakes.generate(path, patients, sites=SITES, active_codes=active, inactive_codes=inactive,
                   rate=0.05, seed=5)
    return path


def dry_run(path, batch_size: int, watch, workers: int = 0) -> Importer:
    """A dry run calling ``watch(importer)`` after every batch."""
    mapping = mappings.load("cemara")
    run = start_run(path, mapping, commit=False)
    importer = Importer(run, mapping, path, commit=False, batch_size=batch_size, workers=workers)
    importer.progress = lambda _rows: watch(importer)
    importer.execute()
    return importer


def alive(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def containers(importer: Importer) -> int:
    """Entries of the importer's own dicts, lists and sets (the site directory aside)."""
    held = [v for k, v in vars(importer).items() if k not in ("sites", "allowed")]
    held += [importer.summary.results]
    return sum(len(v) for v in held if isinstance(v, (dict, list, set)))


def test_it_holds_no_more_rows_than_one_batch_during_a_dry_run(world, orphanet_codes, tmp_path):
    path = export(tmp_path, orphanet_codes, 120)
    counts: list[tuple[int, int]] = []
    dry_run(path, 10, lambda _importer: counts.append((alive(Parsed), alive(RowResult))))
    assert len(counts) > 10
    # The batch's rows, plus the transformer's own scratch row.
    assert max(parsed for parsed, _ in counts) <= 10 + 1
    assert max(results for _, results in counts) == 0


def test_it_keeps_the_importers_lookups_the_same_size_whatever_the_rows(world, orphanet_codes,
                                                                        tmp_path):
    path = export(tmp_path, orphanet_codes, 120)
    sizes: list[int] = []
    dry_run(path, 10, lambda importer: sizes.append(containers(importer)))
    assert len(sizes) > 10 and sizes[-1] == sizes[0]


def test_it_reads_the_dry_run_results_back_in_row_order_each_time(world, orphanet_codes, tmp_path):
    path = export(tmp_path, orphanet_codes, 60)
    _run, summary = import_file(path, "cemara", commit=False, batch_size=7)
    numbers = [r.number for r in summary.results]
    assert numbers == sorted(numbers) and len(numbers) == len(summary.results) == \
        summary.counts["read"]
    assert [r.number for r in summary.results] == numbers


def test_it_drops_the_results_when_the_summary_is_closed(world, orphanet_codes, tmp_path):
    _run, summary = import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=False)
    summary.close()
    assert list(summary.results) == [] and summary.scratch is None


def test_it_reports_the_same_outcomes_and_messages_in_a_dry_run_as_on_commit(world, orphanet_codes,
                                                                             tmp_path):
    path = export(tmp_path, orphanet_codes, 200)
    _dry, summary = import_file(path, "cemara", commit=False)
    dry = [(r.number, r.key, r.outcome, [list(vars(m).values()) for m in r.messages])
           for r in summary.results]
    run, _ = import_file(path, "cemara", commit=True)
    committed = list(ImportRow.objects.filter(run=run).order_by("number")
                     .values_list("number", "record_key", "outcome", "messages"))
    # A committed row has no record key when rejected; the dry run reports it.
    dry = [(n, k if o != Outcome.REJECTED else "", o, m) for n, k, o, m in dry]
    assert {o for _, _, o, _ in dry} >= {Outcome.CREATED, Outcome.FEDERATED, Outcome.REJECTED}
    assert dry == [(n, k, o, m) for n, k, o, m in committed]


def test_it_remembers_earlier_batches_in_a_dry_run(world, orphanet_codes, tmp_path):
    rows = [ROW,
            ROW | {"PRENOM": "Léonie"},  # the same source id, other content
            ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"},  # same identity, same hospital
            ROW | {"ID_PATIENT": "C3", "NOM_NAISSANCE": "ROUX"}]  # the IPP of row 2
    _run, summary = import_file(write(tmp_path / "a.csv", rows), "cemara", commit=False,
                                batch_size=1)
    found = [(r.outcome, [m.code for m in r.messages if m.level != "avertissement"])
             for r in summary.results]
    assert found == [(Outcome.CREATED, []),
                     (Outcome.REJECTED, ["identifiant_source_repete"]),
                     (Outcome.FEDERATED, ["doublon_federe"]),
                     (Outcome.REJECTED, ["ipp_conflit"])]


def test_it_writes_every_row_and_message_of_a_dry_run_into_the_report(world, orphanet_codes,
                                                                      tmp_path):
    from openpyxl import load_workbook

    path = export(tmp_path, orphanet_codes, 60)
    _run, summary = import_file(path, "cemara", commit=False, batch_size=7,
                                report=str(tmp_path / "rapport.xlsx"))
    book = load_workbook(tmp_path / "rapport.xlsx", read_only=True)
    lines = [row[0] for row in book["Lignes"].iter_rows(min_row=2, values_only=True)]
    problems = [row[:4] for row in book["Anomalies"].iter_rows(min_row=2, values_only=True)]
    assert lines == [r.number for r in summary.results] and len(lines) == summary.counts["read"]
    assert problems == [(r.number, m.item, m.level, m.code) for r in summary.results
                        for m in r.messages]
    assert problems  # the export has faults
