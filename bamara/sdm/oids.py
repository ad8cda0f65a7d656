"""Code-system and identifier OIDs used by the SDM-MR (ANS CI-SIS volet SDM-MR)."""

ORPHA = "1.2.250.1.213.2.49.1"  # ORPHA nomenclature, disorders (JDV_Orpha_Maladies)
ORPHA_GROUPS = "1.2.250.1.213.2.49.2"  # ORPHA groups of disorders (JDV_Orpha_Groupes-Maladies)
HPO = "1.2.250.1.213.2.51"
CIM10 = "2.16.840.1.113883.6.3"
HGNC = "2.16.840.1.113883.4.642.2.468"
EMA_RD_PRODUCTS = "1.2.250.1.213.2.50"
ATC = "2.16.840.1.113883.6.73"
ICF = "2.16.840.1.113883.6.254"
CCAM = "1.2.250.1.215.300.1"
SNOMED_CT = "2.16.840.1.113883.6.96"
SNOMED_35 = "1.2.250.1.213.2.12"  # SNOMED 3.5 (ASIP), used before 2022
LOINC = "2.16.840.1.113883.6.1"
TA_ASIP = "1.2.250.1.213.1.1.4.322"
RPPS_PROFESSIONS = "1.2.250.1.213.1.1.4.5"  # TRE_G15/R38 professions and specialities
HL7_GENDER = "2.16.840.1.113883.5.1"
HL7_ACT_CODE = "2.16.840.1.113883.5.4"
HL7_ROLE_CODE = "2.16.840.1.113883.5.111"
HL7_CONDITION_VER_STATUS = "2.16.840.1.113883.4.642.3.166"
UCUM = "2.16.840.1.113883.6.8"
RD_SITES = "1.2.250.1.213.2.61"  # BNDMR directory of rare-disease sites
RPPS = "1.2.250.1.71.4.2.1"
FINESS = "1.2.250.1.71.4.2.2"
FINESS_CATEGORY = "1.2.250.1.71.4.2.4"
INS_NIR = "1.2.250.1.213.1.4.8"
INS_NIA = "1.2.250.1.213.1.4.9"
INS_NIR_TEST = "1.2.250.1.213.1.4.10"
INS_NIA_TEST = "1.2.250.1.213.1.4.11"
INSEE_COG = "1.2.250.1.213.2.25"  # INSEE official geographic code (communes, countries)
ISO_3166 = "1.0.3166.1.2.2"
SDM_MR_TEMPLATE = "1.2.250.1.213.1.1.1.30"

NAMES: dict[str, str] = {
    ORPHA: "ORPHA",
    ORPHA_GROUPS: "ORPHA (groupes)",
    HPO: "HPO",
    CIM10: "CIM-10",
    HGNC: "HGNC",
    EMA_RD_PRODUCTS: "EMA",
    ATC: "ATC",
    ICF: "CIF",
    CCAM: "CCAM",
    SNOMED_CT: "SNOMED CT",
    SNOMED_35: "SNOMED 3.5",
    LOINC: "LOINC",
    TA_ASIP: "TA_ASIP",
    RPPS_PROFESSIONS: "TRE_G15 / R38",
    HL7_GENDER: "HL7 AdministrativeGender",
    HL7_ACT_CODE: "HL7 ActCode",
    HL7_ROLE_CODE: "HL7 RoleCode",
    HL7_CONDITION_VER_STATUS: "HL7 condition-ver-status",
    UCUM: "UCUM",
    RD_SITES: "Annuaire des sites MR",
    RPPS: "RPPS",
    FINESS: "FINESS",
    INSEE_COG: "INSEE COG",
    ISO_3166: "ISO 3166",
}

# Added by the sdm app (historical code systems met in SDM-MR 2021.01 data).
# code system of the HL7_CONDITION_VER_STATUS codes
HL7_CONDITION_VER_STATUS_CS = "2.16.840.1.113883.4.642.4.1075"
HEALTH_STATUS_2021 = "1.2.250.1.213.1.1.4.2.286"  # CDA_xxx clinical-status codes (2021.01 example)
OBSTETRIC_OUTCOME_2021 = "1.2.250.1.213.1.1.4.2.289"  # OBS_xxx pregnancy outcomes (2.41 kit)
NAMES[HL7_CONDITION_VER_STATUS_CS] = "HL7 condition-ver-status"
NAMES[HEALTH_STATUS_2021] = "Statut clinique (2021)"
NAMES[OBSTETRIC_OUTCOME_2021] = "Issue de grossesse (2021)"
