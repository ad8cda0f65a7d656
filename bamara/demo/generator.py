"""Streaming generator of synthetic rare-disease records (source = demo).

Pure Python and deterministic: patients are made in chunks of CHUNK_SIZE, each chunk with its
own random stream derived from (seed, chunk number), so the data for a seed does not depend on
the insertion batch size. Primary keys are allocated here, from the first free id of each
table, so that child rows reference their parents without any round trip to the database.

Rows are plain tuples in the column order of ``COLUMNS``; columns not listed there get their
model default at insertion time (bamara/demo/bulk.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from dataclasses import dataclass
from typing import Any

from bamara.sdm import oids

from . import value_sets
from .reference import Picker, fake_rpps, geography, names, nir_key, orpha

CHUNK_SIZE = 1000
ACTIVITY_START = dt.date(2019, 1, 1)  # activities of the demo span 2019 -> as-of date
SDM_VERSION = "2024.01"
INACTIVE_COMMENT = "[démo] code ORPHA inactif, à mettre à jour"

# Insertion order: parents before children.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patient": (
        "id", "uuid", "hospital_id", "record_created_on", "capture_mode", "ins", "ins_oid",
        "ins_status", "ipp", "birth_name", "birth_given_names", "first_birth_given_name",
        "used_name", "used_given_name", "sex_code", "sex_system", "birth_date",
        "birth_date_precision", "birth_commune", "birth_country", "address_line", "postal_code",
        "residence_commune", "residence_country", "phone", "email", "representative_name",
        "representative_given_name", "representative_relation_code",
        "representative_relation_system", "mother_id", "mother_birth_name", "mother_first_name",
        "gp_rpps", "gp_name", "patient_informed", "patient_informed_on", "opposition",
        "opposition_on", "is_index_case", "consanguinity", "deceased", "death_date",
        "death_date_precision", "death_related_to_rd", "death_cause_orpha", "lost_to_follow_up",
        "clinical_status_code", "clinical_status_system", "gestational_age_at_birth_weeks",
        "birth_weight_g", "research_contact_agreement", "sample_for_research",
        "is_external_review", "is_foetus", "foetus_local_id", "foetus_rank",
    ),
    "pregnancy": (
        "id", "patient_id", "start", "start_precision", "end", "end_precision", "foetus_count",
        "assisted_reproduction",
    ),
    "foetus": (
        "id", "pregnancy_id", "mother_id", "record_id", "local_id", "sex_code", "sex_system",
        "multiple", "rank", "outcome_code", "outcome_system", "outcome_gestational_age_weeks",
        "fetopathology", "termination_type",
    ),
    "careepisode": (
        "id", "uuid", "patient_id", "site_id", "encounter_type_code", "encounter_type_system",
        "inclusion_date", "inclusion_date_precision", "referent_rpps", "referent_name",
    ),
    "referral": ("id", "episode_id", "referred_by_code", "referred_by_system"),
    "diagnosis": (
        "id", "uuid", "patient_id", "date", "date_precision", "disease_code", "disease_system",
        "status_code", "status_system", "status_sdm_version",
        "onset_age_code", "onset_age_system", "onset_age_value", "onset_age_unit",
        "clinical_diagnosis_age_code", "clinical_diagnosis_age_system",
        "clinical_diagnosis_age_value", "clinical_diagnosis_age_unit",
        "genetic_diagnosis_age_code", "genetic_diagnosis_age_system",
        "genetic_diagnosis_age_value", "genetic_diagnosis_age_unit",
        "appraisal_at_entry_code", "appraisal_at_entry_system", "prenatal_diagnosis",
        "sporadic_or_familial_code", "sporadic_or_familial_system", "newborn_screening",
        "diagnosing_site_code", "diagnosing_site_name", "comment", "foetus_id",
    ),
    "clinicalsign": ("id", "diagnosis_id", "kind", "sign_code", "sign_system"),
    "investigation": ("id", "diagnosis_id", "investigation_code", "investigation_system"),
    "genetictechnique": ("id", "diagnosis_id", "technique_code", "technique_system"),
    "gene": ("id", "diagnosis_id", "gene_code", "gene_system", "symbol"),
    "activity": (
        "id", "uuid", "patient_id", "site_id", "date", "context_code", "context_system",
        "context_detail", "performer_rpps", "performer_name", "place_finess", "place_commune",
        "place_country", "residence_commune", "residence_country", "foetus_id",
    ),
    "activityobjective": ("id", "activity_id", "objective_code", "objective_system"),
    "activityprofession": ("id", "activity_id", "profession_code", "profession_system"),
    "registryconsent": ("id", "patient_id", "registry", "consented_on"),
}
TABLES = tuple(COLUMNS)
UUID_TABLES = ("patient", "careepisode", "diagnosis", "activity")

# --- Realistic weights, keyed by the codes of the ANS value sets (checked against the files) ---
STATUS_WEIGHTS = {  # JDV_StatutActuelDiagnostic_CISIS
    "255545003": 65,  # diagnostic définitif (confirmé)
    "385651009": 20,  # en cours
    "42425007": 12,  # équivoque (indéterminé)
    "723511001": 2,  # réfuté
    "24800002": 1,  # porteur sain
}
CONFIRMED, IN_PROGRESS, UNDETERMINED, REFUTED, CARRIER = STATUS_WEIGHTS
CONTEXT_WEIGHTS = {  # JDV_ContexteActivite_CISIS
    "11429006": 44,  # consultation
    "29": 15,  # hospitalisation de jour
    "ORG-028": 8,  # consultation pluridisciplinaire
    "MED-096": 8,  # téléconsultation
    "MED-095": 5,  # avis d'expertise sur un dossier
    "ORG-198": 5,  # RCP régionale ou locale
    "ORG-029": 4,  # avis sur dossier en consultation
    "ORG-045": 4,  # hospitalisation traditionnelle
    "ORG-199": 3,  # RCP nationale ou européenne
    "ORG-030": 2,  # avis en salle
    "GEN-092.05.04": 2,  # autre contexte
}
REMOTE_CONTEXTS = {"MED-096", "MED-095", "ORG-029", "ORG-199"}
OTHER_CONTEXT_DETAILS = (
    "Réunion de synthèse avec l'équipe de proximité",
    "Consultation avancée dans un hôpital périphérique",
    "Visite à domicile",
)
OBJECTIVE_WEIGHTS = {  # JDV_ObjectifActivite_CISIS
    "ORG-047": 46,  # suivi
    "MED-097": 14,  # diagnostic
    "ORG-046": 8,  # mise en place de la prise en charge
    "MED-098": 6,  # conseil génétique
    "ORG-164": 5,  # éducation thérapeutique
    "ORG-031": 4,  # acte médical
    "ORG-049": 3,  # protocole de recherche
    "MED-1289": 3,  # rendu de résultat diagnostic génétique
    "ORG-048": 2,  # prise en charge en urgence
    "ORG-123": 1,  # transition enfant/adulte
}
FIRST_OBJECTIVES = {"MED-097": 60, "ORG-046": 40}
PROFESSION_WEIGHTS = {  # JDV_ProfessionPersonnelActivite_CISIS
    "G15_10": 72, "G15_60": 8, "329": 4, "93": 4, "G15_70": 3, "G15_95": 3, "G15_91": 2,
    "41": 2, "G15_94": 1, "G15_96": 1, "312": 1, "326": 0.5,
}
REFERRED_BY_WEIGHTS = {  # JDV_PatientAdressePar_CISIS
    "ORG-022": 22, "G15_10/SM54": 16, "GEN-092.05.02": 16, "ORG-021": 9, "ORG-182": 8,
    "ORG-183": 6, "ORG-025": 6, "G15_10/C72": 6, "ORG-019": 4, "ORG-026": 2, "ORG-023": 2,
    "G15_10/C23": 2, "ORG-020": 1, "GEN-092.05.01": 1,
}
# Investigations (JDV_InvestigationsRealisees_CISIS) and the activity's residence commune and
# country are not items of the SDM-MR 2024.01 the demo records use: they are left empty.
PRENATAL = "PRN"  # « diagnostic précoce » value set of the SDM definition: prénatal
TECHNIQUE_WEIGHTS = {"MED-083": 60, "MED-084": 30, "MED-082": 6, "MED-081": 4}
APPRAISAL_WEIGHTS = {"88323005": 60, "2667000": 25, "71978007": 15}
SPORADIC_WEIGHTS = {"75741005": 75, "255401001": 25}
HEALTH_STATUS_WEIGHTS = {
    "27624003": 50, "102499006": 20, "21134002": 15, "161045001": 8, "84387000": 7,
}
DEAD_STATUS = "419620001"
AGE_CODES = {
    "foetal": "303112003", "neonatal": "255407002", "postnatal": "767023003",
    "undetermined": "373068000", "post_mortem": "303113008", "no_sign": "MED-1288",
}
OUTCOME_WEIGHTS = {"236973005": 60, "O04": 25, "O03": 10, "P95": 5}  # JDV_IssueGrossesse_CISIS

# European Reference Networks, for the few registry consents (GEN-320).
ERN_BY_FILIERE = {
    "FIMARAD": "ERN-Skin", "FILNEMUS": "EURO-NMD", "FILSLAN": "EURO-NMD", "Muco-CFTR": "ERN-LUNG",
    "RespiFIL": "ERN-LUNG", "AnDDI-Rares": "ERN ITHACA", "DéfiScience": "ERN ITHACA",
    "G2M": "MetabERN", "ORKiD": "ERKNet", "SENSGENE": "ERN-EYE", "CARDIOGEN": "ERN GUARD-Heart",
    "OSCAR": "ERN BOND", "MaRIH": "ERN RITA", "MCGRE": "EuroBloodNet", "MHEMO": "EuroBloodNet",
    "FILFOIE": "ERN RARE-LIVER", "BRAIN-TEAM": "ERN-RND", "FAI2R": "ERN ReCONNET",
    "FIRENDO": "Endo-ERN", "TETECOU": "ERN CRANIO",
}
SITE_KIND_WEIGHTS = {"CRMR_COO": 4.0, "CRMR_CST": 2.5, "CRC": 2.5, "CCMR": 1.2}
ONSET_DAYS = {  # Orphanet age of onset -> range of ages in days
    "Neonatal": (0, 28), "Infancy": (29, 730), "Childhood": (730, 4380),
    "Adolescent": (4380, 6570), "Adult": (6570, 23725), "Elderly": (23725, 31000),
}
NEWBORN_SCREENED = {"586", "232", "79254", "716"}  # CF, sickle cell, MCAD deficiency, PKU
# INSEE codes of a few countries of birth (COG pays) with ISO 3166 alpha-2.
BIRTH_COUNTRIES = (("DZ", "352"), ("MA", "350"), ("TN", "351"), ("PT", "139"))
ACTIVITY_COUNT_WEIGHTS = [k**0.5 * math.exp(-k / 7.0) for k in range(1, 21)]
YEAR = 365.25
LOOKUP = 2000  # slots of the lookup tables used for weighted choices in the hot path


@dataclass
class SiteInfo:
    id: int
    code: str
    name: str
    kind: str
    filiere: str
    hospital_id: int
    finess: str
    commune: str
    departement: str
    region: str
    connected: bool
    doctors: list[tuple[str, str]]


def chunk_seed(seed: int, chunk: int) -> int:
    digest = hashlib.sha256(f"bamara-demo:{seed}:{chunk}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _picker(name: str, weights: dict[str, float]) -> Picker[tuple[str, str]]:
    pairs = value_sets.weighted(name, weights)
    return Picker([(c.code, c.system) for c, _ in pairs], [w for _, w in pairs])


class Generator:
    """Makes the rows of chunk after chunk of patients; ids continue from ``first_ids``."""

    def __init__(
        self,
        sites: list[SiteInfo],
        seed: int,
        as_of: dt.date,
        first_ids: dict[str, int],
    ) -> None:
        if not sites:
            raise ValueError("aucun site de démonstration")
        self.seed = seed
        self.as_of = as_of.toordinal()
        self.activity_start = ACTIVITY_START.toordinal()
        self.next_id = dict(first_ids)
        self.sites = sites
        self.site_picker = Picker(sites, [SITE_KIND_WEIGHTS[s.kind] for s in sites])
        self.sites_by_hospital: dict[int, list[SiteInfo]] = {}
        self.sites_by_filiere: dict[str, list[SiteInfo]] = {}
        for site in sites:
            self.sites_by_hospital.setdefault(site.hospital_id, []).append(site)
            self.sites_by_filiere.setdefault(site.filiere, []).append(site)
        self.geo = geography()
        self.orpha = orpha()
        self.names = names()
        self.undetermined_code = "616874" if "616874" in self.orpha.disorders else ""

        self.status = _picker("JDV_StatutActuelDiagnostic_CISIS", STATUS_WEIGHTS)
        self.context = _picker("JDV_ContexteActivite_CISIS", CONTEXT_WEIGHTS)
        self.objective = _picker("JDV_ObjectifActivite_CISIS", OBJECTIVE_WEIGHTS)
        self.first_objective = _picker("JDV_ObjectifActivite_CISIS", FIRST_OBJECTIVES)
        self.profession = _picker("JDV_ProfessionPersonnelActivite_CISIS", PROFESSION_WEIGHTS)
        self.referred_by = _picker("JDV_PatientAdressePar_CISIS", REFERRED_BY_WEIGHTS)
        self.technique = _picker("JDV_TechniquesDiagnostic_CISIS", TECHNIQUE_WEIGHTS)
        self.appraisal = _picker("JDV_AppreciationDiagnosticCentre_CISIS", APPRAISAL_WEIGHTS)
        self.sporadic = _picker("JDV_CasSporadiqueFamilial_CISIS", SPORADIC_WEIGHTS)
        self.health = _picker("JDV_HealthStatusCodes_CISIS", HEALTH_STATUS_WEIGHTS)
        self.outcome = _picker("JDV_IssueGrossesse_CISIS", OUTCOME_WEIGHTS)
        health = value_sets.load("JDV_HealthStatusCodes_CISIS")
        self.dead_status = (DEAD_STATUS, health[DEAD_STATUS].system)
        ages = value_sets.weighted("JDV_Age_CISIS", dict.fromkeys(AGE_CODES.values(), 1))
        self.age_system = {c.code: c.system for c, _ in ages}
        gender = value_sets.load("JDV_HL7_AdministrativeGender_CISIS")
        self.sex = {code: (code, gender[code].system) for code in ("M", "F", "UN")}
        roles = value_sets.load("JDV_HL7_PersonalRelationshipRoleType_CISIS")
        self.relation = {code: (code, roles[code].system) for code in ("MTH", "FTH")}
        encounter = value_sets.load("JDV_HL7_ActEncounterCode_CISIS")
        self.ambulatory = ("AMB", encounter["AMB"].system)
        self.activity_count = Picker(list(range(1, 21)), ACTIVITY_COUNT_WEIGHTS)
        # Lookup tables (LOOKUP slots) for the weighted choices of the activity hot path.
        self.activity_count_table = self.activity_count.lookup(LOOKUP)
        self.context_table = tuple(
            (code, system, code not in REMOTE_CONTEXTS, code == "GEN-092.05.04")
            for code, system in self.context.lookup(LOOKUP)
        )
        self.external_contexts = tuple(  # file reviews: expert opinion, or opinion in consultation
            next(c for c in self.context_table if c[0] == code) for code in ("MED-095", "ORG-029")
        )
        self.objective_table = self.objective.lookup(LOOKUP)
        self.first_objective_table = self.first_objective.lookup(LOOKUP)
        self.profession_table = self.profession.lookup(LOOKUP)
        self.follow_up = next(c for c in self.objective.items if c[0] == "ORG-047")
        self.transition = next(c for c in self.objective.items if c[0] == "ORG-123")

        # ISO strings of every day, by ordinal: formatting dates is the hot path.
        self.day0 = dt.date(1900, 1, 1).toordinal()
        self.days = [
            dt.date.fromordinal(o).isoformat() for o in range(self.day0, self.as_of + 800)
        ]
        # UUIDv7-like ids: time-ordered (cheap to index), deterministic for a seed.
        base_ms = int(dt.datetime.combine(as_of, dt.time()).timestamp() * 1000)
        self.uuid_base = base_ms
        tag = hashlib.sha256(f"bamara-demo-uuid:{seed}".encode()).hexdigest()
        self.uuid_tail = {
            table: f"7{tag[i * 3:i * 3 + 3]}{'89ab'[i % 4]}{tag[20 + i * 3:20 + i * 3 + 15]}"
            for i, table in enumerate(UUID_TABLES)
        }

    # --- small helpers --------------------------------------------------------------------
    def _ids(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _uuid(self, table: str, row_id: int) -> str:
        return f"{self.uuid_base + row_id:012x}{self.uuid_tail[table]}"

    def _day(self, ordinal: int) -> str:
        return self.days[ordinal - self.day0]

    def _age(self, birth: int, days: int, foetal: bool = False) -> tuple[Any, ...]:
        """An SDM age class (code, system, value, unit) at ``days`` after ``birth``: in
        completed calendar months under 2 years, in completed years after."""
        if foetal or days < 0:
            code = AGE_CODES["foetal"]
            return (code, self.age_system[code], None, "")
        born, then = dt.date.fromordinal(birth), dt.date.fromordinal(birth + days)
        months = (then.year - born.year) * 12 + then.month - born.month - (then.day < born.day)
        if days <= 28 or months < 1:
            code = AGE_CODES["neonatal"]
            return (code, self.age_system[code], None, "")
        code = AGE_CODES["postnatal"]
        if months < 24:
            return (code, self.age_system[code], months, "mo")
        return (code, self.age_system[code], months // 12, "a")

    def _special_age(self, key: str) -> tuple[Any, ...]:
        code = AGE_CODES[key]
        return (code, self.age_system[code], None, "")

    # --- chunks ---------------------------------------------------------------------------
    def chunk(self, index: int, size: int) -> dict[str, list[tuple]]:
        """Rows of ``size`` patient records (including second-hospital and foetus records)."""
        rng = random.Random(chunk_seed(self.seed, index))
        rows: dict[str, list[tuple]] = {table: [] for table in TABLES}
        made = 0
        while made < size:
            made += self._person(rng, rows, size - made)
        return rows

    def _person(self, rng: random.Random, rows: dict[str, list[tuple]], room: int) -> int:
        rnd = rng.random
        site = self.site_picker.pick(rnd)
        pool = self.orpha.pools.get(site.filiere, self.orpha.general)
        disorder = pool.pick(rnd)
        is_mother = room >= 2 and rnd() < 0.004
        sex = "F" if is_mother else ("M" if rnd() < 0.5 else "F")
        if rnd() < 0.001 and not is_mother:
            sex = "UN"  # undetermined sex (e.g. disorders of sex development), rare

        # Dates: end of observation (death or as-of), age at onset, then age now.
        deceased = rnd() < 0.03
        end = self.as_of
        if deceased:
            end = self.as_of - int(rnd() * (self.as_of - self.activity_start))
        onset = self._onset_days(rng, disorder)  # -1: foetal onset
        if is_mother:
            age = int((20 + rnd() * 22) * YEAR)
            onset = min(onset, age - 365)
        else:
            lag = int(-math.log(1.0 - rnd()) * 5.5 * YEAR)
            age = min(max(onset, 0) + 15 + lag, int(95 * YEAR))
        birth = end - age
        if birth > end - 1:
            birth = end - 1

        identity = self._identity(rng, sex, birth, end, site)
        patient_id = self._ids("patient")
        external = rnd() < 0.02
        first_contact = self._first_contact(rng, birth, onset, end)
        deceased_on = end if deceased else None
        diagnoses_plan = self._plan_diagnoses(rng, site, disorder, onset)
        rows["patient"].append(
            self._patient_row(
                rng, patient_id, site, identity, birth, end, first_contact, deceased_on,
                diagnoses_plan[0][0], external=external,
            )
        )
        made = 1
        episode_sites = [site]
        same_hospital = [s for s in self.sites_by_hospital[site.hospital_id] if s is not site]
        two_sites = rnd()
        if not external and two_sites < 0.025 and same_hospital:
            episode_sites.append(same_hospital[int(rnd() * len(same_hospital))])
        for position, episode_site in enumerate(episode_sites):
            inclusion = first_contact if position == 0 else first_contact + int(rnd() * (end - first_contact + 1))
            self._episode(rng, rows, patient_id, episode_site, inclusion)
        self._diagnoses(rng, rows, patient_id, birth, end, diagnoses_plan, site, foetus_id=None)
        self._activities(
            rng, rows, patient_id, episode_sites, first_contact, end, birth, identity, external
        )
        if rnd() < 0.03 and site.filiere in ERN_BY_FILIERE:
            rows["registryconsent"].append(
                (self._ids("registryconsent"), patient_id, ERN_BY_FILIERE[site.filiere],
                 self._day(first_contact + int(rnd() * (end - first_contact + 1))))
            )

        # ~2.5 %: also followed in another hospital: a second record with the same identity.
        if not external and 0.025 <= two_sites < 0.05 and room > made:
            made += self._second_hospital_record(rng, rows, site, identity, birth, end, disorder, onset, deceased_on)
        if is_mother and room > made:
            made += self._pregnancy(rng, rows, patient_id, site, identity, end, disorder)
        return made

    # --- identity -------------------------------------------------------------------------
    def _identity(self, rng: random.Random, sex: str, birth: int, end: int, site: SiteInfo) -> dict[str, Any]:
        rnd = rng.random
        n = self.names
        last_ins, _ = n.last[int(rnd() * len(n.last))]
        firsts = n.female if sex == "F" else n.male if sex == "M" else (n.female if rnd() < 0.5 else n.male)
        count = 1 if rnd() < 0.5 else (2 if rnd() < 0.7 else 3)
        given = [firsts[int(rnd() * len(firsts))] for _ in range(count)]
        age_years = (end - birth) / YEAR
        used_name = ""
        if sex == "F" and age_years >= 25 and rnd() < 0.45:
            used_name = n.last[int(rnd() * len(n.last))][0]

        # Residence: mostly near the hospital, sometimes anywhere in France.
        r = rnd()
        if r < 0.55:
            residence = self.geo.by_departement[site.departement].pick(rnd)
        elif r < 0.8:
            residence = self.geo.by_region[site.region].pick(rnd)
        else:
            residence = self.geo.residence.pick(rnd)
        born_abroad = rnd() < 0.04
        if born_abroad:
            country, insee_country = BIRTH_COUNTRIES[int(rnd() * len(BIRTH_COUNTRIES))]
            birth_commune, birth_place = "", "99" + insee_country
        else:
            country = "FR"
            if rnd() < 0.6:
                birth_commune = self.geo.birth_place(self.geo.by_region[residence.region].pick(rnd), rnd).code
            else:
                birth_commune = self.geo.birth.pick(rnd).code
            birth_place = birth_commune
        precision = "D"
        r = rnd()
        if r < 0.02:
            precision = "M"
        elif r < 0.03:
            precision = "Y"
        return {
            "last": last_ins,
            "given": given,
            "used_name": used_name,
            "sex": sex,
            "residence": residence,
            "birth_commune": birth_commune,
            "birth_place": birth_place,
            "birth_country": country,
            "precision": precision,
            "ins_order": 1 + int(rnd() * 998),
            "has_ins": precision == "D" and sex != "UN" and rnd() < (0.93 if age_years >= 18 else 0.7),
            "address": f"{1 + int(rnd() * 120)} {n.streets[int(rnd() * len(n.streets))]}" if rnd() < 0.7 else "",
            "phone": f"063998{int(rnd() * 10000):04d}" if rnd() < 0.6 else "",
        }

    def _ins(self, identity: dict[str, Any], birth: int) -> str:
        if not identity["has_ins"]:
            return ""
        day = dt.date.fromordinal(birth)
        first13 = (
            f"{1 if identity['sex'] == 'M' else 2}{day.year % 100:02d}{day.month:02d}"
            f"{identity['birth_place']}{identity['ins_order']:03d}"
        )
        return first13 + nir_key(first13)

    def _birth_columns(self, birth: int, precision: str) -> tuple[str, str]:
        day = dt.date.fromordinal(birth)
        if precision == "M":
            return self._day(dt.date(day.year, day.month, 1).toordinal()), "M"
        if precision == "Y":
            return self._day(dt.date(day.year, 1, 1).toordinal()), "Y"
        return self._day(birth), "D"

    def _patient_row(
        self,
        rng: random.Random,
        patient_id: int,
        site: SiteInfo,
        identity: dict[str, Any],
        birth: int,
        end: int,
        first_contact: int,
        deceased_on: int | None,
        primary_code: str,
        *,
        external: bool = False,
        foetus: tuple[int, str, str] | None = None,
    ) -> tuple:
        rnd = rng.random
        n = self.names
        age_years = (end - birth) / YEAR
        given = identity["given"]
        residence = identity["residence"]
        minor = age_years < 18
        representative = ("", "", "", "")
        mother_names = ("", "")
        if foetus is not None:  # a foetus is identified through its mother
            mother_names = (identity["last"], identity["mother_first"])
        elif minor:
            parent_sex = "F" if rnd() < 0.75 else "M"
            firsts = n.female if parent_sex == "F" else n.male
            relation = self.relation["MTH" if parent_sex == "F" else "FTH"]
            representative = (identity["last"], firsts[int(rnd() * len(firsts))][1], *relation)
            if rnd() < 0.8:
                mother_names = (n.last[int(rnd() * len(n.last))][0], n.female[int(rnd() * len(n.female))][0])
        opposition = rnd() < 0.02
        informed = rnd() < 0.92
        death_related = ""
        death_cause = None
        clinical_status = ("", "")
        if deceased_on is not None:
            death_related = "oui" if rnd() < 0.55 else ("non" if rnd() < 0.6 else "inconnu")
            if death_related == "oui" and primary_code:
                death_cause = int(primary_code)
            elif death_related == "oui":
                death_related = "inconnu"  # no precise disease to name as the cause
            clinical_status = self.dead_status
        elif rnd() < 0.4:
            clinical_status = self.health.pick(rnd)
        newborn = age_years < 3 and foetus is None and rnd() < 0.5
        gp = ("", "")
        if rnd() < 0.5:
            serial = 500_000 + int(rnd() * 400_000)
            gp = (fake_rpps(serial), f"Dr {n.male[serial % len(n.male)][1]} {n.last[serial % len(n.last)][1]}")
        consanguinity = rnd()
        if foetus is not None and not foetus[2]:
            birth_date, birth_precision = None, ""  # unborn foetus: no birth date
        else:
            birth_date, birth_precision = self._birth_columns(birth, identity["precision"])
        ins = "" if external or foetus is not None else self._ins(identity, birth)
        return (
            patient_id,
            self._uuid("patient", patient_id),
            site.hospital_id,
            self._day(first_contact),
            "connecte" if site.connected else "autonome",
            ins,
            oids.INS_NIR_TEST if ins else "",
            ("qualifiee" if rnd() < 0.85 else "validee") if ins else "provisoire",
            f"D{patient_id:09d}",
            identity["last"],
            " ".join(g[0] for g in given),
            given[0][0],
            identity["used_name"],
            given[0][1] if foetus is None else "",
            *self.sex[identity["sex"]],
            birth_date,
            birth_precision,
            identity["birth_commune"] if foetus is None else "",
            identity["birth_country"] if foetus is None else "",
            identity["address"],
            residence.postal_code if identity["address"] else "",
            residence.code,
            "FR",
            identity["phone"],
            (f"{given[0][0]}.{identity['last']}@example.com".lower().replace(" ", "-")
             if rnd() < 0.15 and not minor else ""),
            *representative,
            foetus[0] if foetus else None,
            *mother_names,
            *gp,
            True if informed else None,
            self._day(first_contact) if informed else None,
            opposition,
            self._day(first_contact + int(rnd() * (end - first_contact + 1))) if opposition else None,
            True if rnd() < 0.8 else (False if rnd() < 0.5 else None),
            "non" if consanguinity < 0.55 else "oui" if consanguinity < 0.58 else "inconnu" if consanguinity < 0.7 else "",
            deceased_on is not None,
            self._day(deceased_on) if deceased_on is not None else None,
            "D" if deceased_on is not None else "",
            death_related,
            death_cause,
            True if rnd() < 0.03 else (False if rnd() < 0.6 else None),
            *clinical_status,
            30 + int(rnd() * 12) if newborn else None,
            1500 + int(rnd() * 2800) if newborn else None,
            True if rnd() < 0.3 else (False if rnd() < 0.15 else None),
            True if rnd() < 0.1 else None,
            external,
            foetus is not None,
            foetus[1] if foetus else "",
            1 if foetus else None,
        )

    # --- dates of the disease -------------------------------------------------------------
    def _onset_days(self, rng: random.Random, disorder) -> int:
        """Age at first signs in days (-1: foetal), from the disorder's Orphanet onset."""
        rnd = rng.random
        onsets = [o for o in disorder.onsets if o in ONSET_DAYS or o in ("Antenatal", "All ages")]
        label = onsets[int(rnd() * len(onsets))] if onsets else "All ages"
        if label == "All ages":
            label = ("Neonatal", "Infancy", "Childhood", "Adolescent", "Adult")[int(rnd() * 5)]
        if label == "Antenatal":
            return -1
        low, high = ONSET_DAYS[label]
        return low + int(rnd() * (high - low))

    def _first_contact(self, rng: random.Random, birth: int, onset: int, end: int) -> int:
        start = birth + max(onset, 0)
        contact = start + int(-math.log(1.0 - rng.random()) * 1.5 * YEAR)
        return max(birth, min(contact, end))

    # --- diagnoses ------------------------------------------------------------------------
    def _plan_diagnoses(self, rng, site, disorder, onset) -> list[tuple[str, Any, Any, int | None]]:
        """(ORPHA code, status, disorder, onset days or None) for each of the 1..3 diagnoses."""
        rnd = rng.random
        count = 1 if rnd() < 0.75 else (2 if rnd() < 0.8 else 3)
        plan = []
        pool = self.orpha.pools.get(site.filiere, self.orpha.general)
        for position in range(count):
            current = disorder if position == 0 else (pool if rnd() < 0.5 else self.orpha.general).pick(rnd)
            status = self.status.pick(rnd)
            if rnd() < 0.003 and self.orpha.inactive:
                current = self.orpha.inactive[int(rnd() * len(self.orpha.inactive))]
            code = current.code if status[0] != UNDETERMINED else ""
            plan.append((code, status, current, onset if position == 0 else None))
        return plan

    def _diagnoses(self, rng, rows, patient_id, birth, end, plan, site, foetus_id) -> list[int]:
        rnd = rng.random
        ids = []
        for position, (code, status, disorder, planned_onset) in enumerate(plan):
            diagnosis_id = self._ids("diagnosis")
            ids.append(diagnosis_id)
            status_code = status[0]
            foetal_record = foetus_id is not None
            onset = planned_onset if planned_onset is not None else self._onset_days(rng, disorder)
            age_now = end - birth
            if onset > age_now:
                onset = int(age_now * rnd())
            clinical_days = 0
            if foetal_record:
                onset_age = clinical_age = self._special_age("foetal")
            else:
                # Age at clinical diagnosis: at or after onset, not after the end of observation.
                prenatal = onset < 0 and rnd() < 0.4
                if prenatal:
                    delay = 0
                elif rnd() < 0.35:
                    delay = int(rnd() * 90)
                else:
                    delay = int(-math.log(1.0 - rnd()) * 2.5 * YEAR)
                clinical_days = min(max(onset, 0) + delay, age_now)
                if status_code == CARRIER:
                    onset_age = self._special_age("no_sign")
                elif rnd() < 0.05:
                    onset_age = self._special_age("undetermined")
                else:
                    onset_age = self._age(birth, onset)
                clinical_age = self._age(birth, clinical_days, foetal=prenatal)
                if status_code in (UNDETERMINED, CARRIER) and rnd() < 0.5:
                    clinical_age = ("", "", None, "")
            genetic = (
                status_code in (CONFIRMED, CARRIER) and disorder.genes and rnd() < 0.75
            )
            genetic_age = ("", "", None, "")
            genetic_days = clinical_days
            if genetic and not foetal_record:
                genetic_days = min(clinical_days + int(rnd() * 2 * YEAR), age_now)
                genetic_age = self._age(birth, genetic_days)
            elif genetic:
                genetic_age = self._special_age("foetal")
            # Date of the diagnosis: when it was established, clinically then genetically
            # (birth + the later of the two ages; never before birth).
            if foetal_record:
                date, precision = self._day(end), "D"
            else:
                day = birth + max(clinical_days, genetic_days)
                date, precision = self._day(day), "D"
                r = rnd()
                first_of_month = dt.date.fromordinal(day).replace(day=1).toordinal()
                if r < 0.1 and first_of_month >= birth:
                    date, precision = self._day(first_of_month), "M"
            disease = (code, oids.ORPHA) if code else ("", "")
            if not code and status_code == UNDETERMINED and self.undetermined_code and rnd() < 0.4:
                disease = (self.undetermined_code, oids.ORPHA)
            comment = INACTIVE_COMMENT if code and not disorder.active else ""
            appraisal = self.appraisal.pick(rnd) if rnd() < 0.4 else ("", "")
            sporadic = self.sporadic.pick(rnd) if rnd() < 0.7 else ("", "")
            rows["diagnosis"].append(
                (
                    diagnosis_id, self._uuid("diagnosis", diagnosis_id), patient_id, date, precision,
                    *disease, *status, SDM_VERSION,
                    *onset_age, *clinical_age, *genetic_age, *appraisal,
                    PRENATAL if foetal_record or clinical_age[0] == AGE_CODES["foetal"] else "",
                    *sporadic,
                    "oui" if code in NEWBORN_SCREENED and rnd() < 0.9 else "",
                    site.code if position == 0 and rnd() < 0.7 else "",
                    site.name if position == 0 and rnd() < 0.7 else "",
                    comment,
                    foetus_id,
                )
            )
            self._diagnosis_details(rng, rows, diagnosis_id, status_code, disorder, genetic)
        return ids

    def _diagnosis_details(self, rng, rows, diagnosis_id, status_code, disorder, genetic) -> None:
        rnd = rng.random
        if status_code in (UNDETERMINED, IN_PROGRESS):
            # Undiagnosed: clinical description with HPO terms and/or an ORPHA group.
            wanted = 2 + int(rnd() * 4) if status_code == UNDETERMINED else int(rnd() * 3)
            hpo = disorder.hpo
            start = int(rnd() * len(hpo)) if hpo else 0
            for index in range(min(wanted, len(hpo))):
                rows["clinicalsign"].append(
                    (self._ids("clinicalsign"), diagnosis_id, "description",
                     hpo[(start + index) % len(hpo)], oids.HPO)
                )
            if disorder.groups and (status_code == UNDETERMINED and (rnd() < 0.6 or not hpo)):
                rows["clinicalsign"].append(
                    (self._ids("clinicalsign"), diagnosis_id, "description",
                     disorder.groups[int(rnd() * len(disorder.groups))], oids.ORPHA_GROUPS)
                )
        if genetic:
            rows["genetictechnique"].append(
                (self._ids("genetictechnique"), diagnosis_id, *self.technique.pick(rnd))
            )
            genes = disorder.genes
            for index in range(1 if len(genes) == 1 or rnd() < 0.85 else 2):
                # HGNC ids are not in the shared data: the symbol is recorded, the code left empty.
                rows["gene"].append(
                    (self._ids("gene"), diagnosis_id, "", "", genes[index % len(genes)])
                )

    # --- care -----------------------------------------------------------------------------
    def _episode(self, rng, rows, patient_id, site, inclusion) -> int:
        rnd = rng.random
        episode_id = self._ids("careepisode")
        doctor = site.doctors[int(rnd() * len(site.doctors))] if rnd() < 0.8 else ("", "")
        precision = "D" if rnd() < 0.95 else "M"
        day = dt.date.fromordinal(inclusion)
        date = self._day(inclusion) if precision == "D" else self._day(day.replace(day=1).toordinal())
        if precision == "M" and day.replace(day=1).toordinal() < inclusion - 31:
            precision = "D"
        rows["careepisode"].append(
            (episode_id, self._uuid("careepisode", episode_id), patient_id, site.id,
             *(self.ambulatory if rnd() < 0.85 else ("", "")), date, precision, *doctor)
        )
        for _ in range(1 if rnd() < 0.85 else 2):
            rows["referral"].append((self._ids("referral"), episode_id, *self.referred_by.pick(rnd)))
        return episode_id

    def _activities(self, rng, rows, patient_id, sites, first_contact, end, birth, identity, external, foetus_id=None, count=None) -> None:
        """1..20 activities (long tail, mean ~8) between inclusion (or 2019) and the end date.

        The hot path of the generator (~8 activities and ~19 rows per patient): weighted
        choices are table lookups and ids are counted locally.
        """
        rnd = rng.random
        start = max(first_contact, self.activity_start, birth)
        if start > end:
            start = end
        if count is None:
            count = 1 + int(rnd() * 2) if external else self.activity_count_table[int(rnd() * LOOKUP)]
        span = end - start + 1
        dates = sorted([start + int(rnd() * span) for _ in range(count)])
        first_is_inclusion = first_contact >= self.activity_start
        if first_is_inclusion:
            dates[0] = start
        append_activity = rows["activity"].append
        append_objective = rows["activityobjective"].append
        append_profession = rows["activityprofession"].append
        contexts, objectives, professions = self.context_table, self.objective_table, self.profession_table
        firsts = self.first_objective_table
        days, day0, uuid_base, uuid_tail = self.days, self.day0, self.uuid_base, self.uuid_tail["activity"]
        transition_from = birth + int(14 * YEAR)
        transition_to = birth + int(22 * YEAR)
        next_id = self.next_id
        activity_id = next_id["activity"]
        objective_id = next_id["activityobjective"]
        profession_id = next_id["activityprofession"]
        two_sites = len(sites) > 1
        site = sites[0]
        for position, day in enumerate(dates):
            if two_sites:
                site = sites[0] if rnd() < 0.6 else sites[1]
            code, system, on_site, other = contexts[int(rnd() * LOOKUP)]
            if external and position == 0:
                code, system, on_site, other = self.external_contexts[0 if rnd() < 0.6 else 1]
            doctors = site.doctors
            rpps, doctor = doctors[int(rnd() * len(doctors))] if rnd() < 0.6 else ("", "")
            append_activity(
                (activity_id, f"{uuid_base + activity_id:012x}{uuid_tail}", patient_id, site.id,
                 days[day - day0], code, system,
                 OTHER_CONTEXT_DETAILS[int(rnd() * 3)] if other else "", rpps, doctor,
                 site.finess if on_site else "", site.commune if on_site else "",
                 "FR" if on_site else "", "", "", foetus_id)
            )
            if position == 0 and (first_is_inclusion or external):
                objective = firsts[int(rnd() * LOOKUP)]
            else:
                objective = objectives[int(rnd() * LOOKUP)]
                if objective is self.transition and not transition_from <= day <= transition_to:
                    objective = self.follow_up  # child/adult transition only around 14-22 years
            append_objective((objective_id, activity_id, *objective))
            objective_id += 1
            if rnd() < 0.3:
                second = objectives[int(rnd() * LOOKUP)]
                if second is not objective and second is not self.transition:
                    append_objective((objective_id, activity_id, *second))
                    objective_id += 1
            profession = professions[int(rnd() * LOOKUP)]
            append_profession((profession_id, activity_id, *profession))
            profession_id += 1
            if rnd() < 0.25:
                second = professions[int(rnd() * LOOKUP)]
                if second is not profession:
                    append_profession((profession_id, activity_id, *second))
                    profession_id += 1
            activity_id += 1
        next_id["activity"] = activity_id
        next_id["activityobjective"] = objective_id
        next_id["activityprofession"] = profession_id

    # --- followed in two hospitals, pregnancies -------------------------------------------
    def _second_hospital_record(self, rng, rows, site, identity, birth, end, disorder, onset, deceased_on) -> int:
        rnd = rng.random
        others = [s for s in self.sites_by_filiere.get(site.filiere, []) if s.hospital_id != site.hospital_id]
        if not others:
            others = [s for s in self.sites if s.hospital_id != site.hospital_id]
        other = others[int(rnd() * len(others))]
        patient_id = self._ids("patient")
        first_contact = self._first_contact(rng, birth, onset, end)
        plan = [(disorder.code, self.status.pick(rnd), disorder, onset)]
        rows["patient"].append(
            self._patient_row(rng, patient_id, other, identity, birth, end, first_contact, deceased_on, disorder.code)
        )
        self._episode(rng, rows, patient_id, other, first_contact)
        self._diagnoses(rng, rows, patient_id, birth, end, plan, other, foetus_id=None)
        self._activities(rng, rows, patient_id, [other], first_contact, end, birth, identity, False, count=1 + int(rnd() * 5))
        return 1

    def _pregnancy(self, rng, rows, mother_id, site, mother, end, disorder) -> int:
        """A pregnancy of the patient with one foetus that has its own record (dossier fœtus)."""
        rnd = rng.random
        start = end - 60 - int(rnd() * 340)
        term = start + 280
        ended = term <= end
        outcome = self.outcome.pick(rnd) if ended else ("", "")
        if ended and outcome[0] != "236973005":
            term = start + 84 + int(rnd() * 120)  # interruption or loss before term
        pregnancy_id = self._ids("pregnancy")
        rows["pregnancy"].append(
            (pregnancy_id, mother_id, self._day(start), "D", self._day(term) if ended else None,
             "D" if ended else "", 1, rnd() < 0.05)
        )
        foetus_id = self._ids("foetus")
        record_id = self._ids("patient")
        anddi = [s for s in self.sites_by_hospital[site.hospital_id] if s.filiere == "AnDDI-Rares"]
        foetus_site = anddi[0] if anddi else site
        sex = ("M", "F", "UN")[int(rnd() * 3)]
        born = ended and outcome[0] == "236973005"
        termination = "IMG" if outcome[0] == "O04" else ("INUTERO" if outcome[0] == "P95" else "")
        rows["foetus"].append(
            (foetus_id, pregnancy_id, mother_id, record_id, "F1", *self.sex[sex], False, None, *outcome,
             ((term - start) // 7) if ended else None, True if termination else None, termination)
        )
        identity = dict(
            mother, sex=sex, has_ins=False, given=[("", "")], used_name="", mother_first=mother["given"][0][0]
        )
        birth = term if born else None
        diagnosis_day = min(start + 84 + int(rnd() * 100), term if ended else end)
        rows["patient"].append(
            self._patient_row(
                rng, record_id, foetus_site, identity, birth or start, end, diagnosis_day, None, "",
                foetus=(mother_id, "F1", "born" if born else ""),
            )
        )
        self._episode(rng, rows, record_id, foetus_site, diagnosis_day)
        foetal_disorder = (
            disorder if rnd() < 0.5 else self.orpha.pools.get("AnDDI-Rares", self.orpha.general).pick(rnd)
        )
        status = self.status.pick(rnd)
        plan = [(foetal_disorder.code if status[0] != UNDETERMINED else "", status, foetal_disorder, -1)]
        self._diagnoses(rng, rows, record_id, start, diagnosis_day, plan, foetus_site, foetus_id=foetus_id)
        last = term if ended else end
        self._activities(
            rng, rows, record_id, [foetus_site], diagnosis_day, last, start, identity, False,
            foetus_id=foetus_id, count=1 + int(rnd() * 3),
        )
        # The mother's own record: a genetic counselling activity about this foetus.
        self._activities(
            rng, rows, mother_id, [site], diagnosis_day, last, start, mother, False,
            foetus_id=foetus_id, count=1,
        )
        return 1


def site_infos(sites) -> list[SiteInfo]:
    """SiteInfo of Django Site objects, with a stable team of fake doctors per site."""
    geo = geography()
    communes = {c.code: c for c in geo.residence.items}
    n = names()
    infos = []
    for site in sites:
        hospital = site.hospital
        commune = communes.get(hospital.commune_code)
        serial = int(hashlib.sha256(site.code.encode()).hexdigest()[:8], 16)
        team = random.Random(serial)
        doctors = []
        for index in range(4 + serial % 5):
            first = n.female if team.random() < 0.55 else n.male
            doctors.append(
                (fake_rpps(serial * 10 + index),
                 f"Dr {first[int(team.random() * len(first))][1]} {n.last[int(team.random() * len(n.last))][0]}")
            )
        infos.append(
            SiteInfo(
                id=site.id, code=site.code, name=site.name, kind=site.kind,
                filiere=site.filiere.acronym, hospital_id=hospital.id, finess=hospital.finess_et,
                commune=hospital.commune_code,
                departement=commune.departement if commune else "75",
                region=commune.region if commune else "11",
                connected=site.deployment_mode == "connecte", doctors=doctors,
            )
        )
    return infos
