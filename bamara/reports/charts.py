"""Server-rendered SVG charts (no JavaScript, no CDN: the app runs offline).

Each chart is an <svg role="img"> with a <title> and a <desc>; the page prints the same numbers
in a table next to it for screen readers and keyboard users. A masked figure draws no bar and
reads « < 10 »."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .present import Presented, Row
from .suppression import SUPPRESSED, Masked

BLUE, RED, GREY = "#000091", "#c9191e", "#666666"


def _number(value: Masked) -> float:
    return 0 if value is SUPPRESSED or value is None else float(value)


def _text(value: Masked) -> str:
    return escape(str(value))


def _svg(uid: str, title: str, desc: str, width: int, height: int, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" aria-labelledby="{uid}-t {uid}-d" '
        f'font-family="Marianne, Arial, sans-serif" font-size="11">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>"
    )


def bars(uid: str, title: str, rows: list[Row], *, label_width: int = 230, width: int = 640) -> SafeString:
    """Horizontal bars, one row each."""
    top = max([_number(r.value) for r in rows] + [1])
    line = 22
    height = line * len(rows) + 10
    span = width - label_width - 60
    body = []
    for i, row in enumerate(rows):
        y = 5 + i * line
        w = span * _number(row.value) / top
        body.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(row.label[:40])}</text>'
                    f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="15" fill="{BLUE}">'
                    f'<title>{escape(row.label)} : {_text(row.value)}</title></rect>'
                    f'<text x="{label_width + w + 4:.1f}" y="{y + 14}">{_text(row.value)}</text>')
    desc = "; ".join(f"{r.label} : {r.value}" for r in rows)
    return _svg(uid, title, desc, width, height, body)


def columns(uid: str, title: str, rows: list[Row], *, width: int = 640, height: int = 220) -> SafeString:
    """Vertical bars (monthly trend)."""
    top = max([_number(r.value) for r in rows] + [1])
    left, bottom, plot_h = 40, 30, height - 50
    step = (width - left - 10) / max(len(rows), 1)
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="{GREY}"/>',
            f'<text x="{left - 4}" y="{height - bottom - plot_h + 4}" text-anchor="end">{int(top)}</text>',
            f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>']
    for i, row in enumerate(rows):
        h = plot_h * _number(row.value) / top
        x = left + i * step + step * 0.15
        body.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{BLUE}"><title>{escape(row.label)} : {_text(row.value)}</title></rect>')
        if len(rows) <= 24 or i % max(1, len(rows) // 12) == 0:
            body.append(f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                        f'{escape(row.label[2:] if len(rows) > 12 else row.label[5:])}</text>')
        if row.value is SUPPRESSED:
            body.append(f'<text x="{x + step * 0.35:.1f}" y="{height - bottom - 4}" text-anchor="middle">'
                        f'{_text(row.value)}</text>')
    desc = "; ".join(f"{r.label} : {r.value}" for r in rows)
    return _svg(uid, title, desc, width, height, body)


def pyramid(uid: str, title: str, presented: Presented, *, width: int = 640) -> SafeString:
    """Age-sex pyramid: men on the left, women on the right, youngest at the bottom."""
    bands = list(reversed(presented.pyramid))
    top = max([_number(v) for _, f, m, _o in bands for v in (f, m)] + [1])
    line, middle, label = 22, width / 2, 50
    half = middle - label / 2 - 50
    height = line * len(bands) + 30
    body = [f'<text x="{middle - label / 2 - 4}" y="14" text-anchor="end" font-weight="bold">Hommes</text>',
            f'<text x="{middle + label / 2 + 4}" y="14" font-weight="bold">Femmes</text>']
    for i, (band, women, men, _other) in enumerate(bands):
        y = 22 + i * line
        wm, ww = half * _number(men) / top, half * _number(women) / top
        body.append(
            f'<text x="{middle}" y="{y + 14}" text-anchor="middle">{escape(band)}</text>'
            f'<rect x="{middle - label / 2 - wm:.1f}" y="{y + 3}" width="{wm:.1f}" height="15" fill="{BLUE}">'
            f'<title>{escape(band)} ans, hommes : {_text(men)}</title></rect>'
            f'<text x="{middle - label / 2 - wm - 4:.1f}" y="{y + 14}" text-anchor="end">{_text(men)}</text>'
            f'<rect x="{middle + label / 2:.1f}" y="{y + 3}" width="{ww:.1f}" height="15" fill="{RED}">'
            f'<title>{escape(band)} ans, femmes : {_text(women)}</title></rect>'
            f'<text x="{middle + label / 2 + ww + 4:.1f}" y="{y + 14}">{_text(women)}</text>')
    desc = "; ".join(f"{b} ans : {m} hommes, {f} femmes, {o} indéterminé" for b, f, m, o in presented.pyramid)
    return _svg(uid, title, desc, width, height, body)
