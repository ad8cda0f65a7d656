"""Loads and checks the whole SDM-MR definition: YAML files, ANS value sets, concepts.

``SdmRegistry`` reads ``bamara/sdm/definitions/*.yaml`` and the bundled IHE SVS files of
``bamara/sdm/value_sets/``, checks every cross-reference, and builds one ``SdmDefinition``
per SDM-MR version. Everything is validated when the registry is built, so a broken
definition fails loudly (``DefinitionError``) at start-up and in the tests.

Use the cached instance through ``bamara.sdm.definition`` rather than this module.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from . import oids
from .schema import (
    Cardinality,
    CdaCode,
    CdaSpec,
    Chapter,
    ChapterSpec,
    Concept,
    ConceptsFileSpec,
    Item,
    ItemOverride,
    ItemSpec,
    ItemType,
    Mapping,
    SourceSpec,
    ValueSet,
    ValueSetCode,
    ValueSetsFileSpec,
    VersionSpec,
)
from .svs import SvsConcept, SvsError, SvsValueSet, parse_file

PACKAGE_DIR = Path(__file__).resolve().parent
DEFINITIONS_DIR = PACKAGE_DIR / "definitions"
VALUE_SETS_DIR = PACKAGE_DIR / "value_sets"
KIT_FOLDERS: dict[str, str] = {"2.41": "TestContenuCDA-2-41", "3.0": "TestContenuCDA-3-0"}

_OID_RE = re.compile(r"^\d+(\.\d+)+$")
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)
Key = tuple[str, str]  # (code, system)


class DefinitionError(ValueError):
    """The SDM-MR definition files are invalid."""


class UnknownVersionError(LookupError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownItemError(UnknownVersionError):
    pass


class UnknownValueSetError(UnknownVersionError):
    pass


class UnknownCodeError(UnknownVersionError):
    pass


def _format_validation(exc: ValidationError, where: str) -> str:
    lines = [f"{where} : {exc.error_count()} erreur(s)"]
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "(racine)"
        lines.append(f"  - {loc} : {error['msg']} (valeur : {error.get('input')!r})")
    return "\n".join(lines)


def _validate(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(_format_validation(exc, where)) from None


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_YamlLoader)  # safe loader (C version when available)
    except FileNotFoundError:
        raise DefinitionError(f"{path} : fichier absent") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path} : YAML invalide : {exc}") from None


def resolve_system(name: str, where: str = "") -> str:
    """A code system given as an ``oids.py`` constant name (``TA_ASIP``) or a dotted OID."""
    if _OID_RE.match(name):
        return name
    value = getattr(oids, name, None) if name.isupper() else None
    if not isinstance(value, str):
        raise DefinitionError(
            f"{where} : système de codes inconnu {name!r} (nom de bamara/sdm/oids.py ou OID)"
        )
    return value


def load_kits(directory: Path = VALUE_SETS_DIR) -> dict[tuple[str, str], SvsValueSet]:
    """Parse every bundled SVS file, keyed by (kit, value-set OID)."""
    files: dict[tuple[str, str], SvsValueSet] = {}
    for kit, folder in KIT_FOLDERS.items():
        paths = sorted((directory / folder).glob("*.xml"))
        if not paths:
            raise DefinitionError(f"{directory / folder} : aucun jeu de valeurs")
        for path in paths:
            try:
                value_set = parse_file(path, kit=kit)
            except SvsError as exc:
                raise DefinitionError(str(exc)) from None
            if (kit, value_set.oid) in files:
                raise DefinitionError(f"{path} : OID {value_set.oid} en double dans le kit {kit}")
            files[(kit, value_set.oid)] = value_set
    return files


class SdmRegistry:
    """Every SDM-MR version, value set and concept equivalence, checked."""

    def __init__(
        self,
        definitions_dir: Path = DEFINITIONS_DIR,
        value_sets_dir: Path = VALUE_SETS_DIR,
        *,
        today: dt.date | None = None,
    ) -> None:
        self.definitions_dir = definitions_dir
        self.value_sets_dir = value_sets_dir
        self.today = today or dt.date.today()
        self._codes_memo: dict[tuple[str, str], tuple[ValueSetCode, ...]] = {}
        self._load_specs()
        self.files = load_kits(value_sets_dir)
        self._check_value_set_registry()
        self._index_concept_specs()
        self._build_concepts()
        self._build_labels()
        self.definitions: dict[str, SdmDefinition] = {
            version: SdmDefinition(self, version) for version in self.versions
        }

    # ------------------------------------------------------------------ loading

    def _load_specs(self) -> None:
        d = self.definitions_dir
        raw_sources = _read_yaml(d / "sources.yaml")
        if not isinstance(raw_sources, dict) or set(raw_sources) != {"sources"}:
            raise DefinitionError(f"{d / 'sources.yaml'} : une seule clé « sources » attendue")
        self.sources: dict[str, SourceSpec] = {
            key: _validate(SourceSpec, value, f"sources.yaml {key}")
            for key, value in (raw_sources["sources"] or {}).items()
        }

        raw_chapters = _read_yaml(d / "chapters.yaml")
        if not isinstance(raw_chapters, dict) or set(raw_chapters) != {"chapters"}:
            raise DefinitionError(f"{d / 'chapters.yaml'} : une seule clé « chapters » attendue")
        self.chapters: dict[str, Chapter] = {}
        for index, raw in enumerate(raw_chapters["chapters"]):
            spec = _validate(ChapterSpec, raw, f"chapters.yaml chapitre n°{index + 1}")
            if spec.code in self.chapters:
                raise DefinitionError(f"chapters.yaml : chapitre {spec.code} en double")
            self.chapters[spec.code] = Chapter(**spec.model_dump())

        self.version_specs: dict[str, VersionSpec] = {}
        for path in sorted((d / "versions").glob("*.yaml")):
            spec = _validate(VersionSpec, _read_yaml(path), f"versions/{path.name}")
            if path.stem != spec.version:
                raise DefinitionError(
                    f"versions/{path.name} : le nom du fichier doit être la version {spec.version}"
                )
            self.version_specs[spec.version] = spec
        if not self.version_specs:
            raise DefinitionError(f"{d / 'versions'} : aucune version")
        self.versions: tuple[str, ...] = tuple(sorted(self.version_specs))
        current = [v for v, spec in self.version_specs.items() if spec.current]
        if current != [self.versions[-1]]:
            raise DefinitionError(
                f"versions : exactement une version courante attendue, la plus récente ({self.versions[-1]}) ; trouvé {current}"
            )
        self.current_version = self.versions[-1]

        self.value_set_specs = _validate(
            ValueSetsFileSpec, _read_yaml(d / "value_sets.yaml"), "value_sets.yaml"
        )
        self.concept_specs = _validate(
            ConceptsFileSpec, _read_yaml(d / "concepts.yaml"), "concepts.yaml"
        )

        raw_items = _read_yaml(d / "items.yaml")
        if not isinstance(raw_items, dict) or set(raw_items) != {"items"}:
            raise DefinitionError(f"{d / 'items.yaml'} : une seule clé « items » attendue")
        self.item_specs: list[ItemSpec] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_items["items"]):
            name = raw.get("id", "?") if isinstance(raw, dict) else "?"
            spec = _validate(ItemSpec, raw, f"items.yaml item n°{index + 1} ({name})")
            if spec.id in seen:
                raise DefinitionError(f"items.yaml : item {spec.id} en double")
            seen.add(spec.id)
            self.item_specs.append(spec)

    def _check_version(self, version: str | None, where: str) -> None:
        if version is not None and version not in self.version_specs:
            raise DefinitionError(
                f"{where} : version inconnue {version!r} (connues : {', '.join(self.versions)})"
            )

    def _check_value_set_registry(self) -> None:
        in_files = {oid for (_, oid) in self.files}
        listed = set(self.value_set_specs.ans)
        if in_files - listed:
            raise DefinitionError(
                f"value_sets.yaml : OID des fichiers ANS non déclarés : {sorted(in_files - listed)}"
            )
        if listed - in_files:
            raise DefinitionError(
                f"value_sets.yaml : OID déclarés sans fichier ANS : {sorted(listed - in_files)}"
            )
        for oid, spec in self.value_set_specs.ans.items():
            self._check_version(spec.retired_in, f"value_sets.yaml {oid}")
            if spec.superseded_by is not None:
                target = self.value_set_specs.ans.get(spec.superseded_by)
                if target is None or target.superseded_by is not None:
                    raise DefinitionError(
                        f"value_sets.yaml {oid} : superseded_by doit désigner un jeu ANS courant"
                    )
        for oid, local in self.value_set_specs.local.items():
            codes = [entry.code for entry in local.codes]
            if len(codes) != len(set(codes)):
                raise DefinitionError(f"value_sets.yaml {oid} : code en double")
            for entry in local.codes:
                self._check_version(entry.since, f"value_sets.yaml {oid} {entry.code}")
                self._check_version(entry.retired_in, f"value_sets.yaml {oid} {entry.code}")

    # ------------------------------------------------------------------ value sets

    def is_local(self, oid: str) -> bool:
        return oid in self.value_set_specs.local

    def knows_value_set(self, oid: str) -> bool:
        return oid in self.value_set_specs.ans or oid in self.value_set_specs.local

    def family(self, oid: str) -> str:
        """The canonical (newest) value set of ``oid``: itself, or the one that replaced it."""
        if oid in self.value_set_specs.local:
            return oid
        spec = self.value_set_specs.ans.get(oid)
        if spec is None:
            raise UnknownValueSetError(f"jeu de valeurs inconnu : {oid!r}")
        return spec.superseded_by or oid

    def members(self, family: str) -> list[str]:
        return [family] + [
            oid for oid, spec in self.value_set_specs.ans.items() if spec.superseded_by == family
        ]

    def file_for(self, oid: str, version: str) -> SvsValueSet | None:
        """The SVS file a version reads for ``oid``: its own kit, else the other kit's."""
        kit = self.version_specs[version].kit
        own = self.files.get((kit, oid))
        if own is not None:
            return own
        others = [vs for (k, o), vs in self.files.items() if o == oid and k != kit]
        return others[0] if others else None

    def name_of(self, oid: str) -> str:
        if oid in self.value_set_specs.local:
            return self.value_set_specs.local[oid].name_fr
        if oid in self.value_set_specs.ans:
            return self.value_set_specs.ans[oid].name_fr
        raise UnknownValueSetError(f"jeu de valeurs inconnu : {oid!r}")

    def codes_for_version(self, oid: str, version: str) -> tuple[ValueSetCode, ...]:
        """Codes of ``oid`` allowed in SDM-MR ``version`` (see docs/sdm.md for the rule)."""
        key = (oid, version)
        if key not in self._codes_memo:
            self._codes_memo[key] = self._codes_for_version(oid, version)
        return self._codes_memo[key]

    def _codes_for_version(self, oid: str, version: str) -> tuple[ValueSetCode, ...]:
        if version not in self.version_specs:
            raise UnknownVersionError(f"version SDM-MR inconnue : {version!r}")
        if oid in self.value_set_specs.local:
            return tuple(
                ValueSetCode(
                    code=e.code,
                    system=oid,
                    label_fr=e.label_fr,
                    # what the database column holds: the code unless stated (null included)
                    stored_value=e.stored_value if "stored_value" in e.model_fields_set else e.code,
                )
                for e in self.value_set_specs.local[oid].codes
                if (e.since is None or e.since <= version)
                and (e.retired_in is None or version < e.retired_in)
            )
        spec = self.value_set_specs.ans.get(oid)
        if spec is None:
            raise UnknownValueSetError(f"jeu de valeurs inconnu : {oid!r}")
        if spec.retired_in is not None and version >= spec.retired_in:
            return ()
        svs = self.file_for(oid, version)
        if svs is None:  # pragma: no cover - every declared OID has a file (checked)
            return ()
        reference = self.version_specs[version].reference_date
        day = reference or self.today
        family = self.family(oid)
        kept: list[SvsConcept] = []
        late: list[SvsConcept] = []
        for concept in svs.concepts:
            if concept.date_fin is not None and concept.date_fin <= day:
                continue  # withdrawn before the version
            if (
                reference is not None
                and concept.date_valid is not None
                and concept.date_valid > reference
            ):
                late.append(concept)  # created after the version: only recodings pass
                continue
            kept.append(concept)
        present = {self._canonical_key(family, (c.code, c.code_system)) for c in kept}
        for concept in late:
            key = self._canonical_key(family, (concept.code, concept.code_system))
            if key in self._recoded.get(family, set()) and key not in present:
                kept.append(concept)
                present.add(key)
        codes = [
            ValueSetCode(
                code=c.code,
                system=c.code_system,
                label_fr=c.display_name,
                date_valid=c.date_valid,
                date_fin=c.date_fin,
            )
            for c in kept
        ]
        # Concepts and codes still valid in this version but missing from the kit file.
        for key, (label, retired_in) in self._kept_until.get(family, {}).items():
            if version < retired_in and key not in present:
                codes.append(ValueSetCode(code=key[0], system=key[1], label_fr=label))
                present.add(key)
        return tuple(codes)

    def value_set(self, oid: str, version: str) -> ValueSet:
        codes = self.codes_for_version(oid, version)
        if oid in self.value_set_specs.local:
            local = self.value_set_specs.local[oid]
            return ValueSet(
                oid=oid,
                name_fr=local.name_fr,
                version=version,
                origin="local",
                source=local.source,
                codes=codes,
            )
        svs = self.file_for(oid, version)
        return ValueSet(
            oid=oid,
            name_fr=self.name_of(oid),
            version=version,
            origin="ans",
            kit=svs.kit if svs else None,
            filename=svs.filename if svs else None,
            revision_date=svs.revision_date if svs else None,
            source=f"ANS, kit CI-SIS {svs.kit}, {svs.filename}" if svs else "ANS",
            codes=codes,
        )

    # ------------------------------------------------------------------ concepts

    def _family_file_codes(self, family: str) -> dict[Key, str]:
        """Every (code, system) of a family's files, with the newest label."""
        found: dict[Key, str] = {}
        kits = sorted(KIT_FOLDERS, key=lambda k: tuple(int(p) for p in k.split(".")), reverse=True)
        for oid in self.members(family):
            for kit in kits:
                svs = self.files.get((kit, oid))
                if svs is None:
                    continue
                for concept in svs.concepts:
                    found.setdefault((concept.code, concept.code_system), concept.display_name)
        return found

    def _canonical_key(self, family: str, key: Key) -> Key:
        return self._canonical.get(family, {}).get(key, key)

    def _index_concept_specs(self) -> None:
        """First pass over concepts.yaml: old code -> canonical code, per family."""
        self._canonical: dict[str, dict[Key, Key]] = {}
        self._recoded: dict[str, set[Key]] = {}
        self._kept_until: dict[str, dict[Key, tuple[str, str]]] = {}
        self._resolved_specs: dict[str, list[tuple[Any, Key, list[Key]]]] = {}
        self._resolved_retired: dict[str, list[tuple[Any, Key]]] = {}
        for family, spec in self.concept_specs.value_sets.items():
            where = f"concepts.yaml {family}"
            if family not in self.value_set_specs.ans:
                raise DefinitionError(f"{where} : jeu de valeurs ANS inconnu")
            if self.value_set_specs.ans[family].superseded_by:
                raise DefinitionError(
                    f"{where} : jeu remplacé ; décrire ses codes sous {self.family(family)}"
                )
            file_codes = self._family_file_codes(family)
            mapping: dict[Key, Key] = {}
            resolved: list[tuple[Any, Key, list[Key]]] = []

            def ref(
                code: str,
                system: str,
                label: str | None,
                where: str = where,
                file_codes: dict[Key, str] = file_codes,
                mapping: dict[Key, Key] = mapping,
            ) -> Key:
                key = (code, resolve_system(system, where))
                if key not in file_codes and not label:
                    raise DefinitionError(
                        f"{where} : le code {code} ({key[1]}) n'est dans aucun fichier : donner label_fr"
                    )
                if key in mapping:
                    raise DefinitionError(f"{where} : le code {code} ({key[1]}) apparaît deux fois")
                return key

            for concept in spec.concepts:
                self._check_version(concept.retired_in, where)
                canonical = ref(
                    concept.canonical.code, concept.canonical.system, concept.canonical.label_fr
                )
                mapping[canonical] = canonical
                previous = []
                for old in concept.previous:
                    key = ref(old.code, old.system, old.label_fr)
                    mapping[key] = canonical
                    previous.append(key)
                if previous:
                    self._recoded.setdefault(family, set()).add(canonical)
                if concept.retired_in:
                    label = file_codes.get(canonical) or concept.canonical.label_fr or canonical[0]
                    self._kept_until.setdefault(family, {})[canonical] = (label, concept.retired_in)
                resolved.append((concept, canonical, previous))
            retired = []
            for entry in spec.retired:
                self._check_version(entry.retired_in, where)
                key = ref(entry.code, entry.system, entry.label_fr)
                mapping[key] = key
                if entry.retired_in:
                    label = file_codes.get(key) or entry.label_fr or key[0]
                    self._kept_until.setdefault(family, {})[key] = (label, entry.retired_in)
                retired.append((entry, key))
            self._canonical[family] = mapping
            self._resolved_specs[family] = resolved
            self._resolved_retired[family] = retired

    def _build_concepts(self) -> None:
        """Second pass: a Mapping for every code of every value set (any version)."""
        self.mappings: dict[str, dict[Key, Mapping]] = {}
        current = self.current_version
        families = [
            oid for oid, spec in self.value_set_specs.ans.items() if spec.superseded_by is None
        ]
        for family in families:
            file_codes = self._family_file_codes(family)
            current_keys = {(c.code, c.system) for c in self.codes_for_version(family, current)}
            table: dict[Key, Mapping] = {}
            for concept_spec, canonical, previous in self._resolved_specs.get(family, []):
                is_current = canonical in current_keys
                if not is_current and concept_spec.retired_in is None:
                    raise DefinitionError(
                        f"concepts.yaml {family} : {canonical[0]} n'est pas dans la version courante {current} :"
                        " déclarer retired_in"
                    )
                concept = Concept(
                    value_set=family,
                    code=canonical[0],
                    system=canonical[1],
                    label_fr=file_codes.get(canonical)
                    or concept_spec.canonical.label_fr
                    or canonical[0],
                    current=is_current,
                    retired_in=concept_spec.retired_in,
                    previous=tuple(previous),
                    note=concept_spec.note.strip(),
                )
                table[canonical] = Mapping(
                    code=canonical[0], system=canonical[1], concept=concept, kind="identity"
                )
                for old in previous:
                    table[old] = Mapping(
                        code=old[0], system=old[1], concept=concept, kind=concept_spec.kind
                    )
            for entry, key in self._resolved_retired.get(family, []):
                if key in current_keys:
                    raise DefinitionError(
                        f"concepts.yaml {family} : {key[0]} est déclaré retiré mais figure dans la version courante"
                    )
                concept = Concept(
                    value_set=family,
                    code=key[0],
                    system=key[1],
                    label_fr=file_codes.get(key) or entry.label_fr or key[0],
                    current=False,
                    retired_in=entry.retired_in or current,
                    note=entry.note.strip(),
                )
                table[key] = Mapping(code=key[0], system=key[1], concept=concept, kind="retired")
            for key, label in file_codes.items():
                if key in table:
                    continue
                if key not in current_keys:
                    raise DefinitionError(
                        f"jeu de valeurs {family} : le code {key[0]} ({key[1]}) n'est pas dans la version courante"
                        " et n'est ni rattaché à un concept ni déclaré retiré dans concepts.yaml"
                    )
                concept = Concept(
                    value_set=family, code=key[0], system=key[1], label_fr=label, current=True
                )
                table[key] = Mapping(code=key[0], system=key[1], concept=concept, kind="identity")
            self.mappings[family] = table
        for oid, local in self.value_set_specs.local.items():
            table = {}
            for entry in local.codes:
                concept = Concept(
                    value_set=oid,
                    code=entry.code,
                    system=oid,
                    label_fr=entry.label_fr,
                    current=entry.retired_in is None or current < entry.retired_in,
                    retired_in=entry.retired_in,
                )
                table[(entry.code, oid)] = Mapping(
                    code=entry.code, system=oid, concept=concept, kind="identity"
                )
            self.mappings[oid] = table

    def _build_labels(self) -> None:
        self.labels: dict[Key, str] = {}
        for table in self.mappings.values():
            for key, mapping in table.items():
                if key == mapping.concept.key:
                    self.labels.setdefault(key, mapping.concept.label_fr)
        for family in self.mappings:
            if self.is_local(family):
                continue
            for key, label in self._family_file_codes(family).items():
                self.labels.setdefault(key, label)
        for family, spec in self.concept_specs.value_sets.items():
            for concept in spec.concepts:
                for ref in (concept.canonical, *concept.previous):
                    if ref.label_fr:
                        self.labels.setdefault(
                            (ref.code, resolve_system(ref.system, family)), ref.label_fr
                        )
            for retired in spec.retired:
                if retired.label_fr:
                    self.labels.setdefault(
                        (retired.code, resolve_system(retired.system, family)), retired.label_fr
                    )

    def lookup(self, value_set_oid: str, code: str, code_system: str | None = None) -> Mapping:
        """How ``code`` (of any version of the value set) maps to its canonical concept."""
        family = self.family(value_set_oid)
        table = self.mappings[family]
        if code_system is not None:
            mapping = table.get((code, code_system))
            if mapping is None:
                raise UnknownCodeError(
                    f"code {code!r} ({code_system}) inconnu dans le jeu de valeurs {value_set_oid} ({self.name_of(family)})"
                )
            return mapping
        candidates = [m for (c, _), m in table.items() if c == code]
        if len(candidates) != 1:
            what = "inconnu" if not candidates else "ambigu (préciser le système de codes)"
            raise UnknownCodeError(f"code {code!r} {what} dans le jeu de valeurs {value_set_oid}")
        return candidates[0]

    def normalise(self, value_set_oid: str, code: str, code_system: str | None = None) -> Concept:
        return self.lookup(value_set_oid, code, code_system).concept

    def label(self, code: str, code_system: str, default: str | None = None) -> str:
        label = self.labels.get((code, code_system))
        if label is None:
            if default is not None:
                return default
            raise UnknownCodeError(f"code {code!r} ({code_system}) inconnu")
        return label

    def concepts(self, value_set_oid: str) -> list[Concept]:
        """Every canonical concept of a value set, current and retired."""
        table = self.mappings[self.family(value_set_oid)]
        seen: dict[Key, Concept] = {}
        for mapping in table.values():
            seen.setdefault(mapping.concept.key, mapping.concept)
        return list(seen.values())

    # ------------------------------------------------------------------ items

    def resolve_item(self, spec: ItemSpec, version: str) -> Item | None:
        """The item as it is in ``version`` (None if it does not exist yet)."""
        where = f"items.yaml {spec.id}"
        since = spec.since or self.versions[0]
        self._check_version(spec.since, where)
        self._check_version(spec.retired_in, where)
        if spec.retired_in is not None and spec.retired_in <= since:
            raise DefinitionError(f"{where} : retired_in doit suivre since")
        for key in spec.versions:
            self._check_version(key, f"{where} versions")
        if version < since:
            return None
        data: dict[str, Any] = {name: getattr(spec, name) for name in ItemOverride.model_fields}
        override_key = next((key for key in sorted(spec.versions) if version <= key), None)
        if override_key is not None:
            override: ItemOverride = spec.versions[override_key]
            for name in override.model_fields_set:
                data[name] = getattr(override, name)
            where = f"{where} (version {version})"
        chapter = self.chapters.get(spec.chapter)
        if chapter is None:
            raise DefinitionError(f"{where} : chapitre inconnu {spec.chapter!r}")
        for source in spec.sources:
            if source not in self.sources:
                raise DefinitionError(f"{where} : source inconnue {source!r} (sources.yaml)")
        item_type: ItemType = data["type"]
        value_set = data["value_set"]
        for oid in [value_set, *data["component_value_sets"].values()]:
            if oid is not None and not self.knows_value_set(oid):
                raise DefinitionError(f"{where} : jeu de valeurs inconnu {oid!r} (value_sets.yaml)")
        if item_type in (ItemType.CODE, ItemType.AGE_CLASS) and value_set is None:
            raise DefinitionError(f"{where} : un item de type {item_type} doit avoir un value_set")
        terminologies = tuple(resolve_system(name, where) for name in data["terminologies"])
        if item_type == ItemType.CODED and not terminologies:
            raise DefinitionError(f"{where} : un item « coded » doit lister ses terminologies")
        cda_spec: CdaSpec | None = data["cda"]
        cda = None
        if cda_spec is not None:
            cda = CdaCode(
                code=cda_spec.code,
                system=resolve_system(cda_spec.system, where) if cda_spec.system else None,
                display=cda_spec.display,
                path=cda_spec.path,
            )
        return Item(
            id=spec.id,
            version=version,
            chapter=chapter,
            scope=spec.scope,
            label_fr=data["label_fr"],
            label_en=data["label_en"],
            definition_fr=" ".join(data["definition_fr"].split()),
            type=item_type,
            cardinality=Cardinality.parse(data["cardinality"]),
            requirement=data["requirement"],
            value_set=value_set,
            component_value_sets=dict(data["component_value_sets"]),
            terminologies=terminologies,
            cda=cda,
            rules=data["rules"],
            entry=spec.entry,
            channel=data["channel"],
            since=since,
            retired_in=spec.retired_in,
            confidence=spec.confidence,
            sources=spec.sources,
            jrc_cde=spec.jrc_cde,
            storage=spec.storage or (),
            not_stored=spec.not_stored,
        )

    def definition(self, version: str) -> SdmDefinition:
        try:
            return self.definitions[version]
        except KeyError:
            raise UnknownVersionError(
                f"version SDM-MR inconnue : {version!r} (connues : {', '.join(self.versions)})"
            ) from None


class SdmDefinition:
    """The SDM-MR as it is in one version: chapters, items and value sets."""

    def __init__(self, registry: SdmRegistry, version: str) -> None:
        self.registry = registry
        self.version = version
        self.spec = registry.version_specs[version]
        order = {code: index for index, code in enumerate(registry.chapters)}
        items = [
            item for spec in registry.item_specs if (item := registry.resolve_item(spec, version))
        ]
        items.sort(key=lambda item: order[item.chapter.code])  # stable: YAML order inside a chapter
        self.items: tuple[Item, ...] = tuple(items)
        self._items = {item.id: item for item in items}
        self._value_sets: dict[str, ValueSet] = {}

    def __repr__(self) -> str:
        return f"<SdmDefinition {self.version} ({len(self.items)} items)>"

    @property
    def current(self) -> bool:
        return self.version == self.registry.current_version

    @property
    def chapters(self) -> list[Chapter]:
        used = {item.chapter.code for item in self.items}
        return [chapter for code, chapter in self.registry.chapters.items() if code in used]

    def item(self, item_id: str) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            raise UnknownItemError(
                f"item inconnu dans la version {self.version} : {item_id!r}"
            ) from None

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items

    def active_items(self) -> list[Item]:
        return [item for item in self.items if item.active]

    def retired_items(self) -> list[Item]:
        return [item for item in self.items if not item.active]

    def items_by_chapter(self, *, active_only: bool = False) -> dict[Chapter, list[Item]]:
        grouped: dict[Chapter, list[Item]] = {}
        for item in self.items:
            if active_only and not item.active:
                continue
            grouped.setdefault(item.chapter, []).append(item)
        return grouped

    def value_set(self, oid: str) -> ValueSet:
        """The codes of ``oid`` allowed in this version."""
        if oid not in self._value_sets:
            self._value_sets[oid] = self.registry.value_set(oid, self.version)
        return self._value_sets[oid]

    def value_sets(self) -> dict[str, ValueSet]:
        """Every value set used by an item of this version (main or component)."""
        oids_used: list[str] = []
        for item in self.items:
            for oid in [item.value_set, *item.component_value_sets.values()]:
                if oid and oid not in oids_used:
                    oids_used.append(oid)
        return {oid: self.value_set(oid) for oid in oids_used}

    def value_set_for(self, item: Item) -> ValueSet | None:
        """The item's value set; for an item kept only for reading, the last version that collected it."""
        if item.value_set is None:
            return None
        if item.active:
            return self.value_set(item.value_set)
        last = [v for v in self.registry.versions if v < (item.retired_in or "")]
        older = self.registry.definition(last[-1]) if last else self
        older_item = older.item(item.id) if older.has_item(item.id) else item
        return older.value_set(older_item.value_set or item.value_set)

    def normalise(self, value_set_oid: str, code: str, code_system: str | None = None) -> Concept:
        return self.registry.normalise(value_set_oid, code, code_system)

    def label(self, code: str, code_system: str, default: str | None = None) -> str:
        return self.registry.label(code, code_system, default)

    def validate(self, item_id: str, value: Any) -> list[str]:
        """Plausibility errors (in French) of one value of an item; empty list when valid."""
        from .validation import validate_value

        return validate_value(self, self.item(item_id), value)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dump of the version (items and their value sets)."""
        return {
            "version": self.version,
            "label_fr": self.spec.label_fr,
            "items": [item.model_dump(mode="json") for item in self.items],
            "value_sets": {
                oid: vs.model_dump(mode="json") for oid, vs in self.value_sets().items()
            },
        }
