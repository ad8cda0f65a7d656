"""The variables guide (guide des variables): the SDM-MR of one version, for people.

``build(definition)`` returns a plain structure (chapters -> items -> codes) that the UI and
the exports can render themselves; ``render_markdown`` and ``render_html`` give the two
ready-made forms used by ``bamara sdm_guide``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.template.loader import render_to_string

from . import oids
from .registry import SdmDefinition
from .schema import Item, ItemType

TYPE_LABELS_FR: dict[ItemType, str] = {
    ItemType.STRING: "texte court",
    ItemType.TEXT: "texte libre",
    ItemType.BOOLEAN: "oui / non",
    ItemType.INTEGER: "nombre entier",
    ItemType.DECIMAL: "nombre décimal",
    ItemType.QUANTITY: "quantité avec unité",
    ItemType.DATE: "date",
    ItemType.PARTIAL_DATE: "date (éventuellement partielle)",
    ItemType.DATETIME: "date et heure",
    ItemType.CODE: "code d'un jeu de valeurs",
    ItemType.CODED: "code d'une terminologie",
    ItemType.IDENTIFIER: "identifiant",
    ItemType.AGE_CLASS: "classe d'âge (+ âge si postnatal)",
    ItemType.PERSON: "personne",
    ItemType.ADDRESS: "adresse / lieu",
    ItemType.GROUP: "groupe de données",
    ItemType.DERIVED: "calculé",
    ItemType.MODULE: "module",
}

UNIT_LABELS_FR = {"g": "g", "cm": "cm", "wk": "semaines", "mo": "mois", "a": "ans"}


@dataclass
class GuideCode:
    code: str
    system: str
    label_fr: str
    system_name: str


@dataclass
class GuideItem:
    id: str
    label_fr: str
    label_en: str
    definition_fr: str
    type_fr: str
    cardinality: str
    requirement_fr: str
    active: bool
    value_set_oid: str | None = None
    value_set_name: str | None = None
    codes: list[GuideCode] = field(default_factory=list)
    terminologies: list[str] = field(default_factory=list)
    rules_fr: list[str] = field(default_factory=list)
    cda: str = ""
    confidence: str = ""
    sources: list[str] = field(default_factory=list)
    since: str = ""
    retired_in: str | None = None


@dataclass
class GuideChapter:
    code: str
    title_fr: str
    items: list[GuideItem]


@dataclass
class Guide:
    version: str
    label_fr: str
    chapters: list[GuideChapter]


def _rules_fr(item: Item) -> list[str]:
    rules = item.rules
    if rules is None:
        return []
    out = []
    units = ", ".join(UNIT_LABELS_FR.get(u, u) for u in rules.allowed_units)
    if rules.min is not None and rules.max is not None:
        out.append(f"de {rules.min} à {rules.max}" + (f" {units}" if units else ""))
    elif rules.min is not None:
        out.append(f"au moins {rules.min}" + (f" {units}" if units else ""))
    elif rules.max is not None:
        out.append(f"au plus {rules.max}" + (f" {units}" if units else ""))
    elif units:
        out.append(f"unité : {units}")
    if rules.max_length is not None:
        out.append(f"{rules.max_length} caractères au plus")
    if rules.pattern:
        out.append(f"format : {rules.pattern}")
    return out


def build(definition: SdmDefinition) -> Guide:
    chapters = []
    for chapter, items in definition.items_by_chapter().items():
        guide_items = []
        for item in items:
            value_set = definition.value_set_for(item)
            guide_items.append(
                GuideItem(
                    id=item.id,
                    label_fr=item.label_fr,
                    label_en=item.label_en,
                    definition_fr=item.definition_fr,
                    type_fr=TYPE_LABELS_FR[item.type],
                    cardinality=str(item.cardinality),
                    requirement_fr=item.requirement.label_fr,
                    active=item.active,
                    value_set_oid=item.value_set,
                    value_set_name=value_set.name_fr if value_set else None,
                    codes=[
                        GuideCode(c.code, c.system, c.label_fr, oids.NAMES.get(c.system, c.system))
                        for c in value_set.codes
                    ]
                    if value_set
                    else [],
                    terminologies=[oids.NAMES.get(s, s) for s in item.terminologies],
                    rules_fr=_rules_fr(item),
                    cda=str(item.cda) if item.cda else "",
                    confidence="confirmé" if item.confidence == "confirmed" else "déduit",
                    sources=list(item.sources),
                    since=item.since,
                    retired_in=item.retired_in,
                )
            )
        chapters.append(GuideChapter(chapter.code, chapter.title_fr, guide_items))
    return Guide(definition.version, definition.spec.label_fr, chapters)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(definition: SdmDefinition) -> str:
    guide = build(definition)
    lines = [
        f"# Guide des variables — {guide.label_fr}",
        "",
        f"Version du SDM-MR : **{guide.version}**. Généré depuis la définition déclarative "
        "(bamara/sdm/definitions) ; ne pas modifier à la main.",
        "",
    ]
    for chapter in guide.chapters:
        lines += [f"## {chapter.code} — {chapter.title_fr}", ""]
        for item in chapter.items:
            title = f"### {item.label_fr} (`{item.id}`)"
            if not item.active:
                title += f" — retiré en {item.retired_in}, conservé pour la lecture des dossiers antérieurs"
            lines += [title, "", item.definition_fr, ""]
            lines.append(f"- Type : {item.type_fr}")
            lines.append(f"- Cardinalité : {item.cardinality}")
            lines.append(f"- Exigence : {item.requirement_fr}")
            if item.terminologies:
                lines.append(f"- Terminologies : {', '.join(item.terminologies)}")
            for rule in item.rules_fr:
                lines.append(f"- Contrôle : {rule}")
            if item.cda:
                lines.append(f"- CDA : {item.cda}")
            lines.append(
                f"- Présent depuis : {item.since} ; fiabilité : {item.confidence} ({', '.join(item.sources)})"
            )
            if item.value_set_oid:
                lines += [
                    "",
                    f"Jeu de valeurs : {item.value_set_name} (`{item.value_set_oid}`)",
                    "",
                ]
                lines += ["| Code | Libellé | Système |", "|---|---|---|"]
                lines += [
                    f"| {_md(c.code)} | {_md(c.label_fr)} | {_md(c.system_name)} |"
                    for c in item.codes
                ]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_html(definition: SdmDefinition) -> str:
    return render_to_string("sdm/guide.html", {"guide": build(definition)})
