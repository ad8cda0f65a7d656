"""The figures as shown on screens and written to files, with the small-number rule applied
once here for all of them."""

from __future__ import annotations

from dataclasses import dataclass

from . import indicators as ind
from .compute import Figures
from .suppression import SUPPRESSED, Masked, mask, mask_breakdown, mask_ratio


@dataclass
class Row:
    key: str
    label: str
    value: Masked
    definition: str = ""


@dataclass
class Presented:
    figures: Figures
    suppressed: bool
    indicators: list[Row]
    by_status: list[Row]
    by_context: list[Row]
    monthly: list[Row]
    pyramid: list[tuple[str, Masked, Masked, Masked]]  # band, F, M, other
    top_diagnoses: list[Row]

    @property
    def piramig(self) -> list[Row]:
        return [row for row in self.indicators if ind.BY_KEY[row.key].piramig]

    def sections(self) -> list[tuple[str, list[Row]]]:
        """Every table, in the order of the page and of the files."""
        pyramid = [Row(f"{band}/{sex}", f"{band} — {ind.SEXES[sex]}", value)
                   for band, *cells in self.pyramid for sex, value in zip(ind.SEXES, cells, strict=True)]
        return [
            ("Indicateurs", self.indicators),
            ("Patients par statut du diagnostic", self.by_status),
            ("Activités par contexte", self.by_context),
            ("Activités par mois", self.monthly),
            ("Pyramide des âges (file active)", pyramid),
            ("Diagnostics les plus fréquents", self.top_diagnoses),
        ]


def present(figures: Figures, suppressed: bool) -> Presented:
    values = figures.values

    def one(count: int) -> Masked:
        return mask(count) if suppressed else count

    def many(counts: dict) -> dict:
        return mask_breakdown(counts) if suppressed else dict(counts)

    rows = []
    for indicator in ind.INDICATORS:
        raw = values.get(indicator.key, 0)
        if indicator.ratio:
            shown = mask_ratio(raw, int(values["file_active"])) if suppressed else raw
        else:
            shown = one(int(raw))
        rows.append(Row(indicator.key, str(indicator.label), shown, str(indicator.definition)))
    status = many(figures.by_status)
    contexts = many(figures.by_context)
    monthly = {month: one(count) for month, count in figures.monthly.items()}
    pyramid = []
    for band, cells in figures.pyramid.items():
        if band == "inconnu" and not any(cells.values()):
            continue
        masked = [one(cells[sex]) for sex in ind.SEXES]
        pyramid.append((band, *masked))
    top = [Row(code, name, one(count)) for code, name, count in figures.top_diagnoses]
    if suppressed:
        top = [row for row in top if row.value is not SUPPRESSED]  # a rare disease in a small
        # scope would point at the patient: drop it rather than show "< 10"
    return Presented(
        figures, suppressed, rows,
        [Row(code, str(ind.STATUS_LABELS[code]), value) for code, value in status.items()],
        [Row(code, str(ind.CONTEXT_LABELS.get(code, "Sans contexte codé")), value)
         for code, value in contexts.items() if not (code == ind.UNCODED and value == 0)],
        [Row(month, month, value) for month, value in monthly.items()],
        pyramid, top,
    )


def as_json(presented: Presented) -> dict:
    def plain(value: Masked):
        return str(value) if value is SUPPRESSED else value

    figures = presented.figures
    return {
        "perimetre": {"type": figures.scope.kind, "code": figures.scope.key, "libelle": figures.scope.label},
        "periode": {"debut": figures.period.start.isoformat(), "fin": figures.period.end.isoformat()},
        "petits_effectifs_masques": presented.suppressed,
        "donnees_au": figures.as_of.isoformat() if figures.as_of else None,  # None: computed live
        "indicateurs": {row.key: plain(row.value) for row in presented.indicators},
        "definitions": {row.key: row.definition for row in presented.indicators}
        | {key: str(text) for key, text in ind.BREAKDOWN_DEFINITIONS.items()},
        "patients_par_statut": {row.key: plain(row.value) for row in presented.by_status},
        "activites_par_contexte": {row.key or "sans_contexte": plain(row.value) for row in presented.by_context},
        "activites_par_mois": {row.key: plain(row.value) for row in presented.monthly},
        "pyramide": [{"age": band, "F": plain(f), "M": plain(m), "autre": plain(o)}
                     for band, f, m, o in presented.pyramid],
        "diagnostics_frequents": [{"orpha": row.key, "nom": row.label, "patients": plain(row.value)}
                                  for row in presented.top_diagnoses],
    }
