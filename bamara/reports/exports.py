"""XLSX (openpyxl) and PDF (reportlab) files of the figures, from the same presented rows as
the page (small-number rule included)."""

from __future__ import annotations

import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import indicators as ind
from .present import Presented
from .suppression import SUPPRESSED, THRESHOLD, Masked


def _cell(value: Masked):
    return str(value) if value is SUPPRESSED else value


def title(presented: Presented) -> str:
    figures = presented.figures
    text = f"Chiffres d'activité — {figures.scope.label} — {figures.period}"
    if figures.as_of:  # precomputed: say as of when
        text += f" — chiffres précalculés le {timezone.localtime(figures.as_of):%d/%m/%Y à %H:%M}"
    return text


def to_xlsx(presented: Presented) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Indicateurs"
    bold = Font(bold=True)
    sheet.append([title(presented)])
    sheet["A1"].font = bold
    if presented.suppressed:
        sheet.append([f"Effectifs inférieurs à {THRESHOLD} masqués (« < {THRESHOLD} »)."])
    first = True
    for heading, rows in presented.sections():
        if not first:
            sheet = book.create_sheet(heading[:31])
        sheet.append([])
        sheet.append([heading, "Valeur", "Définition" if first else "Code"])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in rows:
            sheet.append([row.label, _cell(row.value), row.definition if first else row.key])
        first = False
    defs = book.create_sheet("Définitions")
    defs.append(["Règle de périmètre", str(ind.SCOPE_RULE)])
    for key, text in ind.BREAKDOWN_DEFINITIONS.items():
        defs.append([key, str(text)])
    for sheet in book.worksheets:
        sheet.column_dimensions["A"].width = 48
        sheet.column_dimensions["B"].width = 14
        sheet.column_dimensions["C"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(presented: Presented) -> bytes:
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    doc = SimpleDocTemplate(out, pagesize=A4, title=title(presented), author="bamara",
                            leftMargin=36, rightMargin=36, topMargin=36, bottomMargin=36)
    story = [Paragraph(title(presented), styles["Title"])]
    if presented.suppressed:
        story.append(Paragraph(f"Effectifs inférieurs à {THRESHOLD} masqués (« &lt; {THRESHOLD} »).",
                               styles["BodyText"]))
    story.append(Paragraph(str(ind.SCOPE_RULE), small))
    for index, (heading, rows) in enumerate(presented.sections()):
        story += [Spacer(1, 10), Paragraph(heading, styles["Heading2"])]
        data = [["", "Valeur", "Définition" if index == 0 else ""]]
        for row in rows:
            data.append([Paragraph(row.label, small), str(_cell(row.value)),
                         Paragraph(row.definition, small) if index == 0 else ""])
        table = Table(data, colWidths=[170, 50, 300], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (1, 1), (1, -1), "RIGHT"),
        ]))
        story.append(table)
    doc.build(story)
    return out.getvalue()
