"""An import with worker processes (engine.Importer(workers=N)) reports and writes exactly what
the same import in one process does."""

from __future__ import annotations

import re
from concurrent.futures.process import BrokenProcessPool

import pytest
from django.db import connection, transaction

from bamara.identity import idmr
from bamara.imports import mapping as mappings
from bamara.imports import service, workers
from bamara.imports.engine import Parsed, _identity, _national_id, _patient_values, _text_array
from bamara.imports.models import Outcome
from bamara.imports.readers import Lines, ReadError, open_chunks, open_rows, read_rows
from bamara.imports.service import import_file
from bamara.imports.transform import Orphanet, Transformer
from bamara.records.fields import PartialDate
from bamara.records.models import Patient
from bamara.records.search import NAME_FIELDS, name_keys
from bamara.terminologies import orphanet
from bamara.terminologies.models import OrphaConcept
from tests.imports.test_engine import ROW, write
from tests.imports.test_memory import alive, dry_run, export


def report(summary) -> tuple:
    rows = [(r.number, r.key, r.outcome, [m.as_list() for m in r.messages], r.patient_id)
            for r in summary.results]
    return rows, dict(summary.counts), summary.pairs


def test_it_reports_the_same_rows_messages_and_duplicates_with_worker_processes(
        world, orphanet_codes, tmp_path):
    path = export(tmp_path, orphanet_codes, 300)
    _run, alone = import_file(path, "cemara", commit=False, batch_size=7, workers=0)
    _run, spread = import_file(path, "cemara", commit=False, batch_size=7, workers=2)
    assert report(spread) == report(alone)
    _rows, counts, pairs = report(spread)
    assert counts[Outcome.FEDERATED] and counts[Outcome.REJECTED] and counts["warnings"] and pairs


def test_it_remembers_earlier_batches_with_worker_processes(world, orphanet_codes, tmp_path):
    rows = [ROW,
            ROW | {"PRENOM": "Léonie"},  # the same source id, other content
            ROW | {"CENTRE": "S9002", "ID_PATIENT": "X9"},  # same identity, same hospital
            ROW | {"ID_PATIENT": "C3", "NOM_NAISSANCE": "ROUX"},  # the IPP of row 2
            ROW | {"CENTRE": "NOPE", "ID_PATIENT": "C4"}]  # unknown site: no identifier
    path = write(tmp_path / "a.csv", rows)
    _run, alone = import_file(path, "cemara", commit=False, batch_size=1, workers=0)
    _run, spread = import_file(path, "cemara", commit=False, batch_size=1, workers=1)
    assert report(spread) == report(alone)
    assert [r.outcome for r in spread.results] == [
        Outcome.CREATED, Outcome.REJECTED, Outcome.FEDERATED, Outcome.REJECTED, Outcome.REJECTED]


def test_it_holds_no_more_rows_than_one_batch_with_worker_processes(world, orphanet_codes,
                                                                    tmp_path):
    path = export(tmp_path, orphanet_codes, 120)
    counts: list[int] = []
    importer = dry_run(path, 10, lambda _importer: counts.append(alive(Parsed)), workers=1)
    assert importer.workers == 1 and len(counts) > 10
    assert max(counts) <= 10 + 1


def test_it_resolves_inactive_codes_as_the_nomenclature_does_without_a_query(
        orphanet_codes, django_assert_num_queries):
    codes = Orphanet()
    codes.preload()
    inactive = [c for c, s in codes.status.items() if s != OrphaConcept.Status.ACTIVE]
    expected = {code: orphanet.resolve(code) for code in inactive}
    assert any(len(targets) == 1 for targets in expected.values())
    assert any(not targets for targets in expected.values())
    with django_assert_num_queries(0):
        assert {code: codes.resolve(code) for code in inactive} == expected


def test_it_spreads_only_the_dry_run_of_a_large_file_by_default(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x" * 100)
    assert service.default_workers(path) == 0
    monkeypatch.setattr(service, "PARALLEL_BYTES", 10)
    monkeypatch.setattr(service.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert service.default_workers(path) == 1


@pytest.mark.parametrize(("commit", "bulk", "expected"),
                         [(False, False, 1), (True, True, 1), (True, False, 0)])
def test_it_spreads_a_dry_run_and_a_bulk_load_not_a_normal_commit(
        tmp_path, monkeypatch, commit, bulk, expected):
    seen = []

    class Importer:
        def __init__(self, *_args, workers, **_kwargs):
            seen.append(workers)

        def execute(self):
            raise service.ImportFailure("stop")

    monkeypatch.setattr(service, "default_workers", lambda _path: 1)
    monkeypatch.setattr(service, "Importer", Importer)
    monkeypatch.setattr(service.bulk_load, "unavailable", lambda _commit: None)
    monkeypatch.setattr(service, "start_run", lambda *_args, **_kwargs: None)
    with pytest.raises(service.ImportFailure):
        import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=commit, bulk=bulk)
    assert seen == [expected]


def test_it_commits_what_it_commits_without_worker_processes(world, orphanet_codes, tmp_path):
    from tests.imports.test_writer import TABLES, dump

    path = export(tmp_path, orphanet_codes, 150)
    dumps, counts = [], []
    for count in (0, 1):
        point = transaction.savepoint()
        run, summary = import_file(path, "cemara", commit=True, batch_size=9, workers=count)
        dumps.append(dump(run))
        for row in dumps[-1]["imports_importrow"]:  # "dossier <id>": ids differ between runs
            row["messages"] = re.sub(r"dossier \d+", "dossier", str(row["messages"]))
        counts.append(dict(summary.counts))
        transaction.savepoint_rollback(point)
    assert counts[0] == counts[1]
    assert counts[0][Outcome.FEDERATED] and counts[0][Outcome.REJECTED]
    assert all(dumps[0][t] for t in TABLES)
    assert dumps[1] == dumps[0]


def test_it_leaves_the_rows_already_committed_to_a_resumed_commit(
        world, orphanet_codes, tmp_path, monkeypatch):
    path = write(tmp_path / "a.csv", [ROW, *(ROW | {"ID_PATIENT": f"C{n}"} for n in range(2, 6))])
    mapping = mappings.load("cemara")
    shape, chunks = open_chunks(path, mapping, 10)
    codes = Orphanet()
    codes.preload()
    state = tmp_path / "state"
    state.write_bytes(workers.state(Transformer(mapping, codes), shape, False, 3))
    monkeypatch.setattr(workers, "_state", None)
    workers.start("bamara.settings", str(state))  # in this process: it only reads the file
    rows = [row for chunk in chunks for row in workers.prepare_rows(chunk)]
    assert [row[0] for row in rows] == [4, 5, 6]  # rows 2 and 3 committed (checkpoint 3)
    # Each row as the importing process would make it (engine._look_up, Importer._write).
    transform = Transformer(mapping, codes)
    expected = []
    for number, row in read_rows(path, mapping):
        if number > 3:
            p = transform(number, row)
            values = _patient_values(p)
            expected.append((number, p.content_hash, p.site_code, p.source_id, p.patient,
                             p.episode, p.diagnoses, p.activities, p.messages, values,
                             _identity(p.patient),
                             name_keys(tuple(getattr(Patient(**values), f) for f in NAME_FIELDS))))
    assert rows == expected
    assert all(row[11] for row in rows)


@pytest.mark.parametrize("cells", [["", ""], ["  ", " "]])
def test_it_skips_blank_rows_with_worker_processes(world, orphanet_codes, tmp_path, cells):
    path = write(tmp_path / "a.csv", [ROW, ROW | {"ID_PATIENT": "C2"}])
    lines = path.read_text(encoding="utf-8").splitlines()
    blank = ";".join(cells + [""] * (len(lines[0].split(";")) - len(cells)))
    path.write_text("\n".join([lines[0], lines[1], blank, lines[2]]) + "\n", encoding="utf-8")
    _run, alone = import_file(path, "cemara", commit=False, workers=0)
    _run, spread = import_file(path, "cemara", commit=False, workers=1)
    assert report(spread) == report(alone)
    assert [r.number for r in spread.results] == [2, 4]


def test_it_reads_quoted_cells_with_line_breaks_with_worker_processes(world, orphanet_codes,
                                                                      tmp_path):
    # Lines without quotes go to the worker as lines; from the first quote on (a cell with a
    # line break, here in the 5th row), the rows are parsed by the importing process.
    rows = [ROW | {"ID_PATIENT": f"C{n}", "NOM_NAISSANCE": f"NOM{chr(65 + n)}"} for n in range(9)]
    rows[4] |= {"NOM_USAGE": 'DIT "LE GRAND"\nSUITE'}
    rows[6] |= {"CENTRE": "NOPE"}
    path = write(tmp_path / "a.csv", rows)
    path.write_text(path.read_text(encoding="utf-8") + "\n;;\n", encoding="utf-8")
    _run, alone = import_file(path, "cemara", commit=False, batch_size=2, workers=0)
    _run, spread = import_file(path, "cemara", commit=False, batch_size=2, workers=1)
    assert report(spread) == report(alone)
    assert [r.number for r in spread.results] == list(range(2, 11))


def test_it_cuts_a_csv_into_lines_until_a_quote_then_into_rows(tmp_path):
    rows = [ROW | {"ID_PATIENT": f"C{n}"} for n in range(7)]
    rows[4] |= {"NOM_USAGE": "A\nB"}
    path = write(tmp_path / "a.csv", rows)
    mapping = mappings.load("cemara")
    _shape, expected = open_rows(path, mapping)
    _shape, chunks = open_chunks(path, mapping, 3)
    chunks = list(chunks)
    assert [type(c) for c in chunks] == [Lines, list, list]
    assert chunks[0].first == 2 and len(chunks[0].lines) == 3
    parsed = [*chunks[0].rows(";"), *chunks[1], *chunks[2]]
    assert parsed == list(expected)
    assert [number for number, _cells in parsed] == [2, 3, 4, 5, 6, 7, 8]


def test_it_fails_on_an_unreadable_csv_line_as_without_worker_processes(world, orphanet_codes,
                                                                        tmp_path):
    # A cell over the csv module's field size limit (131,072 characters).
    path = write(tmp_path / "a.csv", [ROW, ROW | {"ID_PATIENT": "C2", "PRENOM": "A" * 140_000}])
    with pytest.raises(ReadError) as alone:
        import_file(path, "cemara", commit=False, workers=0)
    with pytest.raises(ReadError) as spread:
        import_file(path, "cemara", commit=False, workers=1)
    assert str(spread.value) == str(alone.value) and "CSV illisible" in str(alone.value)


def test_it_writes_text_look_ups_as_one_postgresql_array_literal():
    assert _text_array(["a", "", "NULL", "x,y"]) == '{"a","","NULL","x,y"}'
    assert _text_array(['b"c', "d\\e", "f"]) == '{"b\\"c","d\\\\e","f"}'


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
@pytest.mark.django_db
def test_it_reads_the_text_array_literal_back_as_the_values():
    values = ["a", 'b"c', "d\\e", "", "NULL", "x,y", "{z}", "é", '"']
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [_text_array(values)])
        assert cursor.fetchone()[0] == values


def test_it_fails_the_dry_run_when_a_worker_cannot_start(world, orphanet_codes, tmp_path,
                                                         monkeypatch):
    monkeypatch.setattr(workers, "state", lambda *_args: b"not a pickle")
    with pytest.raises(BrokenProcessPool):
        import_file(write(tmp_path / "a.csv", [ROW]), "cemara", commit=False, workers=1)


@pytest.mark.parametrize("birth_date", [PartialDate(1980), PartialDate(1980, 3),
                                        PartialDate(1980, 3, 4), None])
@pytest.mark.parametrize("names", [{"first_birth_given_name": "Léa"},
                                   {"birth_given_names": "Jean-Pierre Marie"}, {}])
def test_it_computes_the_identifier_the_saved_patient_will_have(birth_date, names, settings):
    # The worker and the planner read the traits from the row's values, not from a Patient.
    patient = {"birth_name": "de La Fontaine", "sex": ("F", "2.16.840.1.113883.5.1")} | names
    if birth_date is not None:
        patient["birth_date"] = birth_date
    saved = Patient(**_patient_values(Parsed(2, "", patient=patient)))
    assert _national_id(patient) == (idmr.for_patient(saved) or "")
    assert _national_id(patient, "k" * 32) == (idmr.for_patient(saved, key="k" * 32) or "")
    assert (_national_id(patient) != "") == (birth_date is not None)


def test_the_transformer_by_columns_finds_what_it_finds_row_by_row(world, orphanet_codes,
                                                                   tmp_path):
    """``Transformer.columns_of`` (the workers') against ``__call__`` (one process), on a faulty
    export and on rows made to hit its edges: short and long rows, a repeated column, empty
    and too long cells, a repetition partly filled, a future birth date."""
    path = export(tmp_path, orphanet_codes, 400)
    mapping = mappings.load("cemara")
    codes = Orphanet()
    codes.preload()
    shape, rows = open_rows(path, mapping)
    rows = [(number, cells) for number, cells in rows if shape(cells) is not None]  # no blank
    header = shape.header
    edges = [
        ROW | {"ID_PATIENT": "", "NOM_NAISSANCE": "X" * 300},
        ROW | {"DATE_NAISSANCE": "12/03/2099", "ORPHA_2": "", "STATUT_DIAG_2": "confirmé"},
        ROW | {"SEXE": "", "DATE_ACTIVITE_3": "31/02/2024", "PRENOM": "  "},
        ROW | {"IPP": "", "NOM_USAGE": "  DUPONT ", "TYPE_ACTIVITE_2": "??"},
    ]
    made = [[r.get(h, "") for h in header] for r in edges]
    made += [made[0][:5], [*made[1], "extra", "cells"]]
    rows += [(10_000 + i, cells) for i, cells in enumerate(made)]

    def row_by_row(transform, number, cells):
        row = shape(cells)
        parsed = transform(number, row)
        return parsed.content_hash, parsed.site_code, parsed.source_id, parsed.messages, \
            parsed.patient

    for names in (header, [*header[:3], "NOM_NAISSANCE", *header[4:]]):  # a repeated name
        shape.header, shape.plain = names, len(set(names)) == len(names)
        alone, by_columns = Transformer(mapping, codes), Transformer(mapping, codes)
        expected = [row_by_row(alone, number, cells) for number, cells in rows]
        found = by_columns.columns_of(names, [cells for _number, cells in rows])
        assert list(zip(*found[:4], found.patients(), strict=True)) == expected
    assert any(m.code == "trop_long" for _h, _s, _i, messages, _p in expected for m in messages)
