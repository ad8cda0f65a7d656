"""A stored record as a CDA R2 SDM-MR 2024.01 document, shaped like the official ANS examples.

    data = export_patient(patient)                      # bytes, UTF-8
    data = export_patient(patient, keep_retired=True)   # + items retired in 2024.01

Header, sections, entries, templateIds and codes follow SDM-MR_2024.01_*.xml (ANS test kit
CI-SIS 3.0). Items that 2024.01 no longer collects (treatments, investigations, research
protocol, 2022 certainty, activity residence...) are dropped, except with ``keep_retired``:
then they are written where the 2021.01/2022.01 documents put them, so that a bamara-to-bamara
round trip loses nothing. The 2022 "signes complémentaires / inhabituels" become the 2024
"description clinique" that replaced them.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from lxml import etree

from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.models import (
    Activity,
    CareEpisode,
    Diagnosis,
    Foetus,
    Patient,
    Pregnancy,
)
from bamara.sdm import concepts, oids

from . import mapping as m
from .cda import SDTC, XSI, XSI_TYPE, H, split_street

VERSION = "2024.01"
LOCAL_ID_ROOT = m.LOCAL_ID_ROOT
SIMPLE_OBSERVATION = ("1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48")
PROBLEM_ACT = ("2.16.840.1.113883.10.20.1.27", "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",
               "1.3.6.1.4.1.19376.1.5.3.1.4.5.2", "1.2.250.1.213.1.1.3.39")
PROBLEM = ("2.16.840.1.113883.10.20.1.28", "1.3.6.1.4.1.19376.1.5.3.1.4.5", "1.2.250.1.213.1.1.3.37")
ENCOUNTER = ("2.16.840.1.113883.10.20.1.21", "1.3.6.1.4.1.19376.1.5.3.1.4.14", "1.2.250.1.213.1.1.3.58")
SUBJECT = ("1.3.6.1.4.1.19376.1.5.3.1.4.15.2", "1.2.250.1.213.1.1.3.60")
PREGNANCY_OBSERVATION = ("1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.3.6.1.4.1.19376.1.5.3.1.4.13.5", "1.2.250.1.213.1.1.3.53")
PREFETCH = (
    "registry_consents", "first_case_diseases", "functional_scores", "treatments",
    Prefetch("care_episodes", CareEpisode.objects.select_related("site").prefetch_related("referrals").order_by("pk")),
    Prefetch("activities", Activity.objects.select_related("site", "foetus").prefetch_related("objectives", "professions").order_by("date", "pk")),
    Prefetch("diagnoses", Diagnosis.objects.select_related("foetus").prefetch_related("signs", "investigations", "techniques", "genes").order_by("pk")),
    Prefetch("pregnancies", Pregnancy.objects.prefetch_related(
        Prefetch("foetuses", Foetus.objects.select_related("record").order_by("rank", "pk"))).order_by("start", "pk")),
)


def export_patient(patient: Patient, *, keep_retired: bool = False, version_number: int | None = None,
                   now: dt.datetime | None = None) -> bytes:
    root = _Builder(patient, keep_retired=keep_retired, now=now or timezone.now()).document(version_number)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def patients_for_export(queryset):
    """The queryset with everything the exporter reads, in a fixed number of queries."""
    return queryset.select_related("hospital").prefetch_related(*PREFETCH)


# -- values ------------------------------------------------------------------------------


def _ts(value: PartialDate | dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%Y%m%d%H%M%S") + (value.strftime("%z") or "")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    return value.isoformat().replace("-", "")


def _number(value: Decimal | int) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


@functools.lru_cache(maxsize=20_000)
def _terminology_label(code: str, system: str) -> str:
    try:
        if system == oids.ORPHA or system == oids.ORPHA_GROUPS:
            from bamara.terminologies.models import OrphaConcept

            row = OrphaConcept.objects.filter(code=int(code)).values_list("name_fr", flat=True).first() if code.isdigit() else None
            return row or ""
        if system == oids.HPO:
            from bamara.terminologies.models import HpoTerm

            return HpoTerm.objects.filter(id=code).values_list("name", flat=True).first() or ""
        if system == oids.CIM10:
            from bamara.terminologies.models import Cim10Code

            return Cim10Code.objects.filter(code=code.replace(".", "")).values_list("label", flat=True).first() or ""
    except Exception:  # a missing table must not stop an export: the label is optional
        return ""
    return ""


def display(code: str, system: str) -> str:
    label = concepts.label(code, system, "")
    return label or _terminology_label(code, system)


SYSTEM_NAMES = {oids.ORPHA: "JDV_Orpha_Maladies", oids.ORPHA_GROUPS: "JDV_Orpha_Groupes-Maladies",
                oids.TA_ASIP: "TA_ASIP", oids.SNOMED_CT: "SNOMED CT", oids.LOINC: "LOINC",
                oids.CIM10: "CIM-10", oids.HPO: "HPO", oids.HGNC: "HGNC", oids.CCAM: "CCAM", oids.ICF: "ICF"}


class _Builder:
    def __init__(self, patient: Patient, *, keep_retired: bool, now: dt.datetime) -> None:
        self.patient = patient
        self.keep_retired = keep_retired
        self.now = now
        self.hospital = patient.hospital
        self._ids = 0

    # -- element helpers ----------------------------------------------------------------
    def el(self, parent: etree._Element | None, tag: str, text: str | None = None, **attrs: Any) -> etree._Element:
        name = f"{{{SDTC}}}{tag[5:]}" if tag.startswith("sdtc:") else f"{{{H}}}{tag}"
        element = etree.SubElement(parent, name) if parent is not None else etree.Element(name)
        for key, value in attrs.items():
            if value is None:
                continue
            key = XSI_TYPE if key == "xsi_type" else key.rstrip("_")
            element.set(key, str(value))
        if text is not None:
            element.text = text
        return element

    def templates(self, parent: etree._Element, *roots: str) -> None:
        for root in roots:
            self.el(parent, "templateId", root=root)

    def new_id(self, parent: etree._Element, value: uuid.UUID | str | None = None) -> None:
        self.el(parent, "id", root=str(value or uuid.uuid4()).upper())

    def code(self, parent: etree._Element, tag: str, code: str, system: str, label: str | None = None, **attrs: Any) -> etree._Element:
        label = display(code, system) if label is None else label
        return self.el(parent, tag, code=code, displayName=label or None, codeSystem=system,
                       codeSystemName=SYSTEM_NAMES.get(system), **attrs)

    def cd_value(self, parent: etree._Element, value: Code | None, tag: str = "value", kind: str = "CD") -> etree._Element:
        if value is None:
            return self.el(parent, tag, xsi_type=kind, nullFlavor="UNK")
        return self.code(parent, tag, value.code, value.system, xsi_type=kind)

    def item_code(self, parent: etree._Element, item_id: str) -> None:
        code, system, label = m.code_for(item_id, VERSION)
        self.code(parent, "code", code, system, label)

    def narrative(self, section: etree._Element, rows: list[tuple[str, str]]) -> dict[str, str]:
        """A readable table (every section needs its narrative); returns the ID of each row
        whose value entries may reference."""
        text = self.el(section, "text")
        table = self.el(text, "table", border="0")
        body = self.el(table, "tbody")
        ids = {}
        for label, value in rows:
            tr = self.el(body, "tr")
            self.el(tr, "td", label)
            td = self.el(tr, "td")
            self._ids += 1
            ref = f"n{self._ids}"
            self.el(td, "content", value or "", ID=ref)
            ids[label] = ref
        return ids

    def section(self, body: etree._Element, templates: tuple[str, ...], code: tuple[str, str, str], title: str,
                narrative: list[tuple[str, str]] | None = None, *, with_id: bool = True) -> tuple[etree._Element, dict[str, str]]:
        component = self.el(body, "component")
        section = self.el(component, "section")
        self.templates(section, *templates)
        if with_id:
            self.new_id(section)
        self.code(section, "code", code[0], code[1], code[2])
        self.el(section, "title", title)
        refs = self.narrative(section, narrative or [(title, "")])
        return section, refs

    def observation(self, parent: etree._Element, relation: str | None, item_id: str | None = None,
                    code: tuple[str, str, str] | None = None, *, templates: tuple[str, ...] = SIMPLE_OBSERVATION,
                    effective: str | None = None, negation: bool | None = None, inversion: bool | None = None,
                    ) -> etree._Element:
        """An observation, wrapped in an entryRelationship (``relation`` = its typeCode), an
        entry (``relation`` = "entry") or a component (``relation`` = "component")."""
        if relation == "entry":
            holder = self.el(parent, "entry")
        elif relation == "component":
            holder = self.el(parent, "component", typeCode="COMP")
        elif relation:
            holder = self.el(parent, "entryRelationship", typeCode=relation,
                             inversionInd=None if inversion is None else str(inversion).lower())
        else:
            holder = parent
        observation = self.el(holder, "observation", classCode="OBS", moodCode="EVN",
                              negationInd=None if negation is None else str(negation).lower())
        self.templates(observation, *templates)
        self.new_id(observation)
        if item_id is not None:
            self.item_code(observation, item_id)
        elif code is not None:
            self.code(observation, "code", *code)
        self.el(observation, "text")
        self.el(observation, "statusCode", code="completed")
        if effective:
            self.el(observation, "effectiveTime", value=effective)
        else:
            self.el(observation, "effectiveTime", nullFlavor="NA")
        return observation

    def name(self, parent: etree._Element, parts: list[tuple[str, str, str | None]]) -> etree._Element:
        element = self.el(parent, "name")
        for tag, value, qualifier in parts:
            if value:
                self.el(element, tag, value, qualifier=qualifier)
        return element

    def person_name(self, parent: etree._Element, full: str) -> None:
        given, _, family = full.partition(" ")
        if not family:
            given, family = "", given
        self.name(parent, [("given", given, None), ("family", family, None)])

    def rpps_id(self, parent: etree._Element, rpps: str) -> None:
        if rpps:
            self.el(parent, "id", root=oids.RPPS, extension=m.RPPS_PREFIX + rpps)
        else:
            self.el(parent, "id", nullFlavor="UNK")

    def local_id(self, parent: etree._Element, tag: str, value: str, root: str) -> None:
        self.el(parent, tag, root=root or LOCAL_ID_ROOT, extension=value)

    def address(self, parent: etree._Element, line: str = "", postal_code: str = "", commune: str = "",
                country: str = "") -> None:
        if not (line or postal_code or commune or country):
            return
        addr = self.el(parent, "addr")
        if line:
            parts = split_street(line)
            if parts:
                self.el(addr, "houseNumber", parts[0])
                self.el(addr, "streetName", parts[1])
                if parts[2]:
                    self.el(addr, "unitID", parts[2])
            else:
                self.el(addr, "streetAddressLine", line)
        if postal_code:
            self.el(addr, "postalCode", postal_code)
        if commune:
            self.el(addr, "county", commune)
        if country:
            self.el(addr, "state", country)

    def site_role(self, parent: etree._Element, site, role_code: str, *, finess: str = "", commune: str = "",
                  country: str = "", name: str | None = None) -> None:
        participant = self.el(parent, "participant", typeCode="LOC")
        role = self.el(participant, "participantRole", classCode="SDLOC")
        code = site if isinstance(site, str) else site.code
        if code:
            self.el(role, "id", root=oids.RD_SITES, extension=code)
        else:
            self.el(role, "id", nullFlavor="UNK")
        if finess:
            self.el(role, "id", root=oids.FINESS, extension=m.FINESS_PREFIX + finess)
        self.code(role, "code", role_code, oids.TA_ASIP, {"ORG-025": "Site de prise en charge", "ORG-070": "Site Maladie rare"}[role_code])
        self.address(role, commune=commune, country=country)
        entity = self.el(role, "playingEntity", classCode="PLC", determinerCode="INSTANCE")
        label = site.name if not isinstance(site, str) else (name or "")
        if code:
            self.el(entity, "code", code=code, displayName=label or None, codeSystem=oids.RD_SITES)
        if name or label:
            self.el(entity, "name", name or label)

    # -- document -----------------------------------------------------------------------
    def document(self, version_number: int | None) -> etree._Element:
        patient = self.patient
        root = etree.Element(f"{{{H}}}ClinicalDocument", nsmap={None: H, "xsi": XSI, "sdtc": SDTC})
        self.el(root, "realmCode", code="FR")
        self.el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
        self.templates(root, "2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1")
        self.el(root, "templateId", root=oids.SDM_MR_TEMPLATE, extension=VERSION)
        self.new_id(root)
        self.code(root, "code", "34133-9", oids.LOINC, "Synthèse d'épisode de soins")
        self.el(root, "title", "Set de données minimum maladies rares (SDM-MR)")
        now = _ts(self.now)
        self.el(root, "effectiveTime", value=now)
        self.el(root, "confidentialityCode", code="N", displayName="Normal", codeSystem="2.16.840.1.113883.5.25")
        self.el(root, "languageCode", code="fr-FR")
        set_id = patient.cda_set_id or str(patient.uuid).upper()
        root_part, _, extension = set_id.partition("^")
        self.el(root, "setId", root=root_part, extension=extension or None)
        self.el(root, "versionNumber", value=str(version_number or (patient.cda_version or 0) + 1))
        self.record_target(root)
        self.author(root, "author", now)
        if patient.mother_birth_name or patient.mother_first_name or patient.mother_used_name:
            informant = self.el(root, "informant")
            related = self.el(informant, "relatedEntity", classCode="CON")
            self.code(related, "code", "MTH", oids.HL7_ROLE_CODE, "Mère")
            person = self.el(related, "relatedPerson")
            self.name(person, [("family", patient.mother_birth_name, "BR"), ("family", patient.mother_used_name, "CL"),
                               ("given", patient.mother_first_name, "BR")])
        custodian = self.el(self.el(self.el(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization")
        self.el(custodian, "id", root=oids.FINESS, extension=m.FINESS_PREFIX + self.hospital.finess_et)
        self.el(custodian, "name", self.hospital.name)
        if patient.author_rpps:
            self.author(root, "legalAuthenticator", now)
        if patient.gp_rpps or patient.gp_name:
            participant = self.el(root, "participant", typeCode="INF")
            self.el(participant, "functionCode", code="PCP", codeSystem="2.16.840.1.113883.5.88", displayName="Médecin Traitant")
            entity = self.el(participant, "associatedEntity", classCode="PROV")
            self.rpps_id(entity, patient.gp_rpps)
            self.person_name(self.el(entity, "associatedPerson"), patient.gp_name)
            if patient.gp_finess:
                organisation = self.el(entity, "scopingOrganization")
                self.el(organisation, "id", root=oids.FINESS, extension=m.FINESS_PREFIX + patient.gp_finess)
        event = self.el(self.el(root, "documentationOf"), "serviceEvent")
        self.code(event, "code", "11429006", oids.SNOMED_CT, "consultation")
        self.el(self.el(event, "effectiveTime"), "low", value=now)
        consent = self.el(self.el(root, "authorization", typeCode="AUTH"), "consent", classCode="CONS", moodCode="EVN")
        if patient.opposition:
            self.code(consent, "code", *m.OPPOSITION, "Le patient (ou son représentant légal) s'oppose à la réutilisation de ses données dans l'entrepôt de données de santé BNDMR.")
        else:
            self.code(consent, "code", *m.NO_OPPOSITION, "Le patient (ou son représentant légal) ne s'oppose pas à la réutilisation de ses données dans l'entrepôt de données de santé BNDMR.")
        self.el(consent, "statusCode", code="completed")
        for registry in patient.registry_consents.all():
            consent = self.el(self.el(root, "authorization", typeCode="AUTH"), "consent", classCode="CONS", moodCode="EVN")
            self.code(consent, "code", *m.ERN_CONSENT, m.ERN_CONSENT_TEXT + registry.registry)
            self.el(consent, "statusCode", code="completed")
        encounter = self.el(self.el(root, "componentOf"), "encompassingEncounter")
        self.el(self.el(encounter, "effectiveTime"), "low", value=now)
        facility = self.el(self.el(encounter, "location"), "healthCareFacility")
        if self.hospital.category:
            self.el(facility, "code", code=self.hospital.category, codeSystem=oids.FINESS_CATEGORY)
        else:
            self.el(facility, "code", nullFlavor="UNK")
        body = self.el(self.el(root, "component"), "structuredBody")
        self.section_dossier(body)
        self.section_family(body)
        self.section_problems(body)
        self.section_functional(body)
        self.section_care_plan(body)
        self.section_activities(body)
        self.section_diagnoses(body)
        self.section_neonatal(body)
        self.section_pregnancies(body)
        self.section_research(body)
        if self.keep_retired:
            self.section_treatments(body)
        return root

    def record_target(self, root: etree._Element) -> None:
        patient = self.patient
        role = self.el(self.el(root, "recordTarget"), "patientRole", classCode="PAT")
        if patient.ins and patient.ins_status in ("", "qualifiee"):  # INS rules: qualified identities only
            self.el(role, "id", root=patient.ins_oid or oids.INS_NIR, extension=patient.ins)
        if patient.ipp:
            self.local_id(role, "id", patient.ipp, patient.ipp_oid)
        elif patient.foetus_local_id:
            self.el(role, "id", nullFlavor="UNK")  # keeps the position of the IPP
        if patient.foetus_local_id:
            self.local_id(role, "id", patient.foetus_local_id, "")
        self.address(role, patient.address_line, patient.postal_code, patient.residence_commune, patient.residence_country)
        if patient.phone:
            self.el(role, "telecom", value=f"tel:{patient.phone}")
        if patient.email:
            self.el(role, "telecom", value=f"mailto:{patient.email}")
        person = self.el(role, "patient", classCode="PSN")
        self.name(person, [("family", patient.birth_name, "BR"), ("given", patient.birth_given_names, None),
                           ("given", patient.first_birth_given_name, "BR"), ("family", patient.used_name, "CL"),
                           ("given", patient.used_given_name, "CL")])
        if patient.sex_code:
            self.code(person, "administrativeGenderCode", patient.sex_code, patient.sex_system or oids.HL7_GENDER)
        else:
            self.el(person, "administrativeGenderCode", nullFlavor="UNK")
        birth = _ts(patient.birth_date_partial)
        self.el(person, "birthTime", value=birth, nullFlavor=None if birth else "UNK")
        if patient.deceased is not None:
            self.el(person, "sdtc:deceasedInd", value=str(patient.deceased).lower())
        if patient.death_date_partial is not None:
            self.el(person, "sdtc:deceasedTime", value=_ts(patient.death_date_partial))
        if patient.multiple_birth is not None:
            self.el(person, "sdtc:multipleBirthInd", value=str(patient.multiple_birth).lower())
        if patient.multiple_birth_rank is not None:
            self.el(person, "sdtc:multipleBirthOrderNumber", value=str(patient.multiple_birth_rank))
        if patient.representative_name or patient.representative_given_name or patient.representative_phone \
                or patient.representative_relation_code:
            guardian = self.el(person, "guardian")
            if patient.representative_relation_code:
                self.code(guardian, "code", patient.representative_relation_code, patient.representative_relation_system or oids.HL7_ROLE_CODE)
            if patient.representative_phone:
                self.el(guardian, "telecom", value=f"tel:{patient.representative_phone}")
            self.name(self.el(guardian, "guardianPerson"), [("family", patient.representative_name, None),
                                                           ("given", patient.representative_given_name, None)])
        if patient.birth_commune or patient.birth_country:
            place = self.el(self.el(person, "birthplace"), "place")
            self.address(place, commune=patient.birth_commune, country=patient.birth_country)

    def author(self, root: etree._Element, tag: str, now: str) -> None:
        patient = self.patient
        holder = self.el(root, tag)
        self.el(holder, "time", value=now)
        if tag == "legalAuthenticator":
            self.el(holder, "signatureCode", code="S")
        entity = self.el(holder, "assignedAuthor" if tag == "author" else "assignedEntity")
        self.rpps_id(entity, patient.author_rpps)
        if patient.author_rpps or patient.author_name:
            self.code(entity, "code", "G15_10", oids.RPPS_PROFESSIONS, "Médecin")
            self.person_name(self.el(entity, "assignedPerson"), patient.author_name)
        else:  # no clinician known: bamara itself wrote the document
            device = self.el(entity, "assignedAuthoringDevice")
            self.el(device, "softwareName", "bamara")
        if tag == "legalAuthenticator":
            organisation = self.el(entity, "representedOrganization")
            self.el(organisation, "id", root=oids.FINESS, extension=m.FINESS_PREFIX + self.hospital.finess_et)
            self.el(organisation, "name", self.hospital.name)

    # -- sections -----------------------------------------------------------------------
    def section_dossier(self, body: etree._Element) -> None:
        patient = self.patient
        section, _ = self.section(body, ("1.2.250.1.213.1.1.2.66",), ("GEN-168", oids.TA_ASIP, "Dossier"),
                                  "Dossier MR du patient", [("Identifiant du dossier", str(patient.uuid).upper())])
        created = self.observation(self.el(section, "entry"), None, "dossier_date_creation", negation=False,
                                   effective=_ts(patient.record_created_on))
        created.find(f"{{{H}}}id").set("root", str(patient.uuid).upper())
        self._ts_value(created, patient.record_created_on)
        updated = self.observation(self.el(section, "entry"), None, "dossier_date_maj", negation=False,
                                   effective=_ts(patient.updated_at or self.now))
        self._ts_value(updated, patient.updated_at or self.now)
        if patient.opposition and patient.opposition_on:
            observation = self.observation(self.el(section, "entry"), None, "opposition_date", effective=_ts(patient.opposition_on))
            self._ts_value(observation, patient.opposition_on)
        if patient.lost_to_follow_up is not None:
            observation = self.observation(self.el(section, "entry"), None, "perdu_de_vue")
            self.el(observation, "value", xsi_type="BL", value=str(patient.lost_to_follow_up).lower())

    def _ts_value(self, observation: etree._Element, value) -> None:
        stamp = _ts(value)
        self.el(observation, "value", xsi_type="TS", value=stamp, nullFlavor=None if stamp else "UNK")

    def section_family(self, body: etree._Element) -> None:
        patient = self.patient
        diseases = [row.orpha_code for row in patient.first_case_diseases.all()]
        if not (patient.first_case_identifier or patient.first_case_relation_code or patient.first_case_sex_code or diseases):
            return
        section, _ = self.section(
            body, ("2.16.840.1.113883.10.20.1.4", "1.3.6.1.4.1.19376.1.5.3.1.3.14", "1.3.6.1.4.1.19376.1.5.3.1.3.15", "1.2.250.1.213.1.1.2.139"),
            ("10157-6", oids.LOINC, "Historique des pathologies familiales"),
            "Premier cas diagnostiqué de la famille dans l'établissement",
            [("Identifiant du premier cas", patient.first_case_identifier)])
        organizer = self.el(self.el(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
        self.templates(organizer, "2.16.840.1.113883.10.20.1.23", "1.3.6.1.4.1.19376.1.5.3.1.4.15", "1.2.250.1.213.1.1.3.59")
        self.el(organizer, "statusCode", code="completed")
        subject = self.el(organizer, "subject", typeCode="SBJ")
        self.templates(subject, *SUBJECT)
        related = self.el(subject, "relatedSubject", classCode="PRS")
        if patient.first_case_relation_code:
            self.code(related, "code", patient.first_case_relation_code, patient.first_case_relation_system or oids.HL7_ROLE_CODE)
        else:
            self.el(related, "code", nullFlavor="UNK")
        person = self.el(related, "subject", classCode="PSN")
        if patient.first_case_identifier:
            if patient.first_case_identifier_oid:
                self.el(person, "sdtc:id", root=patient.first_case_identifier_oid, extension=patient.first_case_identifier)
            else:
                self.el(person, "sdtc:id", root=LOCAL_ID_ROOT, extension=patient.first_case_identifier)
        if patient.first_case_sex_code:
            self.code(person, "administrativeGenderCode", patient.first_case_sex_code, patient.first_case_sex_system or oids.HL7_GENDER)
        for code in diseases or [None]:
            observation = self.observation(organizer, "component", code=("404684003", oids.SNOMED_CT, "constatation clinique"),
                                           templates=("2.16.840.1.113883.10.20.1.22", "1.3.6.1.4.1.19376.1.5.3.1.4.13",
                                                      "1.3.6.1.4.1.19376.1.5.3.1.4.13.3", "1.2.250.1.213.1.1.3.51"))
            self.cd_value(observation, Code(str(code), oids.ORPHA) if code is not None else None)

    def section_problems(self, body: etree._Element) -> None:
        patient = self.patient
        death = patient.death_related_to_rd == "oui"
        certainties = [d for d in patient.diagnoses.all() if d.verification_status_2022_code] if self.keep_retired else []
        status = patient.clinical_status if self.keep_retired and not (death and patient.clinical_status_code == m.DEATH) else None
        if not (death or patient.consanguinity or certainties or status):
            return
        section, _ = self.section(body, ("2.16.840.1.113883.10.20.1.11", "1.3.6.1.4.1.19376.1.5.3.1.3.6", "1.2.250.1.213.1.1.2.132"),
                                  ("11450-4", oids.LOINC, "Liste des problèmes actifs"), "Problèmes",
                                  [("Patient issu d'une union consanguine", patient.consanguinity)])
        act = self.el(self.el(section, "entry"), "act", classCode="ACT", moodCode="EVN")
        self.templates(act, *PROBLEM_ACT)
        self.new_id(act)
        self.el(act, "code", nullFlavor="NA")
        self.el(act, "statusCode", code="completed")
        period = self.el(act, "effectiveTime")
        self.el(period, "low", value=_ts(self.now))

        def problem(value: Code | None, negation: bool | None) -> etree._Element:
            relation = self.el(act, "entryRelationship", typeCode="SUBJ", inversionInd="false")
            observation = self.el(relation, "observation", classCode="OBS", moodCode="EVN",
                                  negationInd=None if negation is None else str(negation).lower())
            self.templates(observation, *PROBLEM)
            self.new_id(observation)
            self.code(observation, "code", "55607006", oids.SNOMED_CT, "problème")
            self.el(observation, "text")
            self.el(observation, "statusCode", code="completed")
            self.el(self.el(observation, "effectiveTime", xsi_type="IVL_TS"), "low", value=_ts(self.now))
            self.cd_value(observation, value)
            return observation

        def clinical_status(observation: etree._Element, code: Code) -> None:
            relation = self.el(observation, "entryRelationship", typeCode="REFR", inversionInd="false")
            nested = self.el(relation, "observation", classCode="OBS", moodCode="EVN")
            self.templates(nested, "2.16.840.1.113883.10.20.1.51", "1.3.6.1.4.1.19376.1.5.3.1.4.1.2", "1.2.250.1.213.1.1.3.31")
            self.code(nested, "code", "11323-3", oids.LOINC, "Statut clinique du patient")
            self.el(nested, "text")
            self.el(nested, "statusCode", code="completed")
            self.code(nested, "value", code.code, code.system, xsi_type="CE")

        if death:
            observation = problem(Code(str(patient.death_cause_orpha), oids.ORPHA) if patient.death_cause_orpha else None, False)
            clinical_status(observation, Code(m.DEATH, oids.SNOMED_CT))
        for diagnosis in certainties:
            observation = problem(diagnosis.disease, False)
            relation = self.el(observation, "entryRelationship", typeCode="SUBJ", inversionInd="true")
            nested = self.observation(relation, None, code=("66455-7", oids.LOINC, "Certitude"),
                                      templates=("1.2.250.1.213.1.1.3.171", *SIMPLE_OBSERVATION))
            self.cd_value(nested, diagnosis.verification_status_2022)
            if status is not None:
                clinical_status(observation, status)
                status = None
        if status is not None:
            clinical_status(problem(None, False), status)
        if patient.consanguinity:
            negation = {"oui": False, "non": True}.get(patient.consanguinity)
            problem(Code("842009", oids.SNOMED_CT), negation)

    def section_functional(self, body: etree._Element) -> None:
        scores = list(self.patient.functional_scores.all())
        if not scores:
            return
        section, _ = self.section(body, ("2.16.840.1.113883.10.20.1.5", "2.16.840.1.113883.10.22.3.8", "1.2.250.1.213.1.1.2.246"),
                                  ("47420-5", oids.LOINC, "Évaluation du statut fonctionnel"), "Statut fonctionnel",
                                  [(f"Score CIF {s.date or ''}", s.icf_code) for s in scores])
        for score in sorted(scores, key=lambda s: (s.date or dt.date.min, s.pk)):
            entry = self.el(section, "entry", typeCode="COMP", contextConductionInd="true")
            organizer = self.el(entry, "organizer", classCode="CLUSTER", moodCode="EVN")
            self.templates(organizer, "2.16.840.1.113883.10.20.1.32", "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.7", "1.2.250.1.213.1.1.3.95")
            self.new_id(organizer)
            self.el(organizer, "code", nullFlavor="NA")
            self.el(organizer, "statusCode", code="completed")
            self._low(organizer, score.date)
            component = self.el(organizer, "component", typeCode="COMP")
            observation = self.el(component, "observation", classCode="OBS", moodCode="EVN", negationInd="false")
            self.templates(observation, "2.16.840.1.113883.10.20.1.31", "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.6",
                           "1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.25")
            self.new_id(observation)
            self.code(observation, "code", *m.ICF_OBSERVATION, "Statut fonctionnel")
            self.el(observation, "text")
            self.el(observation, "statusCode", code="completed")
            self._low(observation, score.date)
            self.cd_value(observation, score.icf)

    def _low(self, parent: etree._Element, value) -> None:
        period = self.el(parent, "effectiveTime")
        stamp = _ts(value)
        self.el(period, "low", value=stamp, nullFlavor=None if stamp else "UNK")

    def performer(self, parent: etree._Element, rpps: str, name: str, profession: Code | None) -> None:
        performer = self.el(parent, "performer", typeCode="PRF")
        self.el(performer, "time", nullFlavor="NA")
        entity = self.el(performer, "assignedEntity")
        self.rpps_id(entity, rpps)
        if profession is not None:
            self.code(entity, "code", profession.code, profession.system)
        if name:
            self.person_name(self.el(entity, "assignedPerson"), name)

    def section_care_plan(self, body: etree._Element) -> None:
        episodes = list(self.patient.care_episodes.all())
        if not episodes:
            return
        section, _ = self.section(body, ("2.16.840.1.113883.10.20.1.10", "1.3.6.1.4.1.19376.1.5.3.1.3.36", "1.2.250.1.213.1.1.2.158"),
                                  ("18776-5", oids.LOINC, "Plan de soins"), "Prises en charges MR",
                                  [(f"Site {e.site.code}", str(e.inclusion_date_partial or "")) for e in episodes])
        for episode in episodes:
            encounter = self.el(self.el(section, "entry"), "encounter", classCode="ENC", moodCode="EVN")
            self.templates(encounter, *ENCOUNTER)
            self.new_id(encounter, episode.uuid)
            if episode.encounter_type_code:
                self.code(encounter, "code", episode.encounter_type_code, episode.encounter_type_system or oids.HL7_ACT_CODE)
            else:
                self.el(encounter, "code", nullFlavor="UNK")
            self.el(encounter, "text")
            period = self.el(encounter, "effectiveTime", xsi_type="IVL_TS")
            stamp = _ts(episode.inclusion_date_partial)
            self.el(period, "low", value=stamp, nullFlavor=None if stamp else "UNK")
            self.performer(encounter, episode.referent_rpps, episode.referent_name,
                           Code("G15_10", oids.RPPS_PROFESSIONS) if episode.referent_rpps or episode.referent_name else None)
            for referral in episode.referrals.all():
                entity = self.el(self.el(encounter, "informant"), "assignedEntity")
                self.el(entity, "id", nullFlavor="NA")
                self.code(entity, "code", referral.referred_by_code, referral.referred_by_system)
            self.site_role(encounter, episode.site, "ORG-025")
            observation = self.observation(encounter, "REFR", "hors_labellisation")
            self.el(observation, "value", xsi_type="BL", value=str(bool(episode.outside_labelling)).lower())

    def foetus_subject(self, parent: etree._Element, foetus: Foetus, code: str = "CHILD") -> None:
        patient = self.patient
        subject = self.el(parent, "subject", typeCode="SBJ")
        self.templates(subject, *SUBJECT)
        related = self.el(subject, "relatedSubject", classCode="PRS")
        self.code(related, "code", code, oids.HL7_ROLE_CODE, "Enfant")
        person = self.el(related, "subject")
        self.local_id(person, "sdtc:id", foetus.local_id, "")
        newborn = foetus.birth_date_partial is not None
        if newborn and foetus.record_id and foetus.record and foetus.record.ipp:
            self.local_id(person, "sdtc:id", foetus.record.ipp, foetus.record.ipp_oid)
        if newborn:
            self.name(person, [("family", foetus.birth_name, "BR"), ("given", foetus.given_name, "BR")])
        else:
            self.name(person, [("family", patient.birth_name, "BR"), ("family", patient.used_name, "CL"),
                               ("given", patient.first_birth_given_name, "BR"), ("given", foetus.given_name, "CL")])
        if foetus.sex_code:
            self.code(person, "administrativeGenderCode", foetus.sex_code, foetus.sex_system or oids.HL7_GENDER)
        else:
            self.el(person, "administrativeGenderCode", nullFlavor="UNK")
        if newborn:
            self.el(person, "birthTime", value=_ts(foetus.birth_date_partial))
        if foetus.multiple is not None:
            self.el(person, "sdtc:multipleBirthInd", value=str(foetus.multiple).lower())
        if foetus.rank is not None:
            self.el(person, "sdtc:multipleBirthOrderNumber", value=str(foetus.rank))

    def section_activities(self, body: etree._Element) -> None:
        activities = list(self.patient.activities.all())
        if not activities:
            return
        section, _ = self.section(body, ("2.16.840.1.113883.10.20.1.3", "1.3.6.1.4.1.19376.1.5.3.1.1.5.3.3", "1.2.250.1.213.1.1.2.76"),
                                  ("46240-8", oids.LOINC, "Historique des rencontres"), "Activités MR",
                                  [(f"Activité du {a.date:%d/%m/%Y}", a.context_code) for a in activities])
        for activity in activities:
            encounter = self.el(self.el(section, "entry"), "encounter", classCode="ENC", moodCode="EVN")
            self.templates(encounter, *ENCOUNTER)
            self.new_id(encounter, activity.uuid)
            if activity.context_code:
                context = self.code(encounter, "code", activity.context_code, activity.context_system)
                if activity.context_detail:
                    self.el(context, "originalText", activity.context_detail)
            else:
                self.el(encounter, "code", nullFlavor="UNK")
            self.el(encounter, "text")
            self.el(encounter, "effectiveTime", value=_ts(activity.date))
            if activity.foetus is not None:
                self.foetus_subject(encounter, activity.foetus)
            professions = list(activity.professions.all())
            self.performer(encounter, activity.performer_rpps, activity.performer_name, professions[0].profession if professions else None)
            for extra in professions[1:]:
                self.performer(encounter, "", "", extra.profession)
            self.site_role(encounter, activity.site, "ORG-070", finess=activity.place_finess,
                           commune=activity.place_commune, country=activity.place_country)
            for objective in activity.objectives.all():
                observation = self.observation(encounter, "REFR", "activite_objectif")
                self.cd_value(observation, objective.objective)
            if self.keep_retired and activity.residence_country:
                observation = self.observation(encounter, "REFR", code=("65649-6", oids.LOINC, "Pays"))
                self.el(observation, "value", xsi_type="CD", code=activity.residence_country, codeSystem=oids.ISO_3166)
            if self.keep_retired and activity.residence_commune:
                observation = self.observation(encounter, "REFR", code=("65647-0", oids.LOINC, "Code commune"))
                self.el(observation, "value", xsi_type="CD", code=activity.residence_commune, codeSystem=oids.INSEE_COG)

    def section_diagnoses(self, body: etree._Element) -> None:
        diagnoses = list(self.patient.diagnoses.all())
        if not diagnoses:
            return
        section, _ = self.section(body, ("1.3.6.1.4.1.19376.1.5.3.1.3.3", "1.2.250.1.213.1.1.2.129"),
                                  ("46241-6", oids.LOINC, "Diagnostic d'admission à l'hôpital"), "Diagnostics MR",
                                  [(f"Diagnostic {d.disease_code}", d.status_code) for d in diagnoses])
        for diagnosis in diagnoses:
            act = self.el(self.el(section, "entry"), "act", classCode="ACT", moodCode="EVN")
            self.templates(act, *PROBLEM_ACT)
            self.new_id(act)
            self.el(act, "code", nullFlavor="NA")
            self.el(act, "statusCode", code="active")
            self.el(act, "effectiveTime", nullFlavor="NA")
            relation = self.el(act, "entryRelationship", typeCode="SUBJ", inversionInd="false")
            main = self.el(relation, "observation", classCode="OBS", moodCode="EVN")
            self.templates(main, *PROBLEM)
            self.new_id(main, diagnosis.uuid)
            self.item_code(main, "diagnostic_code")
            self.el(main, "text")
            self.el(main, "statusCode", code="completed")
            self._low(main, diagnosis.date_partial)
            self.cd_value(main, diagnosis.disease)
            if diagnosis.foetus is not None:
                self.foetus_subject(main, diagnosis.foetus)
            if diagnosis.diagnosing_site_code or diagnosis.diagnosing_site_name:
                self.site_role(main, diagnosis.diagnosing_site_code, "ORG-070", name=diagnosis.diagnosing_site_name)
            self.diagnosis_observations(main, diagnosis)

    def diagnosis_observations(self, main: etree._Element, diagnosis: Diagnosis) -> None:
        def coded(item_id: str, value: Code | None, inversion: bool | None = None, detail: str = "") -> None:
            if value is None:
                return
            observation = self.observation(main, "REFR", item_id, inversion=inversion)
            element = self.cd_value(observation, value)
            if detail:
                self.el(element, "originalText", detail)

        def age(item_id: str, precision_id: str, value: AgeAt | None) -> None:
            if value is None:
                return
            coded(item_id, Code(value.code, value.system))
            if value.value is not None:
                observation = self.observation(main, "REFR", precision_id, inversion=True)
                self.el(observation, "value", xsi_type="PQ", value=_number(value.value), unit=value.unit or "a")

        def text(item_id: str, value: str) -> None:
            if value:
                observation = self.observation(main, "REFR", item_id)
                self.el(observation, "value", value, xsi_type="ST")

        coded("statut_diagnostic", diagnosis.status, inversion=True)
        for sign in diagnosis.signs.all():
            if sign.kind == "description" or not self.keep_retired:
                coded("description_clinique", sign.sign)
            else:
                item = "signes_complementaires" if sign.kind == "complementaire" else "signes_inhabituels"
                observation = self.observation(main, "REFR", code=(*m.code_for(item, "2022.01")[:2], ""))
                self.cd_value(observation, sign.sign)
        coded("cas_sporadique_familial", diagnosis.sporadic_or_familial, inversion=True)
        age("age_premiers_signes", "age_premiers_signes_precision", diagnosis.onset_age)
        coded("appreciation_diag_entree", diagnosis.appraisal_at_entry)
        age("age_diag_clinique", "age_diag_clinique_precision", diagnosis.clinical_diagnosis_age)
        age("age_diag_genetique", "age_diag_genetique_precision", diagnosis.genetic_diagnosis_age)
        for technique in diagnosis.techniques.all():
            coded("technique_genetique", technique.technique, detail=technique.detail)
        for gene in diagnosis.genes.all():
            observation = self.observation(main, "REFR", "gene", negation=False)
            if gene.gene_code:
                value = self.code(observation, "value", gene.gene_code, gene.gene_system or oids.HGNC, xsi_type="CD")
            else:  # a symbol without HGNC id: "other" with the text
                value = self.el(observation, "value", xsi_type="CD", nullFlavor="OTH")
            if gene.symbol:
                self.el(value, "originalText", gene.symbol)
        text("autres_descriptions_genetiques", diagnosis.other_genetic_description)
        if self.keep_retired:
            for investigation in diagnosis.investigations.all():
                coded("investigations_realisees", investigation.investigation)
            text("precision_mode_confirmation", diagnosis.confirmation_detail)
            if diagnosis.apparently_healthy is not None:
                observation = self.observation(main, "REFR", "sujet_apparemment_sain")
                self.el(observation, "value", xsi_type="BL", value=str(diagnosis.apparently_healthy).lower())
        if diagnosis.comment:
            relation = self.el(main, "entryRelationship", typeCode="SUBJ", inversionInd="true")
            act = self.el(relation, "act", classCode="ACT", moodCode="EVN")
            self.templates(act, "2.16.840.1.113883.10.20.1.40", "1.3.6.1.4.1.19376.1.5.3.1.4.2", "1.2.250.1.213.1.1.3.32")
            self.code(act, "code", "48767-8", oids.LOINC, "Commentaire")
            self.el(act, "text", diagnosis.comment)
            self.el(act, "statusCode", code="completed")

    def section_neonatal(self, body: etree._Element) -> None:
        patient = self.patient
        values = (patient.assisted_reproduction, patient.gestational_age_at_birth_weeks, patient.antenatal_malformation_code,
                  patient.birth_weight_g, patient.birth_length_cm, patient.birth_head_circumference_cm)
        if all(v in (None, "") for v in values):
            return
        section, _ = self.section(body, ("1.3.6.1.4.1.19376.1.5.3.1.1.21.2.4", "1.2.250.1.213.1.1.2.124"),
                                  ("57075-4", oids.LOINC, "Informations sur l'accouchement et le nouveau-né"),
                                  "Informations anténatales et néonatales")
        if patient.assisted_reproduction is not None:
            subsection, _ = self.section(section, ("1.3.6.1.4.1.19376.1.5.3.1.1.13.2.11", "1.2.250.1.213.1.1.2.118"),
                                         ("29554-3", oids.LOINC, "Actes"), "Assistance médicale de la procréation")
            procedure = self.el(self.el(subsection, "entry"), "procedure", classCode="PROC", moodCode="EVN",
                                negationInd=None if patient.assisted_reproduction else "true")
            self.templates(procedure, "2.16.840.1.113883.10.20.1.29", "1.3.6.1.4.1.19376.1.5.3.1.4.19", "1.2.250.1.213.1.1.3.62")
            self.new_id(procedure)
            self.item_code(procedure, "amp")
            self.el(procedure, "text")
            self.el(procedure, "statusCode", code="completed")
            self.el(procedure, "effectiveTime", nullFlavor="UNK")
        if patient.gestational_age_at_birth_weeks is not None or patient.antenatal_malformation_code:
            subsection, _ = self.section(section, ("1.3.6.1.4.1.19376.1.5.3.1.1.21.2.9", "1.3.6.1.4.1.19376.1.7.3.1.1.13.7",
                                                   "1.2.250.1.213.1.1.2.163"), ("42545-4", oids.LOINC, "Evènements observés"),
                                         "Evènements observés")
            if patient.gestational_age_at_birth_weeks is not None:
                observation = self.observation(subsection, "entry", "age_gestationnel_naissance", negation=False)
                self.el(observation, "value", xsi_type="PQ", value=str(patient.gestational_age_at_birth_weeks), unit="wk")
            if patient.antenatal_malformation_code:
                observation = self.observation(subsection, "entry", "malformation_antenatale", negation=False)
                self.cd_value(observation, patient.antenatal_malformation)
        exam, _ = self.section(section, ("1.3.6.1.4.1.19376.1.5.3.1.3.24", "1.3.6.1.4.1.19376.1.5.3.1.1.9.15",
                                         "1.3.6.1.4.1.19376.1.5.3.1.1.9.15.1", "1.2.250.1.213.1.1.2.84"),
                               ("29545-1", oids.LOINC, "Examen physique"), "Informations physiques")
        measures = [("poids_naissance", patient.birth_weight_g, "g"), ("taille_naissance", patient.birth_length_cm, "cm"),
                    ("perimetre_cranien_naissance", patient.birth_head_circumference_cm, "cm")]
        if any(value is not None for _, value, _ in measures):
            vital, _ = self.section(exam, ("2.16.840.1.113883.10.20.1.16", "1.3.6.1.4.1.19376.1.5.3.1.3.25",
                                           "1.3.6.1.4.1.19376.1.5.3.1.1.5.3.2", "1.2.250.1.213.1.1.2.75"),
                                    ("8716-3", oids.LOINC, "Signes vitaux"), "Précisions sur la naissance")
            organizer = self.el(self.el(vital, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
            self.templates(organizer, "2.16.840.1.113883.10.20.1.32", "2.16.840.1.113883.10.20.1.35",
                           "1.3.6.1.4.1.19376.1.5.3.1.4.13.1", "1.2.250.1.213.1.1.3.49")
            self.new_id(organizer)
            self.code(organizer, "code", "85353-1", oids.LOINC, "Signes vitaux")
            self.el(organizer, "statusCode", code="completed")
            self.el(organizer, "effectiveTime", nullFlavor="NA")
            for item_id, value, unit in measures:
                if value is None:
                    continue
                observation = self.observation(organizer, "component", item_id,
                                               templates=("2.16.840.1.113883.10.20.1.31", "1.3.6.1.4.1.19376.1.5.3.1.4.13",
                                                          "1.3.6.1.4.1.19376.1.5.3.1.4.13.2", "1.2.250.1.213.1.1.3.50"))
                self.el(observation, "value", xsi_type="PQ", value=_number(value), unit=unit)

    def section_pregnancies(self, body: etree._Element) -> None:
        pregnancies = list(self.patient.pregnancies.all())
        if not pregnancies:
            return
        section, _ = self.section(body, ("1.3.6.1.4.1.19376.1.5.3.1.1.5.3.4", "1.2.250.1.213.1.1.2.77"),
                                  ("10162-6", oids.LOINC, "Historique des grossesses"), "Historique des grossesses",
                                  [(f"Grossesse {p.start_partial or ''}", str(p.foetus_count or "")) for p in pregnancies])
        for pregnancy in pregnancies:
            organizer = self.el(self.el(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
            self.templates(organizer, "1.3.6.1.4.1.19376.1.5.3.1.4.13.5.1", "1.2.250.1.213.1.1.3.55")
            self.new_id(organizer)
            self.code(organizer, "code", "118185001", oids.SNOMED_CT, "constatation à propos de la grossesse")
            self.el(organizer, "statusCode", code="completed")
            period = self.el(organizer, "effectiveTime")
            start = _ts(pregnancy.start_partial)
            self.el(period, "low", value=start, nullFlavor=None if start else "UNK")
            if pregnancy.end_partial is not None:
                self.el(period, "high", value=_ts(pregnancy.end_partial))
            count = self.observation(organizer, "component", "grossesse_nb_foetus", templates=PREGNANCY_OBSERVATION)
            if pregnancy.foetus_count is not None:
                self.el(count, "value", xsi_type="INT", value=str(pregnancy.foetus_count))
            else:
                self.el(count, "value", xsi_type="INT", nullFlavor="UNK")
            amp = self.observation(organizer, "component", "grossesse_amp", templates=PREGNANCY_OBSERVATION)
            if pregnancy.assisted_reproduction is not None:
                self.el(amp, "value", xsi_type="BL", value=str(pregnancy.assisted_reproduction).lower())
            else:
                self.el(amp, "value", xsi_type="BL", nullFlavor="UNK")
            for index, foetus in enumerate(pregnancy.foetuses.all(), start=1):
                component = self.el(organizer, "component", typeCode="COMP")
                self.el(component, "sequenceNumber", value=str(index))
                birth = self.el(component, "organizer", classCode="CLUSTER", moodCode="EVN")
                self.templates(birth, "1.3.6.1.4.1.19376.1.5.3.1.4.13.5.2", "1.2.250.1.213.1.1.3.56")
                self.new_id(birth)
                self.code(birth, "code", "118215003", oids.SNOMED_CT, "observation sur l'accouchement")
                self.el(birth, "statusCode", code="completed")
                self._low(birth, foetus.birth_date_partial or pregnancy.start_partial)
                self.foetus_subject(birth, foetus)
                if foetus.outcome_code:
                    observation = self.observation(birth, "component", "issue_grossesse", templates=PREGNANCY_OBSERVATION,
                                                   effective=_ts(pregnancy.end_partial))
                    self.cd_value(observation, foetus.outcome)
                else:  # ongoing pregnancy: the placeholder of the official example
                    observation = self.observation(birth, "component", templates=PREGNANCY_OBSERVATION)
                    observation.insert(len(PREGNANCY_OBSERVATION) + 1, etree.Element(f"{{{H}}}code", nullFlavor="NA"))
                    self.el(observation, "value", xsi_type="CD", nullFlavor="NA")
                if foetus.outcome_gestational_age_weeks is not None:
                    observation = self.observation(birth, "component", "foetus_age_gestationnel", templates=PREGNANCY_OBSERVATION)
                    self.el(observation, "value", xsi_type="PQ", value=str(foetus.outcome_gestational_age_weeks), unit="wk")
                if foetus.fetopathology is not None:
                    observation = self.observation(birth, "component", "foetopathologie", templates=PREGNANCY_OBSERVATION)
                    self.el(observation, "value", xsi_type="BL", value=str(foetus.fetopathology).lower())

    def section_research(self, body: etree._Element) -> None:
        patient = self.patient
        flags = [("accord_contact", patient.research_contact_agreement), ("echantillon_recherche", patient.sample_for_research),
                 ("echantillon_diag_moleculaire", patient.sample_for_molecular_diagnosis)]
        if self.keep_retired:
            flags.insert(0, ("participation_protocole", patient.research_protocol))
        if all(value is None for _, value in flags) and not patient.biobanks:
            return
        section, refs = self.section(body, ("1.2.250.1.213.1.1.2.250",), ("GEN-369", oids.TA_ASIP, "Recherche"), "Recherche",
                                     [("Bio-banque(s)", patient.biobanks)], with_id=False)
        for item_id, value in flags:
            if value is not None:
                observation = self.observation(section, "entry", item_id)
                self.el(observation, "value", xsi_type="BL", value=str(value).lower())
        if patient.biobanks:
            observation = self.observation(section, "entry", "biobanques")
            value = self.el(observation, "value", xsi_type="CD")
            self.el(self.el(value, "originalText"), "reference", value=f"#{refs['Bio-banque(s)']}")

    def section_treatments(self, body: etree._Element) -> None:
        treatments = list(self.patient.treatments.all())
        if not treatments:
            return
        section, _ = self.section(body, ("1.2.250.1.213.1.1.2.54",), ("10160-0", oids.LOINC, "Traitements"),
                                  "Traitements maladie rare en cours", [(t.label, "") for t in treatments])
        for treatment in treatments:
            administration = self.el(self.el(section, "entry", typeCode="DRIV"), "substanceAdministration", classCode="SBADM", moodCode="EVN")
            self.templates(administration, "1.2.250.1.213.1.1.3.13")
            self.new_id(administration)
            self.el(administration, "statusCode", code="completed")
            period = self.el(administration, "effectiveTime", xsi_type="IVL_TS")
            start = _ts(treatment.start_partial)
            self.el(period, "low", value=start, nullFlavor=None if start else "UNK")
            if treatment.end_partial is not None:
                self.el(period, "high", value=_ts(treatment.end_partial))
            product = self.el(self.el(administration, "consumable"), "manufacturedProduct")
            self.templates(product, "2.16.840.1.113883.10.20.1.53", "1.3.6.1.4.1.19376.1.5.3.1.4.7.2")
            material = self.el(product, "manufacturedMaterial")
            code = self.el(material, "code")
            for value in (treatment.product, treatment.atc):
                if value is not None:
                    self.code(code, "translation", value.code, value.system)
            if treatment.label:
                self.el(material, "name", treatment.label)
