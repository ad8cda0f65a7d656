"""Where each SDM-MR item sits in a CDA SDM-MR document, per version, and where it is stored.

Declarative tables read by the parser and the exporter. Observation codes are NOT repeated
here: they come from the SDM-MR definition (``cda.code``/``cda.system`` of each item, per
version), so the parser follows the definition. What this module adds is the context (the
section or entry an observation belongs to), the attribute it fills, and how its value reads.
tests/intake/test_mapping.py checks that every item of the definition with a ``cda``
mapping is handled here, or listed in NOT_EXCHANGED.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bamara.sdm import definition, oids

# Value sets (OIDs) of the coded items.
VS_SEX = "2.16.840.1.113883.1.11.1"
VS_ENCOUNTER = "2.16.840.1.113883.1.11.13955"
VS_RELATION = "2.16.840.1.113883.1.11.19563"
VS_REFERRED_BY = "1.2.250.1.213.1.1.5.38"
VS_CONTEXT = "1.2.250.1.213.1.1.5.40"
VS_OBJECTIVE = "1.2.250.1.213.1.1.5.41"
VS_PROFESSION = "1.2.250.1.213.1.1.5.42"
VS_AGE = "1.2.250.1.213.1.1.5.43"
VS_APPRAISAL = "1.2.250.1.213.1.1.5.44"
VS_STATUS = "1.2.250.1.213.1.1.5.45"
VS_SPORADIC = "1.2.250.1.213.1.1.5.46"
VS_INVESTIGATION = "1.2.250.1.213.1.1.5.47"
VS_TECHNIQUE = "1.2.250.1.213.1.1.5.48"
VS_MALFORMATION = "1.2.250.1.213.1.1.5.49"
VS_OUTCOME = "1.2.250.1.213.1.1.5.731"
VS_HEALTH_STATUS = "1.2.250.1.213.1.1.4.2.283.1"
VS_CERTAINTY = "2.16.840.1.113883.4.642.3.166"

POSTNATAL = "767023003"  # VS-AGE: période de la vie entre la naissance et la mort (+ quantity)
DEATH = "419620001"  # SNOMED CT « mort » (clinical status of a problem)
CONSANGUINITY = {("842009", oids.SNOMED_CT), ("MED-553", oids.TA_ASIP)}
PROBLEM_CODES = {"55607006", "64572001", "F-01000", "F-01050"}  # « problème », « maladie »...
OPPOSITION = ("GEN-315", oids.TA_ASIP)
NO_OPPOSITION = ("GEN-317", oids.TA_ASIP)
NON_OPPOSITION_2022 = ("64292-6", oids.LOINC)  # 2021.01/2022.01: « non-opposition »
ERN_CONSENT = ("GEN-320", oids.TA_ASIP)
ERN_CONSENT_TEXT = "Le patient a signé son consentement à la transmission des données au registre "
ICF_OBSERVATION = ("54522-8", oids.LOINC)

# Identifier prefixes of the ANS "identifiant national" (RPPS 8xxxxxxxxxxx, FINESS 1xxxxxxxxx).
RPPS_PREFIX = "8"
FINESS_PREFIX = "1"
# Root of local identifiers whose assigning authority is not known (written by the exporter,
# read back as "no OID"): an OID of the UUID arc 2.25 (ITU-T X.667), fixed for bamara.
LOCAL_ID_ROOT = "2.25.189271458893458203717413394412826146245"
INS_OIDS = {oids.INS_NIR, oids.INS_NIA, oids.INS_NIR_TEST, oids.INS_NIA_TEST}

# Sections, by code (templateId as a fallback: the code is what the examples always carry).
SECTIONS: dict[tuple[str, str], str] = {
    ("GEN-168", oids.TA_ASIP): "dossier",
    ("10157-6", oids.LOINC): "family",
    ("11450-4", oids.LOINC): "problems",
    ("47420-5", oids.LOINC): "functional",
    ("18776-5", oids.LOINC): "care_plan",
    ("46240-8", oids.LOINC): "activities",
    ("46241-6", oids.LOINC): "diagnoses",
    ("57075-4", oids.LOINC): "neonatal",
    ("10162-6", oids.LOINC): "pregnancies",
    ("GEN-369", oids.TA_ASIP): "research",
    ("30954-2", oids.LOINC): "research",  # 2021.01/2022.01 « Résultats d'examens »
    ("10160-0", oids.LOINC): "treatments",
    ("42348-3", oids.LOINC): "directives",  # 2021.01: non-opposition as an advance directive
}
SECTION_TEMPLATES: dict[str, str] = {
    "1.2.250.1.213.1.1.2.66": "dossier", "1.2.250.1.213.1.1.2.139": "family",
    "1.2.250.1.213.1.1.2.132": "problems", "1.2.250.1.213.1.1.2.246": "functional",
    "1.2.250.1.213.1.1.2.158": "care_plan", "1.2.250.1.213.1.1.2.76": "activities",
    "1.2.250.1.213.1.1.2.129": "diagnoses", "1.2.250.1.213.1.1.2.124": "neonatal",
    "1.2.250.1.213.1.1.2.77": "pregnancies", "1.2.250.1.213.1.1.2.250": "research",
    "1.2.250.1.213.1.1.2.54": "treatments", "1.2.250.1.213.1.1.2.157": "directives",
}
NEONATAL_SUBSECTIONS = {("29554-3", oids.LOINC), ("42545-4", oids.LOINC), ("29545-1", oids.LOINC),
                        ("8716-3", oids.LOINC)}


@dataclass(frozen=True)
class Rule:
    """An observation of a context: which item, which attribute, how its value reads.

    kind: bool | date | text | code (normalised against ``value_set``) | coded (kept as sent)
    | age (class) | age_value (its quantity) | int | weeks | grams | cm | present (an act whose
    presence means yes) | list_code / list_coded (one child row per observation).
    """

    item: str
    attribute: str
    kind: str
    value_set: str | None = None
    code: tuple[str, str] | None = None  # only when the definition does not give it
    extra: str = ""  # for signs: the kind of sign


RULES: dict[str, tuple[Rule, ...]] = {
    "dossier": (
        Rule("dossier_date_creation", "record_created_on", "date"),
        Rule("dossier_date_maj", "updated_on", "date"),  # read, not stored (updated_at is ours)
        Rule("opposition_date", "opposition_on", "date"),
        Rule("perdu_de_vue", "lost_to_follow_up", "bool"),
    ),
    "research": (
        Rule("participation_protocole", "research_protocol", "bool"),
        Rule("accord_contact", "research_contact_agreement", "bool"),
        Rule("echantillon_recherche", "sample_for_research", "bool"),
        Rule("echantillon_diag_moleculaire", "sample_for_molecular_diagnosis", "bool"),
        Rule("biobanques", "biobanks", "text"),
    ),
    "neonatal": (
        Rule("amp", "assisted_reproduction", "present"),
        Rule("age_gestationnel_naissance", "gestational_age_at_birth_weeks", "weeks"),
        Rule("malformation_antenatale", "antenatal_malformation", "code", VS_MALFORMATION),
        Rule("poids_naissance", "birth_weight_g", "grams"),
        Rule("taille_naissance", "birth_length_cm", "cm"),
        Rule("perimetre_cranien_naissance", "birth_head_circumference_cm", "cm"),
    ),
    "care_episode": (
        Rule("hors_labellisation", "outside_labelling", "bool"),
    ),
    "activity": (
        Rule("activite_objectif", "objectives", "list_code", VS_OBJECTIVE),
        Rule("activite_residence", "residence_country", "country"),
        Rule("activite_residence", "residence_commune", "commune", code=("65647-0", oids.LOINC)),
    ),
    "diagnosis": (
        Rule("statut_diagnostic", "status", "code", VS_STATUS),
        Rule("age_premiers_signes", "onset_age", "age", VS_AGE),
        Rule("age_premiers_signes_precision", "onset_age", "age_value"),
        Rule("age_diag_clinique", "clinical_diagnosis_age", "age", VS_AGE),
        Rule("age_diag_clinique_precision", "clinical_diagnosis_age", "age_value"),
        Rule("age_diag_genetique", "genetic_diagnosis_age", "age", VS_AGE),
        Rule("age_diag_genetique_precision", "genetic_diagnosis_age", "age_value"),
        Rule("appreciation_diag_entree", "appraisal_at_entry", "code", VS_APPRAISAL),
        Rule("cas_sporadique_familial", "sporadic_or_familial", "code", VS_SPORADIC),
        Rule("description_clinique", "signs", "list_coded", extra="description"),
        Rule("signes_complementaires", "signs", "list_coded", extra="complementaire"),
        Rule("signes_inhabituels", "signs", "list_coded", extra="inhabituel"),
        Rule("investigations_realisees", "investigations", "list_code", VS_INVESTIGATION),
        Rule("precision_mode_confirmation", "confirmation_detail", "text"),
        Rule("technique_genetique", "techniques", "list_code", VS_TECHNIQUE),
        Rule("gene", "genes", "list_coded"),
        Rule("autres_descriptions_genetiques", "other_genetic_description", "text"),
        Rule("sujet_apparemment_sain", "apparently_healthy", "bool"),
        Rule("diagnostic_commentaire", "comment", "text"),
        Rule("certitude_2022", "verification_status_2022", "code", VS_CERTAINTY),
    ),
    "pregnancy": (
        Rule("grossesse_nb_foetus", "foetus_count", "int"),
        Rule("grossesse_amp", "assisted_reproduction", "bool"),
    ),
    "foetus": (
        Rule("issue_grossesse", "outcome", "code", VS_OUTCOME),
        Rule("foetus_age_gestationnel", "outcome_gestational_age_weeks", "weeks"),
        Rule("foetopathologie", "fetopathology", "bool"),
    ),
}

# Items read from the header or from the structure of an entry rather than from a coded
# observation: item -> where the parser reads it (and the exporter writes it).
BY_PATH: dict[str, str] = {
    "doc_sdm_version": "ClinicalDocument/templateId[@root='1.2.250.1.213.1.1.1.30']/@extension",
    "dossier_id": "section FR-Dossier / observation GEN-164 / id",
    "opposition_bndmr": "authorization/consent/code GEN-315 | GEN-317 (2024.01), 64292-6 (2021.01: section 42348-3; 2022.01: en-tête)",
    "consent_ern_registry": "authorization/consent/code GEN-320 (registre : fin du displayName)",
    "ins": "recordTarget/patientRole/id (racine INS-NIR/NIA, y compris OID de test)",
    "ipp": "recordTarget/patientRole/id (premier identifiant non INS)",
    "ipp_foetus": "recordTarget/patientRole/id (second identifiant non INS) ; sdtc:id des sujets fœtus",
    "nom_naissance": "patient/name/family[@qualifier='BR']",
    "prenoms_naissance": "patient/name/given (sans qualifier)",
    "premier_prenom_naissance": "patient/name/given[@qualifier='BR']",
    "nom_utilise": "patient/name/family[@qualifier='CL']",
    "prenom_utilise": "patient/name/given[@qualifier='CL']",
    "date_naissance": "patient/birthTime",
    "sexe": "patient/administrativeGenderCode",
    "naissance_multiple": "patient/sdtc:multipleBirthInd, sdtc:multipleBirthOrderNumber",
    "lieu_naissance": "patient/birthplace/place/addr (county = commune INSEE, state = pays)",
    "adresse_residence": "patientRole/addr (houseNumber streetName, unitID | streetAddressLine ; postalCode ; county ; state)",
    "telecom": "patientRole/telecom (premier tel:, premier mailto:)",
    "representant_legal": "patient/guardian (code, guardianPerson/name, telecom)",
    "mere_identite": "informant/relatedEntity[code MTH]/relatedPerson/name",
    "medecin_traitant": "participant[@typeCode='INF'][functionCode PCP]/associatedEntity",
    "consanguinite": "section 11450-4 : problème de valeur 842009 (2022.01 : MED-553) ; negationInd true = non, false = oui, absent = inconnu",
    "premier_cas_lien": "section 10157-6 / organizer/subject/relatedSubject/code",
    "premier_cas_id": "section 10157-6 / organizer/subject/relatedSubject/subject (sdtc:id, administrativeGenderCode)",
    "premier_cas_maladie": "section 10157-6 / organizer/component/observation/value (ORPHA)",
    "statut_vital": "patient/sdtc:deceasedInd",
    "date_deces": "patient/sdtc:deceasedTime",
    "deces_lie_mr": "section 11450-4 : problème ORPHA avec statut clinique 419620001 « mort »",
    "statut_clinique": "section 11450-4 : problème / entryRelationship observation 11323-3",
    "pec_id": "section 18776-5 / encounter/id",
    "pec_type": "section 18776-5 / encounter/code",
    "date_inclusion": "section 18776-5 / encounter/effectiveTime/low",
    "medecin_referent": "section 18776-5 / encounter/performer/assignedEntity",
    "adresse_par": "section 18776-5 / encounter/informant/assignedEntity/code (ou participant REF)",
    "site_mr": "section 18776-5 / encounter/participant[@typeCode='LOC']/participantRole/id (1.2.250.1.213.2.61)",
    "activite_id": "section 46240-8 / encounter/id",
    "activite_date": "section 46240-8 / encounter/effectiveTime",
    "activite_contexte": "section 46240-8 / encounter/code",
    "activite_intervenant": "section 46240-8 / encounter/performer/assignedEntity (id RPPS, code profession, nom)",
    "activite_site_lieu": "section 46240-8 / encounter/participant[@typeCode='LOC']/participantRole (id site, id FINESS, addr)",
    "activite_sujet_foetus": "section 46240-8 / encounter/subject/relatedSubject/subject/sdtc:id",
    "diagnostic_id": "section 46241-6 / act/entryRelationship/observation[282291009]/id",
    "diagnostic_date": "section 46241-6 / observation[282291009]/effectiveTime/low",
    "diagnostic_code": "section 46241-6 / observation[282291009 | G-1009]/value (ORPHA, CIM-10 = maladie complexe non rare)",
    "maladie_complexe_non_rare": "section 46241-6 / observation/value en CIM-10",
    "site_diagnostic": "section 46241-6 / observation/participant[@typeCode='LOC']/participantRole",
    "diagnostic_sujet_foetus": "section 46241-6 / observation/subject/relatedSubject/subject/sdtc:id",
    "traitement_mr": "section 10160-0 / substanceAdministration (code EMA + traduction ATC, effectiveTime)",
    "grossesse_periode": "section 10162-6 / organizer[118185001]/effectiveTime low, high",
    "foetus_identite": "section 10162-6 / organizer[118215003]/subject/relatedSubject/subject",
    "etablissement": "custodian/.../representedCustodianOrganization/id (FINESS, préfixe 1) : contrôlé, non stocké",
    "categorie_etablissement": "componentOf/.../healthCareFacility/code : lu, non stocké (donnée de l'établissement)",
    "site_annuaire": "participantRole/id (1.2.250.1.213.2.61) : site de l'annuaire, doit appartenir à l'établissement",
    "auteur_document": "author/assignedAuthor (id RPPS, préfixe 8 ; nom)",
    "score_cif": "section 47420-5 / organizer/component/observation[54522-8]/value (CIF) ; date = effectiveTime/low",
}

# Items with a CDA mapping in the definition that the intake deliberately does not store.
NOT_EXCHANGED: dict[str, str] = {}


@dataclass(frozen=True)
class Target:
    rule: Rule
    versions: frozenset[str]  # versions whose definition gives this code to the item


@functools.cache
def observation_table(context: str) -> dict[tuple[str, str], Target]:
    """(code, code system) -> target, for the observations of one context, all versions."""
    table: dict[tuple[str, str], tuple[Rule, set[str]]] = {}
    for rule in RULES[context]:
        for version in definition.versions():
            sdm = definition.get(version)
            if not sdm.has_item(rule.item):
                continue
            cda = sdm.item(rule.item).cda
            key = rule.code or ((cda.code, cda.system) if cda and cda.code else None)
            if key is None:
                continue
            entry = table.setdefault(key, (rule, set()))
            entry[1].add(version)
    return {key: Target(rule, frozenset(versions)) for key, (rule, versions) in table.items()}


def code_for(item_id: str, version: str = "2024.01") -> tuple[str, str, str]:
    """(code, system, display) of an item's observation in a version, for the exporter."""
    cda = definition.get(version).item(item_id).cda
    assert cda is not None and cda.code and cda.system, item_id
    return cda.code, cda.system, cda.display or definition.get(version).item(item_id).label_fr


def handled_items() -> set[str]:
    return {rule.item for rules in RULES.values() for rule in rules} | set(BY_PATH)


# -- storage: which model attributes a document of a version can send -----------------------

# Patient attributes the intake never writes from a document (computed, linked or web-only).
NOT_FROM_DOCUMENT = frozenset({
    "uuid", "hospital", "updated_at", "sdm_version", "capture_mode", "national_id", "mother",
    "first_case_patient", "is_foetus", "is_external_review", "patient_informed",
    "patient_informed_on", "foetus_rank",
})


def attribute_of(model: type, column: str) -> str:
    """The attribute a storage column is read and written through (composites by their name)."""
    for suffix in ("_code", "_system", "_precision", "_value", "_unit"):
        if column.endswith(suffix):
            base = column[: -len(suffix)]
            if isinstance(getattr(model, base, None), property) or isinstance(
                getattr(model, f"{base}_partial", None), property
            ):
                return base
    return column


@functools.cache
def active_attributes(model_label: str, version: str) -> frozenset[str]:
    """Attributes of ``model_label`` (e.g. "records.Patient") that the handled items collected
    in ``version`` are stored in: the fields a document of that version owns."""
    from django.apps import apps

    model = apps.get_model(model_label)
    sdm = definition.get(version)
    result: set[str] = set()
    for item_id in handled_items():
        if not sdm.has_item(item_id) or not sdm.item(item_id).active:
            continue
        for column in sdm.item(item_id).storage:
            label, _, name = column.rpartition(".")
            if label == model_label:
                result.add(attribute_of(model, name))
    if model_label == "records.Patient":
        result -= NOT_FROM_DOCUMENT
    return frozenset(result)
