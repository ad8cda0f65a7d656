"""validate(): read a record leniently, then run every rule of RULES over it."""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DatabaseError

from bamara.records.fields import AgeAt, AgeUnit, Code, PartialDate
from bamara.sdm import oids
from bamara.terminologies import hpo as hpo_api
from bamara.terminologies import orphanet

from . import identifiers
from .data import CHILDREN, ActivityData, CareEpisodeData, RecordData
from .parse import columns, spec
from .read import Problem, Row, capital, read
from .reference import Definition, Terminologies
from .rules import ANY_ITEM, RULES_BY_ID, Message

log = logging.getLogger(__name__)

# Concepts the rules reason about, by their current (canonical) code. Codes of older versions
# are mapped to these by the definition before any comparison; a test checks each one is in
# the definition's value set, so a recoding there cannot silently switch a rule off.
AGE_FOETAL = Code("303112003", oids.SNOMED_CT)
AGE_NEONATAL = Code("255407002", oids.SNOMED_CT)
AGE_POSTNATAL = Code("767023003", oids.SNOMED_CT)
AGE_UNDETERMINED = Code("373068000", oids.SNOMED_CT)
AGE_POST_MORTEM = Code("303113008", oids.SNOMED_CT)
AGE_NO_SIGN = Code("MED-1288", oids.TA_ASIP)
STATUS_CONFIRMED = Code("255545003", oids.SNOMED_CT)
CONTEXT_OTHER = Code("GEN-092.05.04", oids.TA_ASIP)

AGE_ATTRIBUTES = ("onset_age", "clinical_diagnosis_age", "genetic_diagnosis_age")
AGE_NAMES = {
    "onset_age": "l'âge aux premiers signes",
    "clinical_diagnosis_age": "l'âge au diagnostic clinique",
    "genetic_diagnosis_age": "l'âge au diagnostic génétique",
}
OLDEST_DATE = dt.date(1900, 1, 1)
_CIM10 = re.compile(r"[A-Z][0-9]{2}[0-9A-Z+]{0,5}")  # as the CIM-10 loader reads ATIH codes
# Post-mortem sorts after every age; fœtal before birth (months since birth).
_POST_MORTEM_MONTHS = Decimal(10**6)
# Soft plausibility range (warning); the hard limits come from the definition.
SOFT_LIMITS: dict[str, tuple[int, int]] = {"age_gestationnel_naissance": (24, 42)}


# -- context ----------------------------------------------------------------------------

# Rows of the record holding the items of each scope of the definition.
_SCOPES = {
    "diagnosis": "diagnoses",
    "activity": "activities",
    "care_episode": "care_episodes",
    "pregnancy": "pregnancies",
}


@dataclass
class Context:
    definition: Definition
    terminologies: Terminologies
    version: str
    today: dt.date
    record: Row
    messages: list[Message] = field(default_factory=list)
    # item_of answers of this validation (asked for every value of every row)
    _items: dict[tuple[type, str, str], str] = field(default_factory=dict, repr=False)

    def rows(self, name: str) -> list[Row]:
        return self.record.children.get(name, [])

    @property
    def foetuses(self) -> list[Row]:
        return [
            foetus
            for pregnancy in self.rows("pregnancies")
            for foetus in pregnancy.children.get("foetuses", [])
        ]

    def all_rows(self) -> list[Row]:
        return [
            self.record,
            *(row for name in CHILDREN[RecordData] for row in self.rows(name)),
            *self.foetuses,
        ]

    def scope_rows(self, scope: str) -> list[Row] | None:
        if scope == "record":
            return [self.record]
        if scope == "foetus":
            return self.foetuses
        return self.rows(_SCOPES[scope]) if scope in _SCOPES else None

    def item(self, row: Row, name: str, part: str = "code") -> str:
        key = (row.data_class, name, part)
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = item_of(self.definition, self.version, row.data_class, name, part)
        return found

    def label(self, item: str) -> str:
        return self.definition.label(item, self.version)

    def add(
        self,
        rule_id: str,
        row: Row,
        name: str,
        text: str,
        *,
        item: str | None = None,
        path: str | None = None,
    ) -> None:
        item_id = item or (self.item(row, name) if name else ANY_ITEM)
        self.messages.append(RULES_BY_ID[rule_id].message(item_id, path or row.where(name), text))


def item_of(
    definition: Definition, version: str, data_class: type, name: str, part: str = "code"
) -> str:
    """The SDM item of an attribute, from the definition's storage bindings ("*" if none).

    ``part`` picks the column of a composite: an age class ("code") and its quantity
    ("value") are two items (age_premiers_signes and age_premiers_signes_precision).
    """
    parts = columns(data_class, name)
    column = parts.get(part) or parts.get("value") or parts.get("code")
    return (definition.item_id(column, version) if column else None) or ANY_ITEM


# -- the checks ----------------------------------------------------------------------------


def check_version_items(ctx: Context) -> None:
    """Data given for an item that the record's SDM version does not collect."""
    for row in ctx.all_rows():
        for name, value in row.values.items():
            if value in (None, False, []) or name in ("uuid", "sdm_version"):
                continue
            item = ctx.item(row, name)
            if item != ANY_ITEM and not ctx.definition.in_version(item, ctx.version):
                ctx.add(
                    "item_not_in_version",
                    row,
                    name,
                    f"« {ctx.label(item)} » ne fait pas partie du SDM-MR {ctx.version} : donnée à revoir.",
                    item=item,
                )


# The mandatory items whose absence is an error (the others are warnings): each row's
# attribute, when the definition marks its item mandatory in the record's version.
CORE_REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "record": (
        ("birth_name", "Le nom de naissance"),
        ("birth_date", "La date de naissance"),
        ("sex", "Le sexe"),
    ),
    "diagnosis": (
        ("status", "Le statut actuel du diagnostic"),
        ("onset_age", "L'âge aux premiers signes"),
    ),
    "activity": (
        ("date", "La date de l'activité"),
        ("context", "Le contexte de l'activité"),
        ("objectives", "Au moins un objectif de l'activité"),
    ),
    "care_episode": (
        ("site", "Le site maladies rares"),
        ("inclusion_date", "La date d'inclusion dans le site"),
        ("referrals", "Au moins un « patient adressé par »"),
    ),
}


FOETUS_EXEMPT = {"birth_name", "birth_date"}


def check_required(ctx: Context) -> None:
    """Mandatory items present: errors for the core ones, warnings for the others."""
    mandatory = dict(ctx.definition.mandatory_items(ctx.version))
    if "diagnoses" not in ctx.record.invalid and not ctx.rows("diagnoses"):
        ctx.add(
            "required",
            ctx.record,
            "",
            "Au moins un diagnostic est obligatoire.",
            item="diagnostic_code",
            path="diagnoses",
        )
    core_items: set[str] = set()
    for scope, required in CORE_REQUIRED.items():
        for row in ctx.scope_rows(scope) or []:
            for name, what in required:
                item = ctx.item(row, name)
                core_items.add(item)
                if scope == "record" and name in FOETUS_EXEMPT and row.get("is_foetus") is True:
                    continue  # an unborn foetus is identified through its mother
                if item in mandatory and not row.has(name):
                    ctx.add("required", row, name, f"{what} est obligatoire.", item=item)
    for item, scope in mandatory.items():
        rows = ctx.scope_rows(scope)
        if item in core_items or not rows:
            continue
        wanted = set(ctx.definition.columns(item, ctx.version))
        names = [
            name
            for name in _attributes(rows[0].data_class)
            if wanted & set(columns(rows[0].data_class, name).values())
        ]
        if not names:
            continue  # stored elsewhere (e.g. the hospital): not part of RecordData
        for row in rows:
            if not any(row.has(name) for name in names):
                ctx.add(
                    "mandatory_item_missing",
                    row,
                    names[0],
                    f"« {ctx.label(item)} » : donnée obligatoire du SDM-MR {ctx.version} absente.",
                    item=item,
                )


def _attributes(data_class: type) -> list[str]:
    return [
        name
        for name in data_class.__dataclass_fields__
        if spec(data_class, name).kind != "children"
    ]


def check_value_sets(ctx: Context) -> None:
    """Each coded value belongs to its item's value set in the record's SDM version (older
    codes of a concept still in that version pass); terminology-bound items take only their
    code systems; plain columns holding a local code (e.g. consanguinity) hold one of them."""
    for row in ctx.all_rows():
        for name, value in row.values.items():
            kind = spec(row.data_class, name).kind
            if kind in ("code", "age"):
                _check_code(ctx, row, name, value, row.where(name))
            elif kind == "codes":
                for index, code in value:
                    _check_code(ctx, row, name, code, f"{row.where(name)}[{index}]")
            elif kind == "text" and name != "sdm_version":
                _check_stored_value(ctx, row, name, value)


def _check_code(ctx: Context, row: Row, name: str, value: Code | AgeAt, path: str) -> None:
    item = ctx.item(row, name)
    if item == ANY_ITEM:
        return
    code = Code(value.code, value.system)
    version = ctx.version
    own_version = row.get("status_sdm_version") if name == "status" else None
    if own_version and ctx.definition.knows_version(own_version):
        version = own_version  # the status code was recorded under its own SDM version
    allowed = ctx.definition.allowed_systems(item, version)
    if allowed is not None:
        if code.system not in allowed:
            names = ", ".join(sorted(_system_name(system) for system in allowed))
            ctx.add(
                "code_system_not_allowed",
                row,
                name,
                f"« {code.code} » est un code {_system_name(code.system)} ; pour « {ctx.label(item)} », "
                f"systèmes permis : {names}.",
                item=item,
                path=path,
            )
        return
    result = ctx.definition.check_code(item, code, version)
    what = f"Le code « {code.code} » ({_system_name(code.system)})"
    if result.status == "unknown":
        ctx.add(
            "code_not_in_value_set",
            row,
            name,
            f"{what} ne fait pas partie du jeu de valeurs « {result.value_set_name} » du SDM-MR {version}.",
            item=item,
            path=path,
        )
    elif result.status == "other_version":
        where = (
            f"du SDM-MR {', '.join(result.versions)}"
            if result.versions
            else "d'une ancienne version"
        )
        ctx.add(
            "code_from_other_version",
            row,
            name,
            f"{what} appartient au jeu de valeurs « {result.value_set_name} » {where} mais pas à celui "
            f"du SDM-MR {version}, sans équivalent : à revoir.",
            item=item,
            path=path,
        )


def _check_stored_value(ctx: Context, row: Row, name: str, value: str) -> None:
    item = ctx.item(row, name)
    column = columns(row.data_class, name)["value"]
    allowed = ctx.definition.stored_values(item, column, ctx.version) if item != ANY_ITEM else None
    if allowed is not None and value not in allowed[1]:
        ctx.add(
            "code_not_in_value_set",
            row,
            name,
            f"« {value} » ne fait pas partie du jeu de valeurs « {allowed[0]} » du SDM-MR {ctx.version} "
            f"({', '.join(sorted(allowed[1]))}).",
            item=item,
        )


def _system_name(system: str) -> str:
    return oids.NAMES.get(system, system)


def check_terminologies(ctx: Context) -> None:
    """ORPHA, HPO, CIM-10 codes exist (when the terminology is loaded); a confirmed diagnosis
    carries a precise ORPHA code; INSEE communes and ISO countries exist."""
    orpha: list[tuple[Row, str, str, int, str]] = []  # row, attribute, path, code, item
    hpo: list[tuple[Row, str, str, str]] = []
    cim10: list[tuple[Row, str, str, str]] = []
    for row in ctx.rows("diagnoses"):
        coded = [("disease", row.where("disease"), row.get("disease"))]
        coded += [
            ("signs", f"{row.where('signs')}[{index}]", code)
            for index, code in row.get("signs") or []
        ]
        for name, path, code in coded:
            if code is None:
                continue
            if code.system in (oids.ORPHA, oids.ORPHA_GROUPS):
                number = orphanet.parse_code(code.code)
                if not number:
                    ctx.add(
                        "orpha_unknown",
                        row,
                        name,
                        f"« {code.code} » n'est pas un code ORPHA (nombre attendu, ex. 586).",
                        path=path,
                    )
                else:
                    orpha.append((row, name, path, number, ctx.item(row, name)))
            elif code.system == oids.HPO:
                term = hpo_api.parse_id(code.code)
                if term is None:
                    ctx.add(
                        "hpo_unknown",
                        row,
                        name,
                        f"« {code.code} » n'est pas un identifiant HPO (HP:0000000).",
                        path=path,
                    )
                else:
                    hpo.append((row, name, path, term))
            elif code.system == oids.CIM10:
                # Only well-formed codes reach the database (PostgreSQL refuses some characters).
                cim = code.code.replace(".", "").upper()
                if not _CIM10.fullmatch(cim):
                    ctx.add(
                        "cim10_unknown",
                        row,
                        name,
                        f"« {code.code} » n'est pas un code CIM-10.",
                        path=path,
                    )
                else:
                    cim10.append((row, name, path, cim))
    cause = ctx.record.get("death_cause_orpha")
    if cause is not None:
        orpha.append(
            (
                ctx.record,
                "death_cause_orpha",
                "death_cause_orpha",
                cause,
                ctx.item(ctx.record, "death_cause_orpha"),
            )
        )

    if orpha:
        known = ctx.terminologies.orpha({code for *_, code, _item in orpha})
        if known is not None:
            for row, name, path, code, item in orpha:
                info = known.get(code)
                if info is None:
                    ctx.add(
                        "orpha_unknown",
                        row,
                        name,
                        f"Le code ORPHA:{code} n'existe pas dans la nomenclature Orphanet.",
                        item=item,
                        path=path,
                    )
                elif not info.active:
                    why = (
                        "n'est plus considéré comme rare en Europe"
                        if info.status == "non_rare"
                        else "n'est plus actif"
                    )
                    proposal = ", ".join(f"ORPHA:{target}" for target in info.replacements)
                    proposal = (
                        f"remplacement proposé : {proposal}"
                        if proposal
                        else "aucun code de remplacement"
                    )
                    ctx.add(
                        "orpha_inactive",
                        row,
                        name,
                        f"Le code ORPHA:{code} {why} ; {proposal}.",
                        item=item,
                        path=path,
                    )
                elif (
                    name == "disease"
                    and info.level == "group"
                    and _canonical(ctx, row, "status") == STATUS_CONFIRMED
                ):
                    ctx.add(
                        "confirmed_group_code",
                        row,
                        name,
                        f"Le diagnostic est confirmé mais ORPHA:{code} est un groupe de maladies : "
                        f"indiquez la maladie ou le sous-type précis.",
                        item=item,
                        path=path,
                    )
    if hpo:
        known_hpo = ctx.terminologies.hpo({term for *_, term in hpo})
        if known_hpo is not None:
            for row, name, path, term in hpo:
                info = known_hpo.get(term)
                if info is None:
                    ctx.add(
                        "hpo_unknown",
                        row,
                        name,
                        f"Le terme HPO « {term} » n'existe pas.",
                        path=path,
                    )
                elif info.obsolete:
                    proposal = info.replaced_by or "aucun terme de remplacement"
                    ctx.add(
                        "hpo_obsolete",
                        row,
                        name,
                        f"Le terme HPO {term} est obsolète ; remplacement proposé : {proposal}.",
                        path=path,
                    )
    if cim10:
        known_cim10 = ctx.terminologies.cim10({code for *_, code in cim10})
        if known_cim10 is not None:
            for row, name, path, code in cim10:
                if code not in known_cim10:
                    ctx.add(
                        "cim10_unknown",
                        row,
                        name,
                        f"Le code CIM-10 « {code} » n'existe pas.",
                        path=path,
                    )
    _check_places(ctx)


def _places(ctx: Context, rule_id: str) -> list[tuple[Row, str]]:
    return [
        (row, name)
        for row in ctx.all_rows()
        for (data_class, name), (rule, *_) in FORMATS.items()
        if rule == rule_id and data_class is row.data_class
    ]


def _check_places(ctx: Context) -> None:
    # Well-formed codes only (badly formed ones are reported by check_identifiers); 99xxx
    # are INSEE codes of foreign countries (birthplace abroad), not communes.
    communes = [
        (row, name, row.get(name)) for row, name in _places(ctx, "commune_invalid") if row.get(name)
    ]
    communes = [
        (row, name, value)
        for row, name, value in communes
        if identifiers.commune_problem(value) is None and not value.startswith("99")
    ]
    if communes:
        known = ctx.terminologies.communes({value for *_, value in communes})
        if known is not None:
            for row, name, value in communes:
                if value not in known:
                    ctx.add(
                        "commune_unknown",
                        row,
                        name,
                        f"Le code INSEE « {value} » ne correspond à aucune commune connue.",
                    )
    countries = [
        (row, name, row.get(name)) for row, name in _places(ctx, "country_invalid") if row.get(name)
    ]
    countries = [
        (row, name, value)
        for row, name, value in countries
        if identifiers.country_problem(value) is None
    ]
    if countries:
        known = ctx.terminologies.countries({value for *_, value in countries})
        if known is not None:
            for row, name, value in countries:
                if value not in known:
                    ctx.add(
                        "country_unknown",
                        row,
                        name,
                        f"Le code pays « {value} » ne correspond à aucun pays ISO 3166.",
                    )


_RPPS = ("rpps_invalid", "Numéro RPPS", identifiers.rpps_problem)
_FINESS = ("finess_invalid", "Numéro FINESS", identifiers.finess_problem)
_COMMUNE = ("commune_invalid", "Code INSEE", identifiers.commune_problem)
_COUNTRY = ("country_invalid", "Code pays", identifiers.country_problem)
# Identifiers and place codes: (data class, attribute) -> (rule, what, check). Their length
# is part of their format, so reading does not reject a too long value first.
FORMATS: dict[tuple[type, str], tuple[str, str, Callable[[str], str | None]]] = {
    (RecordData, "ins"): ("ins_invalid", "Matricule INS", identifiers.ins_problem),
    (RecordData, "gp_rpps"): _RPPS,
    (RecordData, "author_rpps"): _RPPS,
    (CareEpisodeData, "referent_rpps"): _RPPS,
    (ActivityData, "performer_rpps"): _RPPS,
    (RecordData, "gp_finess"): _FINESS,
    (ActivityData, "place_finess"): _FINESS,
    (RecordData, "birth_commune"): _COMMUNE,
    (RecordData, "residence_commune"): _COMMUNE,
    (ActivityData, "place_commune"): _COMMUNE,
    (ActivityData, "residence_commune"): _COMMUNE,
    (RecordData, "birth_country"): _COUNTRY,
    (RecordData, "residence_country"): _COUNTRY,
    (ActivityData, "place_country"): _COUNTRY,
    (ActivityData, "residence_country"): _COUNTRY,
}


def check_identifiers(ctx: Context) -> None:
    """INS (with its key), RPPS, FINESS (with its key), INSEE commune and ISO country formats."""
    for row in ctx.all_rows():
        for name, value in row.values.items():
            rule_id, what, problem_of = FORMATS.get((row.data_class, name), (None, "", None))
            if rule_id is None or not value:
                continue
            problem = problem_of(value)
            if problem:
                ctx.add(rule_id, row, name, f"{what} « {value} » : {problem}.")
            elif name == "ins" and not identifiers.ins_has_key(value):
                ctx.add(
                    "ins_without_key",
                    row,
                    name,
                    f"Le matricule INS « {value} » est donné sans sa clé : il n'a pas pu être vérifié.",
                )


def check_ranges(ctx: Context) -> None:
    """Numbers within the definition's limits (error) and the soft ranges (warning)."""
    for row in ctx.all_rows():
        for name, value in row.values.items():
            if spec(row.data_class, name).kind not in ("int", "decimal"):
                continue
            item = ctx.item(row, name)
            limits = ctx.definition.limits(item) if item != ANY_ITEM else None
            if limits is None:
                continue
            unit = f" {limits.unit}" if limits.unit else ""
            if (limits.minimum is not None and value < limits.minimum) or (
                limits.maximum is not None and value > limits.maximum
            ):
                ctx.add(
                    "out_of_range",
                    row,
                    name,
                    f"{capital(ctx.definition.label(item, ctx.version))} : {value}{unit} est hors des limites "
                    f"({_bound(limits.minimum)} à {_bound(limits.maximum)}{unit}).",
                    item=item,
                )
            elif item in SOFT_LIMITS:
                low, high = SOFT_LIMITS[item]
                if not low <= value <= high:
                    ctx.add(
                        "implausible_value",
                        row,
                        name,
                        f"{capital(ctx.definition.label(item, ctx.version))} : {value}{unit} est inhabituel "
                        f"(attendu entre {low} et {high}{unit}) : à vérifier.",
                        item=item,
                    )


def _bound(value: Decimal | None) -> str:
    return "…" if value is None else f"{value.normalize():f}"


def check_dates(ctx: Context) -> None:
    """No date in the future; no date before 1900."""
    for row in ctx.all_rows():
        for name, value in row.values.items():
            if spec(row.data_class, name).kind not in ("partial_date", "date"):
                continue
            if value.earliest > ctx.today:
                ctx.add(
                    "date_in_future",
                    row,
                    name,
                    f"La date {value} est postérieure à la date du jour ({_day(ctx.today)}).",
                )
            elif value.latest < OLDEST_DATE:
                ctx.add(
                    "date_too_old",
                    row,
                    name,
                    f"La date {value} est antérieure à 1900 : erreur de saisie probable.",
                )


def _day(date: dt.date) -> str:
    return str(PartialDate.from_date(date))


def check_vital_status(ctx: Context) -> None:
    record = ctx.record
    birth, death, deceased = (
        record.get("birth_date"),
        record.get("death_date"),
        record.get("deceased"),
    )
    if birth and death and death.latest < birth.earliest:
        ctx.add(
            "death_before_birth",
            record,
            "death_date",
            f"La date de décès ({death}) est antérieure à la date de naissance ({birth}).",
        )
    related, cause = record.get("death_related_to_rd"), record.get("death_cause_orpha")
    if deceased is not True:
        for name, what in (
            ("death_date", "Une date de décès est donnée"),
            ("death_related_to_rd", "Le lien du décès avec la maladie rare est renseigné"),
            ("death_cause_orpha", "Une maladie rare cause du décès est donnée"),
        ):
            if record.get(name) is not None:
                ctx.add(
                    "death_details_without_death",
                    record,
                    name,
                    f"{what} alors que le patient n'est pas indiqué décédé.",
                )
    if related == "oui" and cause is None:
        ctx.add(
            "death_cause_missing",
            record,
            "death_cause_orpha",
            "Le décès est lié à la maladie rare : indiquez le code ORPHA de la maladie en cause.",
        )
    elif cause is not None and related in ("non", "inconnu"):
        ctx.add(
            "death_cause_missing",
            record,
            "death_cause_orpha",
            f"Une maladie cause du décès (ORPHA:{cause}) est donnée alors que le lien du décès avec la maladie rare est « {related} ».",
        )


def check_events_and_birth(ctx: Context) -> None:
    """Activities, inclusions and opposition between birth and death (certain contradictions
    only: partial dates compare by their earliest and latest days)."""
    record = ctx.record
    birth, death = record.get("birth_date"), record.get("death_date")
    foetal_record = record.get("is_foetus") is True  # a foetus's record starts before its birth
    for row in ctx.rows("activities"):
        date = row.get("date")
        if date is None:
            continue
        if birth and not foetal_record and not row.get("foetus") and date.latest < birth.earliest:
            ctx.add(
                "activity_before_birth",
                row,
                "date",
                f"L'activité du {date} est antérieure à la naissance ({birth}).",
            )
        if death and date.earliest > death.latest:
            ctx.add(
                "activity_after_death",
                row,
                "date",
                f"L'activité du {date} est postérieure au décès ({death}).",
            )
    if birth and not foetal_record:
        for row in ctx.rows("care_episodes"):
            date = row.get("inclusion_date")
            if date and date.latest < birth.earliest:
                ctx.add(
                    "inclusion_before_birth",
                    row,
                    "inclusion_date",
                    f"La date d'inclusion ({date}) est antérieure à la date de naissance ({birth}).",
                )
    opposed_on = record.get("opposition_on")
    if opposed_on and record.get("opposition") is not True:
        ctx.add(
            "opposition_date_without_opposition",
            record,
            "opposition_on",
            f"Une date d'opposition ({opposed_on}) est donnée alors que le patient ne s'oppose pas.",
        )
    if opposed_on and birth and not foetal_record and opposed_on.latest < birth.earliest:
        ctx.add(
            "opposition_before_birth",
            record,
            "opposition_on",
            f"La date d'opposition ({opposed_on}) est antérieure à la date de naissance ({birth}).",
        )


def check_births_and_mother(ctx: Context) -> None:
    record = ctx.record
    if record.get("multiple_birth_rank") is not None and record.get("multiple_birth") is not True:
        ctx.add(
            "multiple_birth_rank_without_multiple_birth",
            record,
            "multiple_birth_rank",
            f"Un rang de naissance ({record.get('multiple_birth_rank')}) est donné sans naissance multiple.",
        )
    for row in ctx.foetuses:
        if row.get("rank") is not None and row.get("multiple") is not True:
            ctx.add(
                "multiple_birth_rank_without_multiple_birth",
                row,
                "rank",
                f"Un rang ({row.get('rank')}) est donné sans grossesse multiple.",
            )
    if (
        record.get("is_foetus") is True
        and not record.get("mother")
        and not (record.get("mother_birth_name") and record.get("mother_first_name"))
    ):
        ctx.add(
            "foetus_without_mother",
            record,
            "mother_birth_name",
            "Un dossier fœtus doit identifier la mère : nom de naissance et premier prénom de la mère, ou dossier de la mère.",
        )
    for row in ctx.rows("pregnancies"):
        start, end = row.get("start"), row.get("end")
        if start and end and end.latest < start.earliest:
            ctx.add(
                "pregnancy_end_before_start",
                row,
                "end",
                f"La fin de grossesse ({end}) est antérieure à son début ({start}).",
            )


def check_diagnoses(ctx: Context) -> None:
    for row in ctx.rows("diagnoses"):
        disease = row.get("disease")
        complex_disease = row.get("complex_non_rare") is True
        if disease and complex_disease and disease.system != oids.CIM10:
            ctx.add(
                "complex_disease_code_system",
                row,
                "disease",
                f"Une maladie complexe non rare se code en CIM-10, pas en {_system_name(disease.system)} (« {disease.code} »).",
            )
        elif disease and not complex_disease and disease.system == oids.CIM10:
            ctx.add(
                "complex_disease_code_system",
                row,
                "disease",
                f"Le code CIM-10 « {disease.code} » n'est permis que pour une maladie complexe non rare : cochez-la, ou donnez un code ORPHA.",
            )
    for row in ctx.rows("activities"):
        if _canonical(ctx, row, "context") == CONTEXT_OTHER and not row.get(
            "context_detail",
        ):
            ctx.add(
                "context_other_without_detail",
                row,
                "context_detail",
                "Le contexte de l'activité est « autre contexte » : précisez-le.",
            )


def _canonical(ctx: Context, row: Row, name: str) -> Code | None:
    value = row.get(name)
    if value is None:
        return None
    item = ctx.item(row, name)
    code = Code(value.code, value.system)
    return ctx.definition.canonical(item, code) if item != ANY_ITEM else code


# -- ages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeSpan:
    """An age class as months since birth: the true age lies in [lower, upper)."""

    lower: Decimal
    upper: Decimal
    klass: Code


def age_span(ctx: Context, row: Row, name: str) -> AgeSpan | None:
    """The span of an age class, None when not comparable (indéterminé, aucun signe) or unreadable."""
    age = row.get(name)
    klass = _canonical(ctx, row, name)
    if age is None or klass is None:
        return None
    if klass == AGE_FOETAL:
        return AgeSpan(Decimal(-10), Decimal(0), klass)
    if klass == AGE_NEONATAL:
        return AgeSpan(Decimal(0), Decimal(1), klass)
    if klass == AGE_POST_MORTEM:
        return AgeSpan(_POST_MORTEM_MONTHS, _POST_MORTEM_MONTHS + 1, klass)
    if klass == AGE_POSTNATAL and _quantity_ok(age):
        per_unit = Decimal(12) if age.unit == AgeUnit.YEARS else Decimal(1)
        value = age.value
        # "5 ans" means from 5 to 6 years; "1,5 an" is as precise as its decimals.
        step = Decimal(1) if value == value.to_integral_value() else Decimal("0.01")
        return AgeSpan(value * per_unit, (value + step) * per_unit, klass)
    return None


def _quantity_ok(age: AgeAt) -> bool:
    return (
        age.value is not None
        and age.unit in AgeUnit.values
        and Decimal(0) <= age.value <= Decimal(1500)
    )


def check_ages(ctx: Context) -> None:
    for row in ctx.rows("diagnoses"):
        for name in AGE_ATTRIBUTES:
            _check_age_quantity(ctx, row, name)
        onset = age_span(ctx, row, "onset_age")
        for name, rule_id in (
            ("clinical_diagnosis_age", "clinical_diagnosis_before_onset"),
            ("genetic_diagnosis_age", "genetic_diagnosis_before_onset"),
        ):
            span = age_span(ctx, row, name)
            if onset and span and span.upper <= onset.lower:
                ctx.add(
                    rule_id,
                    row,
                    name,
                    f"{capital(AGE_NAMES[name])} ({_age_text(row.get(name), span)}) est antérieur à "
                    f"l'âge aux premiers signes ({_age_text(row.get('onset_age'), onset)}).",
                )
        _check_ages_against_dates(ctx, row)


def _check_age_quantity(ctx: Context, row: Row, name: str) -> None:
    age = row.get(name)
    klass = _canonical(ctx, row, name)
    if age is None or klass is None:
        return
    value_item = ctx.item(row, name, "value")
    if klass == AGE_POSTNATAL:
        if age.value is None or age.unit is None:
            ctx.add(
                "age_quantity_missing",
                row,
                name,
                f"{capital(AGE_NAMES[name])} est postnatal : indiquez sa valeur et son unité (mois ou ans).",
                item=value_item,
            )
        elif age.unit not in AgeUnit.values:
            ctx.add(
                "age_quantity_missing",
                row,
                name,
                f"L'unité « {age.unit} » de {AGE_NAMES[name]} n'est pas permise : « mo » (mois) ou « a » (ans).",
                item=value_item,
            )
        else:
            _check_age_limits(ctx, row, name, age, value_item)
    elif age.value is not None or age.unit is not None:
        ctx.add(
            "age_quantity_forbidden",
            row,
            name,
            f"Une valeur n'est permise pour {AGE_NAMES[name]} que si la classe est « période de la vie entre la naissance et la mort ».",
            item=value_item,
        )


def _check_age_limits(ctx: Context, row: Row, name: str, age: AgeAt, value_item: str) -> None:
    # The definition's limits of an age value are read in months (1,500 months = 125 years).
    limits = ctx.definition.limits(value_item) if value_item != ANY_ITEM else None
    months = age.value * (12 if age.unit == AgeUnit.YEARS else 1)
    minimum = limits.minimum if limits and limits.minimum is not None else Decimal(0)
    maximum = limits.maximum if limits and limits.maximum is not None else Decimal(1500)
    if not minimum <= months <= maximum:
        ctx.add(
            "out_of_range",
            row,
            name,
            f"{capital(AGE_NAMES[name])} ({_age_text(age, None)}) est hors des limites ({_bound(minimum)} à {_bound(maximum)} mois).",
            item=value_item,
        )


def _age_text(age: AgeAt, span: AgeSpan | None) -> str:
    if span is None or span.klass == AGE_POSTNATAL:
        unit = "ans" if age.unit == AgeUnit.YEARS else "mois"
        return f"{age.value.normalize():f} {unit}" if age.value is not None else "sans valeur"
    return {
        AGE_FOETAL: "période fœtale",
        AGE_NEONATAL: "néonatal",
        AGE_POST_MORTEM: "post-mortem",
    }.get(span.klass, age.code)


def _check_ages_against_dates(ctx: Context, row: Row) -> None:
    """Where computable: the moment an age stands for is not after the diagnosis date, the death
    or today; post-mortem needs a patient not recorded alive."""
    record = ctx.record
    birth, death = record.get("birth_date"), record.get("death_date")
    diagnosed = row.get("date")
    for name in AGE_ATTRIBUTES:
        span = age_span(ctx, row, name)
        if span is None:
            continue
        if span.klass == AGE_POST_MORTEM:
            if record.get("deceased") is False:
                ctx.add(
                    "age_inconsistent_with_dates",
                    row,
                    name,
                    f"{capital(AGE_NAMES[name])} est « post-mortem » alors que le patient est indiqué vivant.",
                )
            elif death and diagnosed and diagnosed.latest < death.earliest:
                ctx.add(
                    "age_inconsistent_with_dates",
                    row,
                    name,
                    f"{capital(AGE_NAMES[name])} est « post-mortem » mais le diagnostic ({diagnosed}) précède le décès ({death}).",
                )
            continue
        if birth is None or span.klass == AGE_FOETAL:
            continue
        # The earliest day the age can stand for (whole months, to stay on the safe side).
        moment = _add_months(birth.earliest, math.floor(span.lower))
        if moment is None:
            continue
        text = f"{capital(AGE_NAMES[name])} ({_age_text(row.get(name), span)}, soit au plus tôt le {_day(moment)})"
        if moment > ctx.today:
            ctx.add(
                "age_inconsistent_with_dates",
                row,
                name,
                f"{text} est postérieur à la date du jour.",
            )
        elif death and moment > death.latest:
            ctx.add(
                "age_inconsistent_with_dates",
                row,
                name,
                f"{text} est postérieur au décès ({death}).",
            )
        elif diagnosed and moment > diagnosed.latest:
            ctx.add(
                "age_inconsistent_with_dates",
                row,
                name,
                f"{text} est postérieur à la date du diagnostic ({diagnosed}).",
            )


def _add_months(date: dt.date, months: int) -> dt.date | None:
    year, month = divmod(date.year * 12 + date.month - 1 + months, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    return dt.date(year, month + 1, min(date.day, calendar.monthrange(year, month + 1)[1]))


CHECKS: tuple[Callable[[Context], None], ...] = (
    check_version_items,
    check_required,
    check_value_sets,
    check_terminologies,
    check_identifiers,
    check_ranges,
    check_dates,
    check_vital_status,
    check_events_and_birth,
    check_births_and_mother,
    check_diagnoses,
    check_ages,
)


# -- entry point ---------------------------------------------------------------------------


def validate(
    record: Any,
    *,
    sdm_version: str | None = None,
    today: dt.date | None = None,
    definition: Definition | None = None,
    terminologies: Terminologies | None = None,
) -> list[Message]:
    """Every problem of ``record`` (a RecordData, or a mapping with the same keys) as messages.

    Never raises on bad input. ``sdm_version`` overrides the record's own version (default:
    the current one); ``today`` defaults to the current date; ``definition`` and
    ``terminologies`` default to bamara.sdm and to the terminologies loaded in the database.
    """
    from .reference import default_definition, default_terminologies

    definition = definition or default_definition()
    terminologies = terminologies or default_terminologies()
    today = today if isinstance(today, dt.date) else dt.date.today()
    if isinstance(today, dt.datetime):
        today = today.date()
    problems: list[Problem] = []
    row = read(record, RecordData, "", problems, free_length=frozenset(FORMATS))
    version = (
        sdm_version or (row.get("sdm_version") if row else None) or definition.current_version()
    )
    version_problem = not isinstance(version, str) or not definition.knows_version(version)
    if version_problem:
        unknown, version = str(version)[:20], definition.current_version()
    messages = [
        RULES_BY_ID[p.rule_id].message(
            item_of(definition, version, p.data_class, p.name)
            if p.data_class and p.name
            else ANY_ITEM,
            p.path,
            p.text,
        )
        for p in problems
    ]
    if version_problem:
        messages.append(
            RULES_BY_ID["unknown_sdm_version"].message(
                "doc_sdm_version",
                "sdm_version",
                f"La version du SDM-MR « {unknown} » est inconnue : le dossier est vérifié selon la version {version}.",
            )
        )
    if row is None:
        return messages
    ctx = Context(definition, terminologies, version, today, row, messages)
    for check in CHECKS:
        try:
            check(ctx)
        except DatabaseError:
            raise  # the environment is broken, not the input: do not hide it
        except Exception:  # a bug in one rule must not stop an import; tests assert none happen
            log.exception("validation check %s failed", check.__name__)
            ctx.messages.append(
                RULES_BY_ID["check_failed"].message(
                    ANY_ITEM, "", f"Une vérification n'a pas pu être menée ({check.__name__})."
                )
            )
    return ctx.messages
