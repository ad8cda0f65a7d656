"""What the validation layer asks of the SDM-MR definition and of the terminologies.

The checks talk to these two small interfaces only; ``SdmReference`` and ``DbTerminologies``
implement them with bamara.sdm and bamara.terminologies, and tests may pass their own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from bamara.records.fields import Code

CodeStatus = Literal["ok", "other_version", "unknown", "no_value_set"]


@dataclass(frozen=True)
class CodeCheck:
    status: CodeStatus
    value_set_name: str = ""
    versions: tuple[str, ...] = ()  # for other_version: the SDM versions the code belongs to


@dataclass(frozen=True)
class Limits:
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    unit: str = ""


class Definition(Protocol):
    def current_version(self) -> str: ...

    def knows_version(self, version: str) -> bool: ...

    def item_id(self, column: str, version: str) -> str | None:
        """The item stored in a column, e.g. "records.Patient.sex_code" -> "sexe"."""

    def columns(self, item_id: str, version: str) -> tuple[str, ...]:
        """The columns an item is stored in ("records.Model.field")."""

    def label(self, item_id: str, version: str) -> str: ...

    def in_version(self, item_id: str, version: str) -> bool:
        """Whether the item is collected in that version (between since and retired_in)."""

    def mandatory_items(self, version: str) -> list[tuple[str, str]]:
        """(item id, scope) of the items users must enter in that version."""

    def check_code(self, item_id: str, code: Code, version: str) -> CodeCheck: ...

    def stored_values(
        self, item_id: str, column: str, version: str
    ) -> tuple[str, frozenset[str]] | None:
        """For a plain column holding a local code (e.g. "oui"): the value-set name and values."""

    def allowed_systems(self, item_id: str, version: str) -> frozenset[str] | None:
        """Code systems of a terminology-bound item (ORPHA, HPO...), None if not such an item."""

    def canonical(self, item_id: str, code: Code) -> Code:
        """The code the concept has in the current version (itself if not recoded)."""

    def limits(self, item_id: str) -> Limits | None: ...


@dataclass(frozen=True)
class OrphaInfo:
    active: bool
    level: str  # group | disorder | subtype
    replacements: tuple[int, ...] = ()  # active codes standing for an inactive one
    status: str = "active"  # active | obsolete | deprecated | non_rare (Orphanet)


@dataclass(frozen=True)
class HpoInfo:
    obsolete: bool
    replaced_by: str = ""


class Terminologies(Protocol):
    """Bulk look-ups; each returns None when that terminology is not loaded."""

    def orpha(self, codes: set[int]) -> dict[int, OrphaInfo] | None: ...

    def hpo(self, ids: set[str]) -> dict[str, HpoInfo] | None: ...

    def cim10(self, codes: set[str]) -> set[str] | None:
        """The codes (without dot, e.g. E840) that exist."""

    def communes(self, codes: set[str]) -> set[str] | None: ...

    def countries(self, codes: set[str]) -> set[str] | None: ...


class NoTerminologies:
    """No terminology loaded: terminology checks are skipped."""

    def orpha(self, codes: set[int]) -> None:
        return None

    def hpo(self, ids: set[str]) -> None:
        return None

    def cim10(self, codes: set[str]) -> None:
        return None

    def communes(self, codes: set[str]) -> None:
        return None

    def countries(self, codes: set[str]) -> None:
        return None


# -- the real definition ---------------------------------------------------------------------


class SdmReference:
    """``Definition`` over bamara.sdm (the YAML definition and the ANS value sets)."""

    def __init__(self) -> None:
        from bamara.sdm import concepts, definition

        self._sdm = definition
        self._concepts = concepts
        # Answers memoised per (item or column, version): the definition is loaded once per
        # process and never changes, and validation asks the same questions for every row.
        self._items: dict[tuple[str, str], Any] = {}
        self._item_ids: dict[tuple[str, str], str | None] = {}
        self._in_version: dict[tuple[str, str], bool] = {}
        self._versions = frozenset(definition.versions())
        self._by_column: dict[str, list[str]] = {}
        for version in definition.versions():
            for item in definition.get(version).items:
                for column in item.storage:
                    ids = self._by_column.setdefault(column, [])
                    if item.id not in ids:
                        ids.append(item.id)

    def current_version(self) -> str:
        return self._sdm.current_version()

    def knows_version(self, version: str) -> bool:
        return version in self._versions

    def _item(self, item_id: str, version: str) -> Any:
        """The item as it is in ``version``, else in the current version (None if unknown)."""
        key = (item_id, version)
        if key not in self._items:
            found = None
            for candidate in (version, self.current_version()):
                if self.knows_version(candidate):
                    definition = self._sdm.get(candidate)
                    if definition.has_item(item_id):
                        found = definition.item(item_id)
                        break
            self._items[key] = found
        return self._items[key]

    def item_id(self, column: str, version: str) -> str | None:
        """The item stored in ``column``; when several are (e.g. the 2022 and 2024 clinical
        signs), the one collected in ``version``."""
        key = (column, version)
        if key not in self._item_ids:
            ids = self._by_column.get(column, [])
            self._item_ids[key] = next((item_id for item_id in ids if self.in_version(item_id, version)),
                                       ids[0] if ids else None)
        return self._item_ids[key]

    def columns(self, item_id: str, version: str) -> tuple[str, ...]:
        item = self._item(item_id, version)
        return item.storage if item else ()

    def label(self, item_id: str, version: str) -> str:
        item = self._item(item_id, version)
        return item.label_fr if item else item_id

    def in_version(self, item_id: str, version: str) -> bool:
        key = (item_id, version)
        known = self._in_version.get(key)
        if known is None:
            if not self.knows_version(version):
                known = False
            else:
                definition = self._sdm.get(version)
                known = definition.has_item(item_id) and definition.item(item_id).active
            self._in_version[key] = known
        return known

    def mandatory_items(self, version: str) -> list[tuple[str, str]]:
        """(item id, scope) of the items users must enter in ``version``."""
        return [
            (item.id, item.scope)
            for item in self._sdm.get(version).active_items()
            if item.requirement.level == "mandatory" and item.entry == "user"
        ]

    def _value_set_oid(self, item: Any) -> str | None:
        if item.value_set:
            return item.value_set
        if len(item.component_value_sets) == 1:  # e.g. the sex of a foetus's identity
            return next(iter(item.component_value_sets.values()))
        return None

    def check_code(self, item_id: str, code: Code, version: str) -> CodeCheck:
        from bamara.sdm.definition import UnknownCodeError

        item = self._item(item_id, version)
        oid = self._value_set_oid(item) if item else None
        if oid is None:
            return CodeCheck("no_value_set")
        definition = self._sdm.get(version)
        value_set = (
            definition.value_set_for(item) if oid == item.value_set else definition.value_set(oid)
        )
        if value_set.contains(code.code, code.system):
            return CodeCheck("ok", value_set.name_fr)
        try:
            concept = self._concepts.normalise(oid, code.code, code.system)
        except UnknownCodeError:
            return CodeCheck("unknown", value_set.name_fr)
        if any(value_set.contains(*key) for key in (concept.key, *concept.previous)):
            return CodeCheck("ok", value_set.name_fr)  # another code of the same concept
        versions = tuple(
            other
            for other in self._sdm.versions()
            if self._sdm.get(other).value_set(oid).contains(code.code, code.system)
        )
        return CodeCheck("other_version", value_set.name_fr, versions)

    def stored_values(
        self, item_id: str, column: str, version: str
    ) -> tuple[str, frozenset[str]] | None:
        """(value-set name, values) a plain column may hold, when it is the column of a coded
        item whose value set is local (e.g. consanguinity: oui, non, inconnu)."""
        item = self._item(item_id, version)
        if item is None or not item.value_set or not item.storage or item.storage[0] != column:
            return None
        value_set = self._sdm.get(version).value_set_for(item)
        if value_set.origin != "local":
            return None
        values = frozenset(
            str(code.stored_value) for code in value_set.codes if code.stored_value is not None
        )
        return value_set.name_fr, values

    def allowed_systems(self, item_id: str, version: str) -> frozenset[str] | None:
        item = self._item(item_id, version)
        if item is None or item.type != "coded" or not item.terminologies:
            return None
        return frozenset(item.terminologies)

    def canonical(self, item_id: str, code: Code) -> Code:
        from bamara.sdm.definition import UnknownCodeError

        item = self._item(item_id, self.current_version())
        oid = self._value_set_oid(item) if item else None
        if oid is None:
            return code
        try:
            concept = self._concepts.normalise(oid, code.code, code.system)
        except UnknownCodeError:
            return code
        return Code(concept.code, concept.system)

    def limits(self, item_id: str) -> Limits | None:
        item = self._item(item_id, self.current_version())
        rules = item.rules if item else None
        if rules is None or (rules.min is None and rules.max is None):
            return None
        return Limits(
            Decimal(str(rules.min)) if rules.min is not None else None,
            Decimal(str(rules.max)) if rules.max is not None else None,
            rules.unit or "",
        )


@functools.cache
def default_definition() -> SdmReference:
    return SdmReference()


# -- the terminologies loaded in the database ------------------------------------------------


class DbTerminologies:
    """``Terminologies`` over bamara.terminologies. A terminology whose table is empty counts
    as not loaded (its checks are skipped). Answers are cached per instance: share one
    instance to check many records (a scorecard), make a new one to see a reload."""

    def __init__(self) -> None:
        self._loaded: dict[type, bool] = {}
        self._orpha: dict[int, OrphaInfo | None] = {}
        self._hpo: dict[str, HpoInfo | None] = {}
        self._cim10: dict[str, bool] = {}
        self._communes: dict[str, bool] = {}
        self._countries: dict[str, bool] = {}

    def _is_loaded(self, model: type) -> bool:
        if model not in self._loaded:
            self._loaded[model] = model.objects.exists()  # type: ignore[attr-defined]
        return self._loaded[model]

    def orpha(self, codes: set[int]) -> dict[int, OrphaInfo] | None:
        from bamara.terminologies import orphanet
        from bamara.terminologies.models import OrphaConcept

        if not self._is_loaded(OrphaConcept):
            return None
        missing = codes - self._orpha.keys()
        found = {row.code: row for row in OrphaConcept.objects.filter(code__in=missing)}
        for code in missing:
            row = found.get(code)
            if row is None:
                self._orpha[code] = None
            elif row.is_active:
                self._orpha[code] = OrphaInfo(True, row.level)
            else:
                self._orpha[code] = OrphaInfo(
                    False, row.level, tuple(orphanet.resolve(code)), row.status
                )
        return {code: info for code in codes if (info := self._orpha[code]) is not None}

    def hpo(self, ids: set[str]) -> dict[str, HpoInfo] | None:
        from bamara.terminologies import hpo
        from bamara.terminologies.models import HpoTerm

        if not self._is_loaded(HpoTerm):
            return None
        missing = ids - self._hpo.keys()
        found = {row.id: row for row in HpoTerm.objects.filter(id__in=missing)}
        for term_id in missing:
            row = found.get(term_id)
            if row is not None and not row.is_obsolete:
                self._hpo[term_id] = HpoInfo(False)
            elif row is not None or hpo.parse_id(term_id) == term_id:
                # obsolete, or an alternative id: the API follows replacements and aliases
                current = hpo.resolve(term_id)
                self._hpo[term_id] = HpoInfo(True, current or "") if row or current else None
            else:
                self._hpo[term_id] = None
        return {term_id: info for term_id in ids if (info := self._hpo[term_id]) is not None}

    def cim10(self, codes: set[str]) -> set[str] | None:
        """Existing codes; a code whose category has no code loaded (the bundled CIM-10 is a
        subset) counts as existing, since it cannot be checked."""
        from bamara.terminologies.models import Cim10Code

        if not self._is_loaded(Cim10Code):
            return None
        missing = codes - self._cim10.keys()
        if missing:
            existing = set(
                Cim10Code.objects.filter(code__in=missing).values_list("code", flat=True)
            )
            categories = set(
                Cim10Code.objects.filter(category__in={code[:3] for code in missing})
                .values_list("category", flat=True)
                .distinct()
            )
            for code in missing:
                self._cim10[code] = code in existing or code[:3] not in categories
        return {code for code in codes if self._cim10[code]}

    def communes(self, codes: set[str]) -> set[str] | None:
        from bamara.terminologies.models import Commune

        return self._existing(Commune, "code", codes, self._communes)

    def countries(self, codes: set[str]) -> set[str] | None:
        from bamara.terminologies.models import Country

        return self._existing(Country, "code", codes, self._countries)

    def _existing(
        self, model: Any, column: str, codes: set[str], cache: dict[str, bool]
    ) -> set[str] | None:
        if not self._is_loaded(model):
            return None
        missing = codes - cache.keys()
        if missing:
            found = set(
                model.objects.filter(**{f"{column}__in": missing}).values_list(column, flat=True)
            )
            cache.update({code: code in found for code in missing})
        return {code for code in codes if cache[code]}


def default_terminologies() -> DbTerminologies:
    return DbTerminologies()
