"""CDA R2 SDM-MR documents (2021.01, 2022.01, 2024.01) read into plain rows.

``parse(root)`` needs no database: it returns a ParsedDocument whose rows carry model
attribute names (composite names for coded values, partial dates and age classes, as in
bamara.records.validation), the CDA identifiers used to reconcile rows, and the messages
of the acknowledgement. Codes are normalised through bamara.sdm.concepts, so the TA_ASIP,
SNOMED 3.5 and SNOMED CT codes of one concept are stored as one value. Every element the
parser does not know is reported (warning); known CDA elements that carry data outside the
SDM-MR are reported as not stored (info). Structural faults raise Rejected.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.sdm import concepts, definition, oids
from bamara.sdm.definition import UnknownCodeError

from . import mapping as m
from .ack import AckMessage, Rejected
from .cda import (
    XSI_TYPE,
    BadValue,
    bl,
    cd,
    child,
    children,
    clean,
    element_path,
    ii,
    integer,
    local,
    pq,
    q,
    sq,
    text_of,
    time_value,
    ts,
    ts_datetime,
)
from .cda import address as read_address
from .cda import name as read_name
from .cda import person_name as read_person

SDM_TEMPLATE = oids.SDM_MR_TEMPLATE
DIAGNOSIS_CODES = {("282291009", oids.SNOMED_CT), ("G-1009", oids.SNOMED_35)}
FIRST_CASE_CODES = {("404684003", oids.SNOMED_CT), ("282291009", oids.SNOMED_CT), ("G-1009", oids.SNOMED_35)}
COMMENT_CODE = ("48767-8", oids.LOINC)
CLINICAL_STATUS = ("11323-3", oids.LOINC)
CERTAINTY = ("66455-7", oids.LOINC)
PROBLEM_STATUS_2021 = ("33999-4", oids.LOINC)
PREGNANCY = ("118185001", oids.SNOMED_CT)
BIRTH = ("118215003", oids.SNOMED_CT)
HEADER_KNOWN = {
    "realmCode", "typeId", "templateId", "id", "code", "title", "effectiveTime",
    "confidentialityCode", "languageCode", "setId", "versionNumber", "copyTime", "recordTarget",
    "author", "dataEnterer", "informant", "custodian", "informationRecipient",
    "legalAuthenticator", "authenticator", "participant", "inFulfillmentOf", "documentationOf",
    "relatedDocument", "authorization", "componentOf", "component",
}
ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass
class Row:
    """One row to store: model attributes, lists of child values, and the CDA id."""

    values: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list[Any]] = field(default_factory=dict)
    cda_id: str = ""
    element: Any = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> str:
        """Where the row is in the document (computed only for messages)."""
        return element_path(self.element) if self.element is not None else ""

    def add(self, name: str, value: Any) -> None:
        self.lists.setdefault(name, []).append(value)


@dataclass
class ParsedDocument:
    document_id: str = ""
    set_id: str = ""
    version_number: int | None = None
    sdm_version: str = ""
    effective_time: dt.datetime | None = None
    custodian_finess: str = ""
    record_id: str = ""  # the dossier id (GEN-164 observation id)
    patient: dict[str, Any] = field(default_factory=dict)
    newborn_of: str = ""  # foetus local id of a newborn's record (to link the mother's row)
    care_episodes: list[Row] = field(default_factory=list)
    activities: list[Row] = field(default_factory=list)
    diagnoses: list[Row] = field(default_factory=list)
    pregnancies: list[Row] = field(default_factory=list)
    registry_consents: list[Row] = field(default_factory=list)
    functional_scores: list[Row] = field(default_factory=list)
    treatments: list[Row] = field(default_factory=list)
    first_case_diseases: list[int] = field(default_factory=list)
    sections: set[str] = field(default_factory=set)
    messages: list[AckMessage] = field(default_factory=list)

    def site_codes(self) -> set[str]:
        return {row.values["site"] for row in (*self.care_episodes, *self.activities) if row.values.get("site")}


def header_info(root: etree._Element) -> tuple[str, str, int | None, str]:
    """(document id, set id, version, SDM version) as far as they can be read, for the
    acknowledgement of a document rejected before parsing ends."""
    try:
        document = ii(root.find(q("id")))
        set_id = ii(root.find(q("setId")))
        version = root.find(q("versionNumber"))
        raw = version.get("value") if version is not None else None
        template = next((t.get("extension") or "" for t in root.findall(q("templateId")) if t.get("root") == SDM_TEMPLATE), "")
        return (document.text[:255] if document else "", set_id.text[:128] if set_id else "",
                int(raw) if raw and raw.isdigit() and len(raw) < 10 else None, template[:16])
    except (AttributeError, ValueError):
        return "", "", None, ""


def parse(root: etree._Element) -> ParsedDocument:
    return _Reader(root).read()


class _Reader:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.doc = ParsedDocument()
        self.version = ""
        self._narrative: dict[str, str] | None = None
        self._pending_certainty: list[tuple[Code, Code, str]] = []

    # -- messages ------------------------------------------------------------------------
    def message(self, level: str, code: str, text: str, element: etree._Element | None = None,
                item: str = "*") -> None:
        path = element_path(element) if element is not None else ""
        self.doc.messages.append(AckMessage(level, code, text, item, path))  # type: ignore[arg-type]

    def bad(self, exc: Exception, element: etree._Element | None, item: str = "*") -> None:
        self.message("error", "invalid_value", f"Valeur illisible : {exc}.", element, item)

    def unknown(self, element: etree._Element, what: str = "") -> None:
        code = element.find(q("code"))
        label = f"code {code.get('code')} ({code.get('codeSystem') or '?'})" if code is not None and code.get("code") else f"élément {local(element)}"
        self.message("warning", "unknown_element", f"{what or 'Élément'} non reconnu ({label}) : ignoré, non enregistré.", element)

    def not_stored(self, element: etree._Element, what: str) -> None:
        self.message("info", "not_stored", f"{what} : donnée hors SDM-MR, non conservée.", element)

    # -- value readers -------------------------------------------------------------------
    def narrative(self, reference: str) -> str:
        if self._narrative is None:
            self._narrative = {
                element.get("ID"): text_of(element)
                for element in self.root.iter()
                if isinstance(element.tag, str) and element.get("ID")
            }
        return self._narrative.get(reference.lstrip("#"), "")

    def text_value(self, element: etree._Element | None) -> str:
        """An ST/ED value: its text, or the narrative its (originalText/)reference points to."""
        if element is None or element.get("nullFlavor"):
            return ""
        direct = clean(element.text)
        if direct:
            return direct
        reference = element.find(q("reference"))
        original = element.find(q("originalText"))
        if original is not None:
            if clean(original.text):
                return clean(original.text)
            if reference is None:
                reference = original.find(q("reference"))
        if reference is not None and reference.get("value"):
            return self.narrative(reference.get("value") or "")
        return ""

    def code(self, element: etree._Element | None, value_set: str, item: str) -> Code | None:
        value = cd(element)
        if value is None:
            return None
        try:
            concept = concepts.normalise(value_set, value.code, value.system or None)
        except UnknownCodeError:
            try:  # a wrong or missing code system: the code alone may be unambiguous
                concept = concepts.normalise(value_set, value.code, None)
            except (UnknownCodeError, ValueError, LookupError):
                self.message("warning", "unknown_code",
                             f"Code {value.code} ({value.system or 'système absent'}) inconnu du jeu de valeurs "
                             f"{value_set} : enregistré tel quel, à corriger.", element, item)
                return Code(value.code[:64], value.system[:64])
            self.message("info", "code_system_corrected",
                         f"Code {value.code} : système de codes {value.system or 'absent'} remplacé par {concept.system}.",
                         element, item)
        return Code(concept.code, concept.system)

    def coded(self, element: etree._Element | None, item: str, allowed: set[str] | None = None) -> Code | None:
        value = cd(element)
        if value is None:
            return None
        code = value.code
        if value.system == oids.ORPHA or value.system == oids.ORPHA_GROUPS:
            code = code.removeprefix("ORPHA:")
        if allowed and value.system not in allowed:
            self.message("warning", "unknown_code",
                         f"Code {value.code} : système de codes {value.system or 'absent'} inattendu ici.", element, item)
        return Code(code, value.system)

    def partial(self, value: str | None, element: etree._Element | None, item: str) -> PartialDate | None:
        try:
            return ts(value)
        except BadValue as exc:
            self.bad(exc, element, item)
            return None

    def guard(self, reader, element: etree._Element | None, item: str) -> Any:
        try:
            return reader(element)
        except BadValue as exc:
            self.bad(exc, element, item)
            return None

    # -- document ------------------------------------------------------------------------
    def read(self) -> ParsedDocument:
        root = self.root
        if root.tag != q("ClinicalDocument"):
            raise Rejected("not_cda", f"Ce n'est pas un document CDA R2 (élément racine « {local(root) or root.tag} »).")
        template = next((t for t in root.findall(q("templateId")) if clean(t.get("root")) == SDM_TEMPLATE), None)
        if template is None:
            raise Rejected("not_sdm_mr", f"Ce n'est pas un document SDM-MR (templateId {SDM_TEMPLATE} absent).")
        version = clean(template.get("extension"))
        if version not in definition.versions():
            raise Rejected("unknown_version", f"Version SDM-MR « {version[:20]} » inconnue (connues : {', '.join(definition.versions())}).",
                           item_id="doc_sdm_version")
        self.version = self.doc.sdm_version = version
        self.sdm = definition.get(version)
        self.read_identifiers()
        self.read_header()
        body = child(root, "component", "structuredBody")
        if body is None:
            raise Rejected("not_structured", "Le document n'a pas de corps structuré (structuredBody) : le SDM-MR est un CDA de niveau 3.")
        for component in children(body, "component"):
            for section in children(component, "section"):
                self.read_section(section)
        if "dossier" not in self.doc.sections:
            self.message("warning", "missing_section", "La section FR-Dossier (GEN-168) est absente.", item="dossier_id")
        self.apply_certainties()
        return self.doc

    def read_identifiers(self) -> None:
        root, doc = self.root, self.doc
        document = ii(root.find(q("id")))
        if document is None:
            raise Rejected("missing_id", "Identifiant du document (id) absent.")
        set_id = ii(root.find(q("setId")))
        if set_id is None:
            raise Rejected("missing_set_id", "setId absent : il identifie le dossier à travers ses versions successives.")
        if len(document.text) > 255 or len(set_id.text) > 128:
            raise Rejected("bad_identifier", "Identifiant du document ou setId trop long.")
        doc.document_id, doc.set_id = document.text, set_id.text
        version = root.find(q("versionNumber"))
        if version is None:
            doc.version_number = 1
            self.message("info", "version_assumed", "versionNumber absent : version 1 retenue.")
        else:
            raw = (version.get("value") or "").strip()
            if not raw.isdigit() or not 0 < int(raw) < 2**31:
                raise Rejected("bad_version_number", f"versionNumber « {raw[:20]} » : entier positif attendu.")
            doc.version_number = int(raw)
        code = cd(root.find(q("code")))
        if code is None or (code.code, code.system) != ("34133-9", oids.LOINC):
            self.message("warning", "document_code", "Le code du document devrait être 34133-9 (LOINC).", root.find(q("code")))
        try:
            when = root.find(q("effectiveTime"))
            doc.effective_time = ts_datetime(when.get("value") if when is not None else None)
        except BadValue as exc:
            self.bad(exc, root.find(q("effectiveTime")))

    # -- header --------------------------------------------------------------------------
    def read_header(self) -> None:
        root, patient = self.root, self.doc.patient
        for element in root:
            if isinstance(element.tag, str) and local(element) not in HEADER_KNOWN:
                self.unknown(element, "Élément d'en-tête")
        targets = root.findall(q("recordTarget"))
        if len(targets) != 1:
            raise Rejected("record_target", f"Un et un seul patient (recordTarget) attendu, {len(targets)} trouvé(s).")
        role = child(targets[0], "patientRole")
        person = child(role, "patient")
        if role is None or person is None:
            raise Rejected("record_target", "recordTarget/patientRole/patient absent.")
        self.read_patient_ids(role)
        self.read_contact(role, patient)
        self.read_person(person, patient)
        authors = root.findall(q("author"))
        if authors:
            assigned = child(authors[0], "assignedAuthor")
            rpps = self.rpps(child(assigned, "id"))
            patient["author_rpps"] = rpps
            patient["author_name"] = read_person(child(assigned, "assignedPerson", "name"))
        for informant in root.findall(q("informant")):
            entity = child(informant, "relatedEntity")
            relation = cd(child(entity, "code"))
            if relation and relation.code == "MTH":
                mother = read_name(child(entity, "relatedPerson", "name"))
                patient["mother_birth_name"] = mother.get("family", "BR", "")
                patient["mother_used_name"] = mother.get("family", "CL")
                patient["mother_first_name"] = mother.get("given", "BR", "")
            else:
                self.not_stored(informant, "Informateur (personne à prévenir, proche)")
        custodian = child(root, "custodian", "assignedCustodian", "representedCustodianOrganization", "id")
        finess = ii(custodian)
        self.doc.custodian_finess = self.finess(finess) if finess else ""
        for participant in root.findall(q("participant")):
            function = cd(child(participant, "functionCode"))
            if participant.get("typeCode") == "INF" and function and function.code == "PCP":
                entity = child(participant, "associatedEntity")
                patient["gp_rpps"] = self.rpps(child(entity, "id"))
                patient["gp_name"] = read_person(child(entity, "associatedPerson", "name"))
                organisation = ii(child(entity, "scopingOrganization", "id"))
                patient["gp_finess"] = self.finess(organisation, child(entity, "scopingOrganization", "id")) if organisation else ""
            else:
                self.not_stored(participant, "Participant de l'en-tête")
        self.read_authorizations()

    def rpps(self, element: etree._Element | None) -> str:
        value = ii(element)
        if value is None:
            return ""
        number = value.extension
        if value.root == oids.RPPS and len(number) == 12 and number.startswith(m.RPPS_PREFIX):
            number = number[1:]  # ANS national identifier: "8" + RPPS
        elif value.root != oids.RPPS:
            self.message("warning", "identifier_system", f"Identifiant de professionnel hors RPPS ({value.root}) : non conservé.", element)
            return ""
        return number

    def finess(self, value, element: etree._Element | None = None) -> str:
        """A FINESS number: the extension of a 1.2.250.1.71.4.2.2 id, without the "1" of the
        ANS national structure identifier (2 = SIREN, 3 = SIRET are not FINESS numbers)."""
        number = value.extension
        if len(number) == 10 and number.startswith(m.FINESS_PREFIX):
            return number[1:]
        if len(number) == 9:
            return number
        if element is not None:
            self.message("info", "not_stored", f"Identifiant de structure {number[:20]} (SIREN, SIRET...) : seul un FINESS est conservé.", element)
        return ""

    def read_patient_ids(self, role: etree._Element) -> None:
        patient = self.doc.patient
        local_ids: list[tuple[Any, etree._Element]] = []
        for element in children(role, "id"):
            value = ii(element)
            if value is None:  # an unknown IPP keeps its place: the second local id is the foetus's
                local_ids.append((None, element))
                continue
            if value.root in m.INS_OIDS:
                if patient.get("ins"):
                    self.message("warning", "duplicate_ins", "Plusieurs INS : seule la première est conservée.", element, "ins")
                    continue
                patient["ins"], patient["ins_oid"] = value.extension, value.root
                # Under the INS rules only a qualified identity may carry the INS.
                patient["ins_status"] = "qualifiee"
            else:
                local_ids.append((value, element))
        if local_ids and local_ids[0][0] is not None:
            value = local_ids[0][0]
            patient["ipp"], patient["ipp_oid"] = value.extension or value.root, self.oid(value)
        if len(local_ids) > 1 and local_ids[1][0] is not None:
            value = local_ids[1][0]
            patient["foetus_local_id"] = self.doc.newborn_of = value.extension or value.root
        for value, element in local_ids[2:]:
            self.message("warning", "unknown_element", f"Identifiant patient supplémentaire {value.text if value else ''} : non conservé.", element, "ipp")

    @staticmethod
    def oid(value) -> str:
        """The assigning authority of a local id ("" for bamara's "unknown authority" root)."""
        return "" if value.root == m.LOCAL_ID_ROOT or not value.extension else value.root

    def read_contact(self, role: etree._Element, patient: dict[str, Any]) -> None:
        address = read_address(child(role, "addr"))
        patient["address_line"] = address.line
        patient["postal_code"] = address.postal_code
        patient["residence_commune"] = address.commune
        patient["residence_country"] = self.country(address.country, child(role, "addr"), "adresse_residence")
        for extra in children(role, "addr")[1:]:
            self.not_stored(extra, "Adresse supplémentaire du patient")
        phone = email = ""
        for telecom in children(role, "telecom"):
            value = clean(telecom.get("value"))
            if value.startswith("tel:") and not phone:
                phone = value[4:]
            elif value.startswith("mailto:") and not email:
                email = value[7:]
            elif value:
                self.not_stored(telecom, "Coordonnée supplémentaire")
        patient["phone"], patient["email"] = phone, email

    def country(self, value: str, element: etree._Element | None, item: str) -> str:
        if value and not ISO_COUNTRY.match(value):
            self.message("warning", "country_code", f"Pays « {value[:40]} » : code ISO 3166 alpha-2 attendu, non conservé.", element, item)
            return ""
        return value

    def read_person(self, person: etree._Element, patient: dict[str, Any]) -> None:
        names = children(person, "name")
        parts = read_name(names[0] if names else None)
        patient["birth_name"] = parts.get("family", "BR", "")
        patient["used_name"] = parts.get("family", "CL", "SP")
        patient["first_birth_given_name"] = parts.get("given", "BR")
        patient["birth_given_names"] = parts.get("given", "")
        patient["used_given_name"] = parts.get("given", "CL")
        for extra in names[1:]:
            self.not_stored(extra, "Nom supplémentaire")
        gender = child(person, "administrativeGenderCode")
        patient["sex"] = self.code(gender, m.VS_SEX, "sexe") if gender is not None and not gender.get("nullFlavor") else None
        birth = child(person, "birthTime")
        patient["birth_date"] = self.partial(birth.get("value") if birth is not None else None, birth, "date_naissance")
        multiple = person.find(sq("multipleBirthInd"))
        patient["multiple_birth"] = self.guard(bl, multiple, "naissance_multiple")
        patient["multiple_birth_rank"] = self.guard(integer, person.find(sq("multipleBirthOrderNumber")), "naissance_multiple")
        deceased = person.find(sq("deceasedInd"))
        patient["deceased"] = self.guard(bl, deceased, "statut_vital")
        death = person.find(sq("deceasedTime"))
        patient["death_date"] = self.partial(death.get("value") if death is not None else None, death, "date_deces")
        guardian = child(person, "guardian")
        patient["representative_relation"] = None
        patient["representative_name"] = patient["representative_given_name"] = patient["representative_phone"] = ""
        if guardian is not None:
            relation = child(guardian, "code")
            patient["representative_relation"] = self.code(relation, m.VS_RELATION, "representant_legal") if relation is not None else None
            guardian_name = read_name(child(guardian, "guardianPerson", "name"))
            patient["representative_name"] = guardian_name.get("family", "CL", "", "BR")
            patient["representative_given_name"] = guardian_name.get("given", "CL", "BR", "")
            phones = [clean(t.get("value"))[4:] for t in children(guardian, "telecom") if clean(t.get("value")).startswith("tel:")]
            patient["representative_phone"] = phones[0] if phones else ""
            if child(guardian, "addr") is not None or len(phones) > 1 or child(guardian, "guardianOrganization") is not None:
                self.not_stored(guardian, "Adresse ou coordonnées supplémentaires du représentant")
        place = child(person, "birthplace", "place", "addr")
        birthplace = read_address(place)
        patient["birth_commune"] = birthplace.commune
        patient["birth_country"] = self.country(birthplace.country, place, "lieu_naissance")
        for name_ in ("maritalStatusCode", "religiousAffiliationCode", "raceCode", "ethnicGroupCode", "languageCommunication"):
            for element in children(person, name_):
                self.not_stored(element, f"Élément {name_}")

    def read_authorizations(self) -> None:
        patient = self.doc.patient
        for consent in self.root.iterfind(f"{q('authorization')}/{q('consent')}"):
            value = cd(child(consent, "code"))
            key = (value.code, value.system) if value else None
            if key == m.OPPOSITION:
                patient["opposition"] = True
            elif key in (m.NO_OPPOSITION, m.NON_OPPOSITION_2022):
                patient.setdefault("opposition", False)
            elif key == m.ERN_CONSENT:
                text = value.display if value else ""
                registry = text[len(m.ERN_CONSENT_TEXT):] if text.startswith(m.ERN_CONSENT_TEXT) else text
                self.doc.registry_consents.append(Row({"registry": (registry or "ERN")[:128]}, element=(consent)))
            else:
                self.unknown(consent, "Consentement")

    # -- sections ------------------------------------------------------------------------
    def section_kind(self, section: etree._Element) -> str | None:
        value = cd(child(section, "code"))
        if value and (value.code, value.system) in m.SECTIONS:
            return m.SECTIONS[(value.code, value.system)]
        for template in children(section, "templateId"):
            if clean(template.get("root")) in m.SECTION_TEMPLATES:
                return m.SECTION_TEMPLATES[clean(template.get("root"))]
        return None

    def read_section(self, section: etree._Element) -> None:
        kind = self.section_kind(section)
        if kind is None:
            self.unknown(section, "Section")
            return
        if kind in self.doc.sections and kind not in ("research",):
            self.message("warning", "duplicate_section", "Section répétée : ses entrées s'ajoutent à la précédente.", section)
        self.doc.sections.add(kind)
        getattr(self, f"section_{kind}")(section)

    def entries(self, section: etree._Element) -> list[etree._Element]:
        """The clinical statement of each entry of a section."""
        statements = []
        for entry in children(section, "entry"):
            for statement in entry:
                if isinstance(statement.tag, str):
                    statements.append(statement)
        return statements

    def apply_rules(self, context: str, observation: etree._Element, target: dict[str, Any],
                    row: Row | None = None) -> bool:
        """Read an observation of ``context`` into ``target`` (and the row's lists); False if
        its code is not one of the context."""
        key_cd = cd(child(observation, "code"))
        if key_cd is None:
            return False
        found = m.observation_table(context).get((key_cd.code, key_cd.system))
        if found is None:
            return False
        rule = found.rule
        if self.version not in found.versions:
            self.message("info", "code_of_other_version",
                         f"Code {key_cd.code} : code de l'item « {rule.item} » dans la version "
                         f"{'/'.join(sorted(found.versions))}, lu dans un document {self.version}.", observation, rule.item)
        item = self.sdm.item(rule.item) if self.sdm.has_item(rule.item) else None
        if item is not None and not item.active:
            self.message("info", "retired_item",
                         f"« {item.label_fr} » n'est plus recueilli en {self.version} : lu et conservé.", observation, rule.item)
        value = child(observation, "value")
        negated = observation.get("negationInd") == "true"
        attribute = rule.attribute
        try:
            if rule.kind == "bool":
                result = bl(value)
                if result is not None and negated:
                    result = not result
                target[attribute] = result
            elif rule.kind == "present":
                target[attribute] = not negated
            elif rule.kind == "date":
                target[attribute] = self._date(value if value is not None else child(observation, "effectiveTime"), observation, rule.item)
            elif rule.kind == "text":
                text = self.text_value(value) if value is not None else self.text_value(child(observation, "text"))
                target[attribute] = text
            elif rule.kind == "code":
                target[attribute] = self.code(value, rule.value_set or "", rule.item)
            elif rule.kind == "list_code":
                code = self.code(value, rule.value_set or "", rule.item)
                if code is not None and row is not None:
                    detail = self.text_value(child(value, "originalText"))
                    row.add(attribute, (code, detail) if attribute == "techniques" else code)
            elif rule.kind == "list_coded":
                code = self.coded(value, rule.item)
                if attribute == "genes" and row is not None:
                    # A gene may come as a symbol only (CD nullFlavor OTH + originalText).
                    symbol = self.text_value(child(value, "originalText")) if value is not None else ""
                    if code is not None or symbol:
                        row.add("genes", (code, symbol[:32]))
                elif code is not None and row is not None:
                    if attribute == "signs":
                        row.add("signs", (rule.extra, code))
                    else:
                        row.add(attribute, code)
            elif rule.kind == "age":
                code = self.code(value, m.VS_AGE, rule.item)
                previous = target.get(attribute)
                target[attribute] = AgeAt(code.code, code.system, previous.value if previous else None,
                                          previous.unit if previous else None) if code else previous
            elif rule.kind == "age_value":
                quantity = pq(value)
                if quantity is not None:
                    previous = target.get(attribute) or AgeAt("", "")
                    unit = {"mois": "mo", "ans": "a", "an": "a", "y": "a", "yr": "a", "mo": "mo", "a": "a"}.get(quantity[1], quantity[1])
                    target[attribute] = AgeAt(previous.code, previous.system, quantity[0], unit)
            elif rule.kind == "int":
                target[attribute] = integer(value) if value is not None and value.get(XSI_TYPE, "").endswith("INT") else self._int_quantity(value, None, observation, rule.item)
            elif rule.kind == "weeks":
                target[attribute] = self._int_quantity(value, ("wk",), observation, rule.item)
            elif rule.kind == "grams":
                target[attribute] = self._int_quantity(value, ("g",), observation, rule.item)
            elif rule.kind == "cm":
                quantity = pq(value)
                if quantity is not None:
                    self._unit(quantity[1], ("cm",), observation, rule.item)
                target[attribute] = quantity[0] if quantity else None
            elif rule.kind == "country":
                code = cd(value)
                target[attribute] = self.country(code.code if code else "", value, rule.item)
            elif rule.kind == "commune":
                code = cd(value)
                target[attribute] = code.code if code else ""
            else:  # pragma: no cover - a rule kind without reader is a programming error
                raise AssertionError(rule.kind)
        except BadValue as exc:
            self.bad(exc, observation, rule.item)
        return True

    def _date(self, element: etree._Element | None, where: etree._Element, item: str) -> dt.date | None:
        raw = time_value(element)
        value = self.partial(raw, where, item)
        if value is None:
            return None
        if value.precision != "D":
            self.message("warning", "partial_date", f"Date complète attendue ({value.isoformat()}) : premier jour retenu.", where, item)
        return value.earliest

    def _unit(self, unit: str, expected: tuple[str, ...], element: etree._Element, item: str) -> None:
        if unit not in expected:
            self.message("warning", "unit", f"Unité « {unit} » : {expected[0]} attendu.", element, item)

    def _int_quantity(self, value: etree._Element | None, units: tuple[str, ...] | None,
                      element: etree._Element, item: str) -> int | None:
        quantity = pq(value)
        if quantity is None:
            return None
        if units:
            self._unit(quantity[1], units, element, item)
        if quantity[0] != quantity[0].to_integral_value():
            self.message("warning", "rounded", f"Valeur {quantity[0]} arrondie à l'entier.", element, item)
        return int(quantity[0].to_integral_value())

    # FR-Dossier
    def section_dossier(self, section: etree._Element) -> None:
        for statement in self.entries(section):
            code = cd(child(statement, "code"))
            if code and (code.code, code.system) == ("GEN-164", oids.TA_ASIP):
                record_id = ii(child(statement, "id"))
                self.doc.record_id = record_id.text if record_id else ""
            header: dict[str, Any] = {}
            if not self.apply_rules("dossier", statement, header):
                self.unknown(statement, "Entrée du dossier")
            header.pop("updated_on", None)  # bamara's own write time stands for it
            self.doc.patient.update(header)

    # Premier cas diagnostiqué de la famille
    def section_family(self, section: etree._Element) -> None:
        patient = self.doc.patient
        for organizer in self.entries(section):
            related = child(organizer, "subject", "relatedSubject")
            relation = child(related, "code")
            patient["first_case_relation"] = self.code(relation, m.VS_RELATION, "premier_cas_lien") if relation is not None else None
            subject = child(related, "subject")
            identifier = None
            if subject is not None:
                identifier = ii(subject.find(sq("id")))
            patient["first_case_identifier"] = identifier.extension or identifier.root if identifier else ""
            patient["first_case_identifier_oid"] = self.oid(identifier) if identifier else ""
            gender = child(subject, "administrativeGenderCode")
            patient["first_case_sex"] = self.code(gender, m.VS_SEX, "premier_cas_id") if gender is not None and not gender.get("nullFlavor") else None
            for component in children(organizer, "component"):
                for observation in children(component, "observation"):
                    key = cd(child(observation, "code"))
                    if key is None or (key.code, key.system) not in FIRST_CASE_CODES:
                        self.unknown(observation, "Antécédent familial")
                        continue
                    value = cd(child(observation, "value"))
                    if value is None:
                        continue  # "-" or nullFlavor: no disease given
                    if value.system != oids.ORPHA or not value.code.removeprefix("ORPHA:").isdigit():
                        self.message("warning", "unknown_code", f"Maladie du premier cas {value.code} : ORPHA attendu, non conservée.", observation, "premier_cas_maladie")
                        continue
                    number = int(value.code.removeprefix("ORPHA:"))
                    if number < 2**31 and number not in self.doc.first_case_diseases:
                        self.doc.first_case_diseases.append(number)

    # Problèmes actifs: consanguinity, death due to a rare disease, clinical status, certainty
    def section_problems(self, section: etree._Element) -> None:
        patient = self.doc.patient
        for act in self.entries(section):
            for relationship in children(act, "entryRelationship"):
                for observation in children(relationship, "observation"):
                    value = cd(child(observation, "value"))
                    key = (value.code, value.system) if value else None
                    if key in m.CONSANGUINITY:
                        flag = observation.get("negationInd")
                        patient["consanguinity"] = {"true": "non", "false": "oui"}.get(flag or "", "inconnu")
                    elif (value is not None and value.system in (oids.ORPHA, oids.CIM10)) or (value is None and \
                            observation.find(f"{q('entryRelationship')}/{q('observation')}") is not None):
                        self.read_problem(observation, value)
                    else:
                        self.unknown(observation, "Problème")

    def read_problem(self, observation: etree._Element, disease) -> None:
        patient = self.doc.patient
        disease_code = self.coded(child(observation, "value"), "deces_lie_mr")
        for relationship in children(observation, "entryRelationship"):
            for nested in children(relationship, "observation"):
                key = cd(child(nested, "code"))
                pair = (key.code, key.system) if key else None
                if pair == CLINICAL_STATUS:
                    status = self.code(child(nested, "value"), m.VS_HEALTH_STATUS, "statut_clinique")
                    patient["clinical_status"] = status
                    if status is not None and status.code == m.DEATH:
                        patient["death_related_to_rd"] = "oui"
                        if disease is not None and disease.system == oids.ORPHA and disease_code and disease_code.code.isdigit() and int(disease_code.code) < 2**31:
                            patient["death_cause_orpha"] = int(disease_code.code)
                elif pair == CERTAINTY:
                    certainty = self.code(child(nested, "value"), m.VS_CERTAINTY, "certitude_2022")
                    if certainty is not None and disease_code is not None:
                        self._pending_certainty.append((disease_code, certainty, element_path(nested)))
                elif pair == PROBLEM_STATUS_2021:
                    self.not_stored(nested, "Statut du problème (2021.01)")
                else:
                    self.unknown(nested, "Observation de problème")

    def apply_certainties(self) -> None:
        for disease, certainty, path in self._pending_certainty:
            matches = [row for row in self.doc.diagnoses if row.values.get("disease") == disease]
            if not matches:
                self.doc.messages.append(AckMessage("warning", "unmatched_certainty",
                    f"Certitude donnée pour {disease.code} sans diagnostic de ce code : non conservée.", "certitude_2022", path))
            for row in matches:
                row.values["verification_status_2022"] = certainty

    # Statut fonctionnel (CIF)
    def section_functional(self, section: etree._Element) -> None:
        sdm = definition.get(self.version)
        for organizer in self.entries(section):
            organizer_date = self.partial(time_value(child(organizer, "effectiveTime")), organizer, "score_cif")
            components = [c for component in children(organizer, "component") for c in component if isinstance(c.tag, str)]
            if local(organizer) == "observation":
                components = [organizer]
            for observation in components:
                key = cd(child(observation, "code"))
                if key is None or (key.code, key.system) != m.ICF_OBSERVATION:
                    self.unknown(observation, "Évaluation")
                    continue
                icf = self.coded(child(observation, "value"), "score_cif", {oids.ICF})
                if icf is None:
                    continue
                if sdm.has_item("score_cif"):
                    for problem in sdm.validate("score_cif", icf.code):
                        self.message("warning", "icf_pattern", problem, observation, "score_cif")
                when = self.partial(time_value(child(observation, "effectiveTime")), observation, "score_cif") or organizer_date
                self.doc.functional_scores.append(Row({"date": when.earliest if when else None, "icf": icf}, element=(observation)))

    # Plan de soins: one care episode per rare-disease site
    def section_care_plan(self, section: etree._Element) -> None:
        for encounter in self.entries(section):
            if local(encounter) != "encounter":
                self.unknown(encounter, "Prise en charge")
                continue
            row = Row(element=(encounter), cda_id=self.row_id(encounter))
            values = row.values
            kind = child(encounter, "code")
            values["encounter_type"] = self.code(kind, m.VS_ENCOUNTER, "pec_type") if kind is not None and not kind.get("nullFlavor") else None
            values["inclusion_date"] = self.partial(time_value(child(encounter, "effectiveTime")), encounter, "date_inclusion")
            performer = child(encounter, "performer", "assignedEntity")
            values["referent_rpps"] = self.rpps(child(performer, "id"))
            values["referent_name"] = read_person(child(performer, "assignedPerson", "name"))
            values["outside_labelling"] = False
            for informant in children(encounter, "informant"):
                referral = child(informant, "assignedEntity", "code")
                code = self.code(referral, m.VS_REFERRED_BY, "adresse_par") if referral is not None else None
                if code is not None:
                    row.add("referrals", code)
            for participant in children(encounter, "participant"):
                role = child(participant, "participantRole")
                if participant.get("typeCode") == "REF":
                    code = self.code(child(role, "code"), m.VS_REFERRED_BY, "adresse_par")
                    if code is not None:
                        row.add("referrals", code)
                elif participant.get("typeCode") == "LOC":
                    values["site"] = self.site_of(role, "site_mr")
                else:
                    self.unknown(participant, "Participant de la prise en charge")
            for relationship in children(encounter, "entryRelationship"):
                for observation in relationship:
                    if isinstance(observation.tag, str) and not self.apply_rules("care_episode", observation, values):
                        self.unknown(observation, "Observation de la prise en charge")
            self.doc.care_episodes.append(row)

    def site_of(self, role: etree._Element | None, item: str, required: bool = True) -> str:
        for identifier in children(role, "id"):
            value = ii(identifier)
            if value and value.root == oids.RD_SITES and value.extension:
                return value.extension
        code = cd(child(role, "playingEntity", "code"))
        if code and code.system == oids.RD_SITES:
            return code.code
        if required:
            self.message("error", "missing_site", "Site maladies rares (annuaire 1.2.250.1.213.2.61) absent.", role, item)
        return ""

    def row_id(self, element: etree._Element) -> str:
        value = ii(child(element, "id"))
        return value.text[:128] if value else ""

    # Activités
    def section_activities(self, section: etree._Element) -> None:
        for encounter in self.entries(section):
            if local(encounter) != "encounter":
                self.unknown(encounter, "Activité")
                continue
            row = Row(element=(encounter), cda_id=self.row_id(encounter))
            values = row.values
            context = child(encounter, "code")
            values["context"] = self.code(context, m.VS_CONTEXT, "activite_contexte") if context is not None and not context.get("nullFlavor") else None
            values["context_detail"] = ""
            if values["context"] is not None and values["context"].code == "GEN-092.05.04":
                original = child(context, "originalText")
                if original is not None:
                    reference = child(original, "reference")
                    values["context_detail"] = self.narrative(reference.get("value") or "") if reference is not None else clean(original.text)
            when = self.partial(time_value(child(encounter, "effectiveTime")), encounter, "activite_date")
            if when is not None and when.precision != "D":
                self.message("warning", "partial_date", "Date d'activité incomplète : premier jour retenu.", encounter, "activite_date")
            values["date"] = when.earliest if when else None
            performers = children(encounter, "performer")
            values["performer_rpps"] = values["performer_name"] = ""
            for index, performer in enumerate(performers):
                entity = child(performer, "assignedEntity")
                if index == 0:
                    values["performer_rpps"] = self.rpps(child(entity, "id"))
                    values["performer_name"] = read_person(child(entity, "assignedPerson", "name"))
                elif self.rpps(child(entity, "id")) != values["performer_rpps"]:
                    self.message("info", "not_stored", "Intervenant supplémentaire : seule sa profession est conservée.", performer, "activite_intervenant")
                profession = child(entity, "code")
                code = self.code(profession, m.VS_PROFESSION, "activite_intervenant") if profession is not None else None
                if code is not None and code not in row.lists.get("professions", []):
                    row.add("professions", code)
            values["place_finess"] = values["place_commune"] = values["place_country"] = ""
            for participant in children(encounter, "participant"):
                role = child(participant, "participantRole")
                if participant.get("typeCode") != "LOC":
                    self.unknown(participant, "Participant de l'activité")
                    continue
                values["site"] = self.site_of(role, "activite_site_lieu")
                for identifier in children(role, "id"):
                    value = ii(identifier)
                    if value and value.root == oids.FINESS:
                        values["place_finess"] = self.finess(value, identifier)
                place = read_address(child(role, "addr"))
                values["place_commune"] = place.commune
                values["place_country"] = self.country(place.country, child(role, "addr"), "activite_site_lieu")
            values["foetus"] = self.subject_foetus(encounter)
            for relationship in children(encounter, "entryRelationship"):
                for observation in relationship:
                    if isinstance(observation.tag, str) and not self.apply_rules("activity", observation, values, row):
                        self.unknown(observation, "Observation de l'activité")
            self.doc.activities.append(row)

    def subject_foetus(self, element: etree._Element) -> str:
        subject = child(element, "subject", "relatedSubject", "subject")
        if subject is None:
            return ""
        identifier = ii(subject.find(sq("id")))
        if identifier is None:
            self.message("warning", "foetus_without_id", "Sujet fœtus sans identifiant local (sdtc:id) : non rattaché.", subject)
            return ""
        return identifier.extension or identifier.root

    # Diagnostics
    def section_diagnoses(self, section: etree._Element) -> None:
        for act in self.entries(section):
            mains, siblings = [], []
            for relationship in children(act, "entryRelationship"):
                for statement in relationship:
                    if not isinstance(statement.tag, str):
                        continue
                    key = cd(child(statement, "code"))
                    if key and (key.code, key.system) in DIAGNOSIS_CODES:
                        mains.append(statement)
                    else:
                        siblings.append(statement)
            if not mains:
                self.message("error", "missing_diagnosis", "Liste de problèmes sans diagnostic (observation 282291009).", act, "diagnostic_code")
                continue
            if siblings and len(mains) > 1:
                self.message("warning", "ambiguous_observations",
                             "Observations rattachées à la liste de problèmes et non à un diagnostic : attribuées au premier.", act)
            for index, main in enumerate(mains):
                nested = [s for r in children(main, "entryRelationship") for s in r if isinstance(s.tag, str)]
                self.read_diagnosis(main, nested + (siblings if index == 0 else []))

    def read_diagnosis(self, main: etree._Element, observations: list[etree._Element]) -> None:
        row = Row(element=(main), cda_id=self.row_id(main))
        values = row.values
        when = child(main, "effectiveTime")
        values["date"] = self.partial(time_value(when), when, "diagnostic_date")
        value = child(main, "value")
        disease = self.coded(value, "diagnostic_code", {oids.ORPHA, oids.CIM10})
        values["disease"] = disease
        values["complex_non_rare"] = bool(disease and disease.system == oids.CIM10)
        values["diagnosing_site_code"] = values["diagnosing_site_name"] = ""
        for participant in children(main, "participant"):
            role = child(participant, "participantRole")
            if participant.get("typeCode") != "LOC":
                self.unknown(participant, "Participant du diagnostic")
                continue
            values["diagnosing_site_code"] = self.site_of(role, "site_diagnostic", required=False)
            values["diagnosing_site_name"] = text_of(child(role, "playingEntity", "name"))[:255]
        values["foetus"] = self.subject_foetus(main)
        for observation in observations:
            key = cd(child(observation, "code"))
            if local(observation) == "act" and key and (key.code, key.system) == COMMENT_CODE:
                values["comment"] = self.text_value(child(observation, "text"))
            elif not self.apply_rules("diagnosis", observation, values, row):
                self.unknown(observation, "Observation du diagnostic")
        self.doc.diagnoses.append(row)

    # Informations anté et néonatales (subsections, vital-signs organizer)
    def section_neonatal(self, section: etree._Element) -> None:
        patient = self.doc.patient
        for statement in self.entries(section):
            if local(statement) == "organizer":
                for component in children(statement, "component"):
                    for observation in component:
                        if isinstance(observation.tag, str) and not self.apply_rules("neonatal", observation, patient):
                            self.unknown(observation, "Signe vital")
            elif not self.apply_rules("neonatal", statement, patient):
                self.unknown(statement, "Entrée anté/néonatale")
        for component in children(section, "component"):
            for subsection in children(component, "section"):
                code = cd(child(subsection, "code"))
                if code is None or (code.code, code.system) not in m.NEONATAL_SUBSECTIONS:
                    self.unknown(subsection, "Sous-section")
                    continue
                self.section_neonatal(subsection)

    # Historique des grossesses
    def section_pregnancies(self, section: etree._Element) -> None:
        for organizer in self.entries(section):
            key = cd(child(organizer, "code"))
            if key is None or (key.code, key.system) != PREGNANCY:
                self.unknown(organizer, "Grossesse")
                continue
            row = Row(element=(organizer), cda_id=self.row_id(organizer))
            period = child(organizer, "effectiveTime")
            low, high = child(period, "low"), child(period, "high")
            row.values["start"] = self.partial(low.get("value") if low is not None else (period.get("value") if period is not None else None), period, "grossesse_periode")
            row.values["end"] = self.partial(high.get("value") if high is not None else None, period, "grossesse_periode")
            for component in children(organizer, "component"):
                for statement in component:
                    if not isinstance(statement.tag, str):
                        continue
                    if local(statement) == "sequenceNumber":
                        continue  # order of the child, carried again by multipleBirthOrderNumber
                    if local(statement) == "organizer":
                        foetus = self.read_birth(statement, component)
                        if foetus is not None:
                            row.add("foetuses", foetus)
                    elif not self.apply_rules("pregnancy", statement, row.values):
                        self.unknown(statement, "Observation de grossesse")
            self.doc.pregnancies.append(row)

    def read_birth(self, organizer: etree._Element, component: etree._Element) -> Row | None:
        key = cd(child(organizer, "code"))
        if key is None or (key.code, key.system) != BIRTH:
            self.unknown(organizer, "Naissance")
            return None
        row = Row(element=(organizer), cda_id=self.row_id(organizer))
        values = row.values
        subject = child(organizer, "subject", "relatedSubject", "subject")
        identifiers = [value for element in (subject.findall(sq("id")) if subject is not None else []) if (value := ii(element))]
        values["local_id"] = (identifiers[0].extension or identifiers[0].root)[:64] if identifiers else ""
        if len(identifiers) > 1:
            row.lists["newborn_id"] = [identifiers[1].extension or identifiers[1].root]
        parts = read_name(child(subject, "name"))
        birth = child(subject, "birthTime")
        values["birth_date"] = self.partial(birth.get("value") if birth is not None else None, birth, "foetus_identite")
        if birth is not None:  # a newborn: its own names
            values["birth_name"] = parts.get("family", "BR", "")
            values["given_name"] = parts.get("given", "BR", "CL", "")
            if parts.get("given", "") or parts.get("family", "CL"):
                self.not_stored(subject, "Nom d'usage ou liste des prénoms du nouveau-né")
        else:  # a foetus: the mother's names, and the foetus's given name if any
            values["birth_name"] = ""
            values["given_name"] = parts.get("given", "CL")
            mother = parts.get("family", "BR", "")
            if mother and self.doc.patient.get("birth_name") and mother != self.doc.patient.get("birth_name"):
                self.message("warning", "mother_name", f"Nom de naissance de la mère « {mother} » différent de celui de la patiente.", subject, "foetus_identite")
        gender = child(subject, "administrativeGenderCode")
        values["sex"] = self.code(gender, m.VS_SEX, "foetus_identite") if gender is not None and not gender.get("nullFlavor") else None
        values["multiple"] = self.guard(bl, subject.find(sq("multipleBirthInd")) if subject is not None else None, "foetus_identite")
        values["rank"] = self.guard(integer, subject.find(sq("multipleBirthOrderNumber")) if subject is not None else None, "foetus_identite")
        for inner in children(organizer, "component"):
            for observation in inner:
                if not isinstance(observation.tag, str):
                    continue
                code = child(observation, "code")
                if code is not None and code.get("nullFlavor") == "NA":
                    continue  # the placeholder of an ongoing pregnancy
                if not self.apply_rules("foetus", observation, values):
                    self.unknown(observation, "Observation de naissance")
        return row

    # Recherche (2024.01: GEN-369; 2021.01/2022.01: « Résultats d'examens »)
    def section_research(self, section: etree._Element) -> None:
        for statement in self.entries(section):
            code = child(statement, "code")
            if local(statement) == "procedure" and code is not None and code.get("nullFlavor"):
                continue  # 2022.01: empty research-protocol act
            if not self.apply_rules("research", statement, self.doc.patient):
                self.unknown(statement, "Entrée de recherche")

    # Traitements (2021.01, 2022.01)
    def section_treatments(self, section: etree._Element) -> None:
        for statement in self.entries(section):
            if local(statement) != "substanceAdministration":
                self.unknown(statement, "Traitement")
                continue
            row = Row(element=(statement))
            period = child(statement, "effectiveTime")
            low, high = child(period, "low"), child(period, "high")
            row.values["start"] = self.partial(low.get("value") if low is not None else None, period, "traitement_mr")
            row.values["end"] = self.partial(high.get("value") if high is not None else None, period, "traitement_mr")
            material = child(statement, "consumable", "manufacturedProduct", "manufacturedMaterial")
            code = child(material, "code")
            product = atc = None
            for candidate in [code, *children(code, "translation")]:
                value = cd(candidate)
                if value is None:
                    continue
                if value.system == oids.EMA_RD_PRODUCTS and product is None:
                    product = Code(value.code, value.system)
                elif value.system == oids.ATC and atc is None:
                    atc = Code(value.code, value.system)
                else:
                    self.message("warning", "unknown_code", f"Code de médicament {value.code} ({value.system}) : ni EMA ni ATC, non conservé.", candidate, "traitement_mr")
            row.values["product"], row.values["atc"] = product, atc
            label = text_of(child(material, "name"))
            if not label and code is not None:
                label = self.text_value(code)
            row.values["label"] = label[:255]
            self.doc.treatments.append(row)

    # Directives anticipées (2021.01): non-opposition
    def section_directives(self, section: etree._Element) -> None:
        for statement in self.entries(section):
            key = cd(child(statement, "code"))
            if key and (key.code, key.system) == m.NON_OPPOSITION_2022:
                agreed = self.guard(bl, child(statement, "value"), "opposition_bndmr")
                if agreed is not None:
                    self.doc.patient["opposition"] = not agreed
            else:
                self.unknown(statement, "Directive anticipée")


def stored_uuid(raw: str, scope: str) -> uuid.UUID:
    """The UUID to store for a CDA id: the id itself when it is a UUID, else a stable UUID
    derived from it (the official examples carry ids such as ...37152FEA4ZA5)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_OID, f"{scope}|{raw}")

