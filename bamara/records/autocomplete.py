"""Terminology codes typed in the record forms: suggestions while typing, and reading what
was typed (with or without JavaScript).

Everything comes from the local terminology tables (bamara.terminologies): no network, so
it works offline and stays fast. A form field accepts a code as written by people
("ORPHA:586", "586", "HP:0001250", "E84.0", "HGNC:1884 CFTR"), or a name that matches
exactly one concept; anything else is refused with the closest suggestions.

    suggest("orpha", "mucoviscidose")      # [Suggestion(value="ORPHA:586", ...)]
    read_token("ORPHA:586", (oids.ORPHA,)) # Code("586", ORPHA)
    label_of(Code("586", oids.ORPHA))      # "Mucoviscidose"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from bamara.accounts.decorators import login_and_otp_required
from bamara.sdm import concepts, oids
from bamara.terminologies import search
from bamara.terminologies.models import (
    Cim10Code,
    Commune,
    FinessEstablishment,
    HpoTerm,
    OrphaConcept,
)

from .fields import Code

# What each autocomplete kind searches, and the code systems its values may hold.
KINDS: dict[str, tuple[str, ...]] = {
    "orpha": (oids.ORPHA,),
    "diagnostic": (oids.ORPHA, oids.CIM10),
    "signes": (oids.ORPHA_GROUPS, oids.HPO, oids.CIM10),
    "hpo": (oids.HPO,),
    "cim10": (oids.CIM10,),
    "genes": (oids.HGNC,),
    "communes": (oids.INSEE_COG,),
    "finess": (oids.FINESS,),
}
LIMIT = 12

_ORPHA = re.compile(r"^(?:orpha\s*:?\s*)?(\d{1,7})$", re.IGNORECASE)
_HPO = re.compile(r"^hp\s*:?\s*(\d{1,7})$", re.IGNORECASE)
_CIM10 = re.compile(r"^([A-Z])(\d{2})(?:\.?([0-9A-Z+]{1,4}))?$", re.IGNORECASE)
_HGNC = re.compile(r"^(HGNC:\d+)(?:\s+\(?([A-Za-z0-9._-]{1,32})\)?)?$", re.IGNORECASE)
_GENE_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_ICF = re.compile(r"^[bdes][0-9]{1,5}(\.[0-9]{1,3})?$")
_ATC = re.compile(r"^[A-Z][0-9]{2}(?:[A-Z]{1,2}(?:[0-9]{2})?)?$")
_EMA = re.compile(r"^EMEA/H/C/\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Suggestion:
    value: str  # what goes into the input: "ORPHA:586", "HP:0001250", "E84.0", "75056"
    label: str
    detail: str = ""  # level, department...
    active: bool = True
    replaces: str = ""  # for a proposed replacement: the inactive code it replaces


@dataclass(frozen=True)
class Token:
    """One value read from an input: a code (possibly empty for a gene given by its symbol)."""

    code: Code | None
    symbol: str = ""  # HGNC symbol, when given


class TokenError(ValueError):
    """What was typed is not a code of the allowed terminologies (French message)."""


# --- reading what was typed ------------------------------------------------------------------


def token_of(code: Code, symbol: str = "") -> str:
    """How a stored code is written back into an input."""
    if code.system in (oids.ORPHA, oids.ORPHA_GROUPS):
        return f"ORPHA:{code.code}"
    if code.system == oids.CIM10:
        return _dotted_cim10(code.code)
    if code.system == oids.HGNC:
        return f"{code.code} {symbol}".strip() if code.code else symbol
    return code.code


def _dotted_cim10(code: str) -> str:
    compact = code.replace(".", "")
    return f"{compact[:3]}.{compact[3:]}" if len(compact) > 3 else compact


def read_token(text: str, systems: Iterable[str]) -> Token:
    """A typed code (or exact name) in one of ``systems``; raises TokenError in French."""
    systems = tuple(systems)
    text = " ".join(text.split())
    if not text:
        raise TokenError(_("Valeur vide."))
    if oids.HGNC in systems:
        match = _HGNC.match(text)
        if match:
            return Token(Code(match.group(1).upper(), oids.HGNC), match.group(2) or "")
        if _GENE_SYMBOL.match(text):
            return Token(None, text)  # a gene known by its symbol only (no HGNC id typed)
    orpha_system = next((s for s in systems if s in (oids.ORPHA, oids.ORPHA_GROUPS)), None)
    match = _ORPHA.match(text)
    if orpha_system and match:
        return Token(Code(str(int(match.group(1))), orpha_system))
    match = _HPO.match(text)
    if oids.HPO in systems and match:
        return Token(Code(f"HP:{int(match.group(1)):07d}", oids.HPO))
    match = _CIM10.match(text)
    if oids.CIM10 in systems and match:
        return Token(Code("".join(g for g in match.groups() if g).upper(), oids.CIM10))
    if oids.ICF in systems and _ICF.match(text):
        return Token(Code(text, oids.ICF))
    if oids.EMA_RD_PRODUCTS in systems and _EMA.match(text):
        return Token(Code(text.upper(), oids.EMA_RD_PRODUCTS))
    if oids.ATC in systems and _ATC.match(text.upper()):
        return Token(Code(text.upper(), oids.ATC))
    if oids.INSEE_COG in systems and re.fullmatch(r"\d[\dAB]\d{3}", text.upper()):
        return Token(Code(text.upper(), oids.INSEE_COG))
    if oids.FINESS in systems and re.fullmatch(r"\d[\dAB]\d{7}", text.upper()):
        return Token(Code(text.upper(), oids.FINESS))
    return _by_name(text, systems)


def _by_name(text: str, systems: tuple[str, ...]) -> Token:
    """Without JavaScript, people type a name: accept it when exactly one concept bears it."""
    kind = _kind_for(systems)
    if kind is None:
        raise TokenError(_("« %(text)s » n'est pas un code valide.") % {"text": text})
    hits = _hits(kind, text, LIMIT)
    exact = [h for h in hits if h.label.casefold() == text.casefold()]
    if len(exact) == 1:
        return read_token(exact[0].value, systems)
    names = ", ".join(f"{h.value} {h.label}" for h in hits[:5])
    if names:
        raise TokenError(_("« %(text)s » n'est pas un code. Suggestions : %(names)s.") % {"text": text, "names": names})
    raise TokenError(_("« %(text)s » n'est pas un code reconnu.") % {"text": text})


def _kind_for(systems: tuple[str, ...]) -> str | None:
    for kind, kind_systems in KINDS.items():
        if kind_systems == systems:
            return kind
    if oids.HPO in systems:
        return "signes"
    if oids.ORPHA in systems or oids.ORPHA_GROUPS in systems:
        return "orpha"
    return "cim10" if oids.CIM10 in systems else None


def read_tokens(text: str, systems: Iterable[str]) -> list[Token]:
    """Several codes separated by ";" (or new lines); every error is reported at once."""
    tokens, errors = [], []
    for part in re.split(r"[;\n]", text or ""):
        if not part.strip():
            continue
        try:
            tokens.append(read_token(part, systems))
        except TokenError as exc:
            errors.append(str(exc))
    if errors:
        raise TokenError(" ".join(errors))
    return tokens


# --- labels ----------------------------------------------------------------------------------


def label_of(code: Code | None, symbol: str = "") -> str:
    """French label of a stored code, from the terminology tables or the SDM value sets."""
    if code is None:
        return symbol
    system, value = code.system, code.code
    if system in (oids.ORPHA, oids.ORPHA_GROUPS):
        concept = OrphaConcept.objects.filter(code=int(value)).first() if value.isdigit() else None
        if concept is None:
            return ""
        status = "" if concept.is_active else f" — {concept.get_status_display().lower()}"
        return f"{concept.name} ({concept.get_level_display().lower()}{status})"
    if system == oids.HPO:
        term = HpoTerm.objects.filter(id=value).first()
        return term.name if term else ""
    if system == oids.CIM10:
        row = Cim10Code.objects.filter(code=value.replace(".", "").upper()).first()
        return row.label if row else ""
    if system == oids.HGNC:
        return symbol
    if system == oids.INSEE_COG:
        commune = Commune.objects.filter(code=value).first()
        return commune.name if commune else ""
    if system == oids.FINESS:
        row = FinessEstablishment.objects.filter(finess=value).first()
        return row.name if row else ""
    return concepts.label(value, system, default="")


def describe(code: Code | None, symbol: str = "") -> str:
    """"ORPHA:586 Mucoviscidose (maladie)": the code as typed, then its label."""
    if code is None:
        return symbol
    label = label_of(code, symbol)
    token = token_of(code, "" if code.system == oids.HGNC else symbol)
    return f"{token} {label}".strip() if label != token else token


# --- suggestions -----------------------------------------------------------------------------


def _hits(kind: str, text: str, limit: int) -> list[Suggestion]:
    if kind in ("orpha", "diagnostic", "signes"):
        found = _orpha(text, limit, groups_only=kind == "signes")
        if kind == "diagnostic":
            found += _cim10(text, limit // 2)
        if kind == "signes":
            found = _hpo(text, limit) + found + _cim10(text, limit // 3)
        return found[: limit * 2]
    if kind == "hpo":
        return _hpo(text, limit)
    if kind == "cim10":
        return _cim10(text, limit)
    if kind == "communes":
        return [Suggestion(h.code, h.label, h.detail, h.active) for h in search.communes(text, limit)]
    if kind == "finess":
        return [Suggestion(h.code, h.label, h.detail, h.active) for h in search.finess(text, limit)]
    return []  # genes: no HGNC table is loaded, the symbol or id is typed


def _orpha(text: str, limit: int, *, groups_only: bool = False) -> list[Suggestion]:
    hits = search.orpha(text, limit * 3 if groups_only else limit)
    if groups_only:
        hits = [h for h in hits if h.obj.level == OrphaConcept.Level.GROUP][:limit]
    replacements = OrphaConcept.objects.in_bulk(
        [int(code) for hit in hits for code in hit.replaced_by]
    )
    found: list[Suggestion] = []
    for hit in hits:
        detail = hit.detail if hit.active else f"{hit.detail} — {hit.obj.get_status_display().lower()}"
        found.append(Suggestion(hit.display_code, hit.label, detail, hit.active))
        # An inactive code proposes its replacement right below it.
        for code in hit.replaced_by:
            target = replacements.get(int(code))
            if target is not None:
                found.append(Suggestion(f"ORPHA:{code}", target.name, target.get_level_display(),
                                        target.is_active, replaces=hit.display_code))
    return found


def _hpo(text: str, limit: int) -> list[Suggestion]:
    found: list[Suggestion] = []
    for hit in search.hpo(text, limit):
        found.append(Suggestion(hit.display_code, hit.label, "HPO" + (f" — {hit.detail}" if hit.detail else ""),
                                hit.active))
        for code in hit.replaced_by:
            term = HpoTerm.objects.filter(id=code).first()
            if term is not None:
                found.append(Suggestion(term.id, term.name, "HPO", True, replaces=hit.display_code))
    return found


def _cim10(text: str, limit: int) -> list[Suggestion]:
    return [Suggestion(h.display_code, h.label, "CIM-10" + (f" — {h.detail}" if h.detail else ""))
            for h in search.cim10(text, limit)]


def suggest(kind: str, text: str, limit: int = LIMIT) -> list[Suggestion]:
    """Ranked suggestions for the text being typed (empty for an unknown kind)."""
    text = text.strip()
    if kind not in KINDS or (len(text) < 2 and not text.isdigit()):
        return []
    return _hits(kind, text, limit)


@login_and_otp_required
def autocomplete(request: HttpRequest, kind: str) -> HttpResponse:
    """The options of a combobox (an HTML fragment for htmx). Reads the text from the
    parameter named by ``champ`` (the input's own name, as htmx sends it) or ``q``; for a
    list of codes (``multiple=1``) only the code being typed, after the last ";"."""
    field = request.GET.get("champ", "q")
    text = request.GET.get(field, request.GET.get("q", ""))
    if request.GET.get("multiple"):
        text = re.split(r"[;\n]", text)[-1]
    suggestions = suggest(kind, text) if kind in KINDS else []
    list_id = request.GET.get("liste", "suggestions")
    return render(request, "records/record/_options.html", {
        "suggestions": suggestions, "list_id": re.sub(r"[^\w-]", "", list_id)[:80], "text": text.strip(),
    })
