"""The correction report of an import, as XLSX: a summary, one line per problem found (row,
SDM-MR item, level, code, message, source value), what each row would create or update, and
the probable duplicates. Written in write-only mode: 100,000 rows stay cheap in memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from openpyxl import Workbook

from .engine import RowResult, Summary
from .models import ImportRow, ImportRun, Outcome

OUTCOME_LABELS = {value: str(label) for value, label in Outcome.choices}
SUMMARY_LABELS = [
    ("read", "Lignes lues"), (Outcome.CREATED, "Dossiers créés"),
    (Outcome.FEDERATED, "Doublons fédérés (même identité, autre centre)"),
    (Outcome.UPDATED, "Dossiers modifiés"), (Outcome.UNCHANGED, "Lignes inchangées"),
    (Outcome.REJECTED, "Lignes rejetées"), ("warnings", "Avertissements"),
]


def rows_of(run: ImportRun) -> Iterator[RowResult]:
    for number, key, outcome, messages, patient in (
        ImportRow.objects.filter(run=run).order_by("number")
        .values_list("number", "record_key", "outcome", "messages", "patient_id").iterator(chunk_size=5000)
    ):
        yield RowResult(number, key, outcome, [_Msg(*m) for m in messages], patient)


class _Msg:
    def __init__(self, item: str, level: str, code: str, text: str, value: str = "") -> None:
        self.item, self.level, self.code, self.text, self.value = item, level, code, text, value


def write(path: str | Path, run: ImportRun, summary: Summary,
          results: Iterable[RowResult] | None = None) -> Path:
    """Write the report of ``run``; ``results`` defaults to the committed rows of the run."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Résumé")
    sheet.append(["Fichier", run.file_name])
    sheet.append(["Correspondance", run.mapping_name])
    sheet.append(["Mode", "enregistrement" if run.status != "essai" else "essai (rien n'est enregistré)"])
    for key, label in SUMMARY_LABELS:
        sheet.append([label, summary.counts.get(key, 0)])
    sheet.append(["Doublons probables (à examiner)", len(summary.pairs)])
    codes = sorted((k.removeprefix("code:"), v) for k, v in summary.counts.items()
                   if k.startswith("code:"))
    sheet.append([])
    sheet.append(["Anomalie", "Nombre"])
    for code, count in codes:
        sheet.append([code, count])

    problems = book.create_sheet("Anomalies")
    problems.append(["Ligne", "Élément SDM-MR", "Niveau", "Code", "Message", "Valeur source"])
    outcomes = book.create_sheet("Lignes")
    outcomes.append(["Ligne", "Enregistrement source", "Résultat", "Dossier"])
    for result in results if results is not None else rows_of(run):
        outcomes.append([result.number, result.key, OUTCOME_LABELS.get(result.outcome, result.outcome),
                         result.patient_id])
        for m in result.messages:
            problems.append([result.number, m.item, m.level, m.code, m.text, m.value])

    duplicates = book.create_sheet("Doublons probables")
    key = "Dossier" if run.status != "essai" else "Ligne"
    duplicates.append([f"{key} A", f"{key} B", "Probabilité", "Motifs"])
    for a, b, probability, reasons in summary.pairs:
        duplicates.append([a, b, round(probability, 4), "; ".join(reasons)])
    path = Path(path)
    book.save(path)
    return path
