"""The rules of the validation layer, and the messages they produce.

``RULES`` is the single list of what is checked: the variables guide and the data-quality
scorecard list it, docs/validation.md is generated from it, and every Message carries the id of
the rule that produced it as its ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]
ERROR: Level = "error"
WARNING: Level = "warning"

ANY_ITEM = "*"


@dataclass(frozen=True)
class Message:
    item_id: str  # SDM-MR item (sdm-mr-items.csv), "*" when the message is about the record
    path: str  # where in the RecordData, e.g. "diagnoses[0].onset_age" (0-based indexes)
    level: Level
    code: str  # the id of the rule in RULES: stable, for programs
    text: str  # French, for the user


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    category: str
    items: tuple[str, ...]
    description_fr: str

    def message(self, item_id: str, path: str, text: str) -> Message:
        return Message(item_id, path, self.level, self.id, text)


CATEGORIES: dict[str, str] = {
    "type": "Lecture des valeurs",
    "cardinality": "Données obligatoires",
    "value_set": "Jeux de valeurs du SDM-MR",
    "terminology": "Terminologies de référence",
    "format": "Identifiants et codes géographiques",
    "plausibility": "Valeurs plausibles",
    "coherence": "Cohérence entre données",
    "internal": "Fonctionnement",
}

_DATE_ITEMS = (
    "date_naissance",
    "date_deces",
    "diagnostic_date",
    "activite_date",
    "date_inclusion",
    "opposition_date",
    "patient_informed",
    "dossier_date_creation",
    "grossesse_periode",
    "foetus_identite",
)
_AGE_ITEMS = ("age_premiers_signes", "age_diag_clinique", "age_diag_genetique")

RULES: tuple[Rule, ...] = (
    # -- reading the values ---------------------------------------------------------------
    Rule(
        "invalid_date",
        "error",
        "type",
        (ANY_ITEM,),
        "La valeur n'est pas une date lisible (AAAA, AAAA-MM, AAAA-MM-JJ ou JJ/MM/AAAA), ou une "
        "date complète est attendue.",
    ),
    Rule(
        "invalid_number",
        "error",
        "type",
        (ANY_ITEM,),
        "La valeur n'est pas un nombre, ou dépasse ce que la base de données peut enregistrer.",
    ),
    Rule(
        "invalid_boolean", "error", "type", (ANY_ITEM,), "La valeur n'est pas une réponse oui/non."
    ),
    Rule(
        "invalid_code",
        "error",
        "type",
        (ANY_ITEM,),
        "La valeur n'est pas un code accompagné de son système de codes (OID).",
    ),
    Rule(
        "invalid_text",
        "error",
        "type",
        (ANY_ITEM,),
        "La valeur n'est pas un texte, est trop longue ou ne fait pas partie des valeurs permises.",
    ),
    Rule(
        "invalid_structure",
        "error",
        "type",
        (ANY_ITEM,),
        "Le dossier ou l'une de ses parties (diagnostics, activités, prises en charge, grossesses) "
        "n'a pas la forme attendue.",
    ),
    Rule(
        "unknown_field",
        "warning",
        "type",
        (ANY_ITEM,),
        "Une donnée transmise ne correspond à aucun champ du dossier : elle est ignorée.",
    ),
    Rule(
        "date_too_old",
        "warning",
        "type",
        _DATE_ITEMS,
        "La date est antérieure à 1900 : probable erreur de saisie.",
    ),
    # -- mandatory data -------------------------------------------------------------------
    Rule(
        "required",
        "error",
        "cardinality",
        (
            "nom_naissance",
            "date_naissance",
            "sexe",
            "diagnostic_code",
            "statut_diagnostic",
            "age_premiers_signes",
            "activite_date",
            "activite_contexte",
            "activite_objectif",
            "site_mr",
            "date_inclusion",
            "adresse_par",
        ),
        "Donnée obligatoire absente : nom de naissance, date de naissance, sexe ; au moins un "
        "diagnostic, chacun avec son statut et son âge aux premiers signes ; pour chaque "
        "activité sa date, son contexte et au moins un objectif ; pour chaque prise en charge "
        "son site, sa date d'inclusion et au moins un « adressé par ».",
    ),
    Rule(
        "mandatory_item_missing",
        "warning",
        "cardinality",
        (ANY_ITEM,),
        "Une autre donnée que la définition du SDM-MR déclare obligatoire dans la version du "
        "dossier est absente (par ex. date ou code du diagnostic, âges au diagnostic, médecin "
        "référent, intervenant) : elle peut être inconnue, à compléter si possible.",
    ),
    # -- value sets -----------------------------------------------------------------------
    Rule(
        "unknown_sdm_version",
        "error",
        "value_set",
        ("doc_sdm_version",),
        "La version du SDM-MR du dossier est inconnue : les jeux de valeurs de la version "
        "courante sont utilisés.",
    ),
    Rule(
        "code_not_in_value_set",
        "error",
        "value_set",
        (ANY_ITEM,),
        "Le code (avec son système de codes) ne fait pas partie du jeu de valeurs de la donnée "
        "dans la version du SDM-MR du dossier, ni d'une version antérieure.",
    ),
    Rule(
        "code_from_other_version",
        "warning",
        "value_set",
        (ANY_ITEM,),
        "Le code appartient au jeu de valeurs d'une autre version du SDM-MR et n'a pas "
        "d'équivalent dans la version du dossier : il reste lisible mais doit être revu.",
    ),
    Rule(
        "item_not_in_version",
        "warning",
        "value_set",
        (ANY_ITEM,),
        "La donnée est renseignée alors que la version du SDM-MR du dossier ne la recueille pas "
        "(donnée apparue dans une version ultérieure ou retirée).",
    ),
    # -- reference terminologies ----------------------------------------------------------
    Rule(
        "code_system_not_allowed",
        "error",
        "terminology",
        ("diagnostic_code", "description_clinique", "gene"),
        "Le système de codes n'est pas permis pour cette donnée (diagnostic : ORPHA ou CIM-10 ; "
        "description clinique : groupes ORPHA, HPO ou CIM-10 ; gène : HGNC).",
    ),
    Rule(
        "orpha_unknown",
        "error",
        "terminology",
        ("diagnostic_code", "description_clinique", "deces_lie_mr"),
        "Le code ORPHA n'existe pas dans la nomenclature Orphanet chargée.",
    ),
    Rule(
        "orpha_inactive",
        "warning",
        "terminology",
        ("diagnostic_code", "description_clinique", "deces_lie_mr"),
        "Le code ORPHA est obsolète ou déprécié : le code qui le remplace est proposé.",
    ),
    Rule(
        "hpo_unknown",
        "error",
        "terminology",
        ("description_clinique",),
        "Le terme HPO n'existe pas dans la version de la HPO chargée.",
    ),
    Rule(
        "hpo_obsolete",
        "warning",
        "terminology",
        ("description_clinique",),
        "Le terme HPO est obsolète : le terme qui le remplace est proposé.",
    ),
    Rule(
        "cim10_unknown",
        "error",
        "terminology",
        ("diagnostic_code", "description_clinique"),
        "Le code CIM-10 n'existe pas dans la CIM-10 FR chargée.",
    ),
    Rule(
        "commune_unknown",
        "warning",
        "terminology",
        ("lieu_naissance", "adresse_residence", "activite_site_lieu"),
        "Le code INSEE ne correspond à aucune commune du code officiel géographique chargé "
        "(commune fusionnée ou erreur de saisie).",
    ),
    Rule(
        "country_unknown",
        "error",
        "terminology",
        ("lieu_naissance", "adresse_residence", "activite_site_lieu"),
        "Le code pays ne correspond à aucun pays ISO 3166.",
    ),
    Rule(
        "confirmed_group_code",
        "warning",
        "terminology",
        ("statut_diagnostic", "diagnostic_code"),
        "Un diagnostic confirmé devrait porter un code ORPHA précis (maladie ou sous-type), pas "
        "un groupe de maladies.",
    ),
    # -- identifiers and places -----------------------------------------------------------
    Rule(
        "ins_invalid",
        "error",
        "format",
        ("ins",),
        "Le matricule INS doit compter 15 caractères (13 chiffres, 2A/2B pour la Corse, puis "
        "une clé de contrôle égale à 97 moins le reste de la division par 97).",
    ),
    Rule(
        "ins_without_key",
        "warning",
        "format",
        ("ins",),
        "Le matricule INS est donné sans sa clé de contrôle (13 caractères) : il n'a pas pu "
        "être vérifié.",
    ),
    Rule(
        "rpps_invalid",
        "error",
        "format",
        ("medecin_traitant", "medecin_referent", "activite_intervenant", "auteur_document"),
        "Le numéro RPPS doit compter 11 chiffres.",
    ),
    Rule(
        "finess_invalid",
        "error",
        "format",
        ("medecin_traitant", "activite_site_lieu"),
        "Le numéro FINESS doit compter 9 caractères (2A/2B pour la Corse) et se terminer par "
        "une clé de Luhn exacte.",
    ),
    Rule(
        "commune_invalid",
        "error",
        "format",
        ("lieu_naissance", "adresse_residence", "activite_site_lieu"),
        "Le code INSEE de commune doit compter 5 caractères (2A/2B pour la Corse).",
    ),
    Rule(
        "country_invalid",
        "error",
        "format",
        ("lieu_naissance", "adresse_residence", "activite_site_lieu"),
        "Le code pays doit être un code ISO 3166-1 alpha-2 (deux lettres majuscules).",
    ),
    # -- plausible values -----------------------------------------------------------------
    Rule(
        "out_of_range",
        "error",
        "plausibility",
        (
            "age_gestationnel_naissance",
            "foetus_age_gestationnel",
            "poids_naissance",
            "taille_naissance",
            "perimetre_cranien_naissance",
            "naissance_multiple",
            "grossesse_nb_foetus",
            *_AGE_ITEMS,
        ),
        "La valeur est hors des limites de la définition du SDM-MR (par ex. poids de naissance "
        "0 à 8000 g, taille 2 à 60 cm, périmètre crânien 5 à 50 cm, âge gestationnel 4 à 45 "
        "semaines, âge chiffré 0 à 1500 mois).",
    ),
    Rule(
        "implausible_value",
        "warning",
        "plausibility",
        ("age_gestationnel_naissance",),
        "La valeur est possible mais inhabituelle (par ex. âge gestationnel à la naissance "
        "hors de 24 à 42 semaines) : à vérifier.",
    ),
    # -- coherence between data -----------------------------------------------------------
    Rule(
        "date_in_future",
        "error",
        "coherence",
        _DATE_ITEMS,
        "La date est postérieure à la date du jour.",
    ),
    Rule(
        "death_before_birth",
        "error",
        "coherence",
        ("date_deces", "date_naissance"),
        "La date de décès est antérieure à la date de naissance.",
    ),
    Rule(
        "activity_before_birth",
        "error",
        "coherence",
        ("activite_date", "date_naissance"),
        "L'activité est antérieure à la naissance du patient (sauf dossier fœtus ou activité "
        "portant sur un fœtus).",
    ),
    Rule(
        "activity_after_death",
        "error",
        "coherence",
        ("activite_date", "date_deces"),
        "L'activité est postérieure au décès du patient.",
    ),
    Rule(
        "inclusion_before_birth",
        "error",
        "coherence",
        ("date_inclusion", "date_naissance"),
        "La date d'inclusion dans le site est antérieure à la naissance (sauf dossier fœtus).",
    ),
    Rule(
        "opposition_before_birth",
        "error",
        "coherence",
        ("opposition_date", "date_naissance"),
        "La date d'opposition est antérieure à la naissance (sauf dossier fœtus).",
    ),
    Rule(
        "opposition_date_without_opposition",
        "error",
        "coherence",
        ("opposition_date", "opposition_bndmr"),
        "Une date d'opposition est donnée alors que le patient ne s'oppose pas.",
    ),
    Rule(
        "death_details_without_death",
        "error",
        "coherence",
        ("date_deces", "deces_lie_mr", "statut_vital"),
        "Une date ou une cause de décès est donnée alors que le patient n'est pas indiqué décédé.",
    ),
    Rule(
        "death_cause_missing",
        "warning",
        "coherence",
        ("deces_lie_mr",),
        "Le décès est lié à la maladie rare mais le code ORPHA de la maladie en cause manque ; "
        "ou un code est donné alors que le décès n'est pas dit lié à la maladie rare.",
    ),
    Rule(
        "multiple_birth_rank_without_multiple_birth",
        "error",
        "coherence",
        ("naissance_multiple", "foetus_identite"),
        "Un rang de naissance est donné sans naissance (ou grossesse) multiple.",
    ),
    Rule(
        "foetus_without_mother",
        "error",
        "coherence",
        ("dossier_foetus", "mere_identite"),
        "Un dossier fœtus doit identifier la mère : nom de naissance et premier prénom, ou "
        "dossier de la mère.",
    ),
    Rule(
        "age_quantity_missing",
        "error",
        "coherence",
        _AGE_ITEMS,
        "L'âge est « période de la vie entre la naissance et la mort » : sa valeur et son unité "
        "(mois ou ans) sont obligatoires.",
    ),
    Rule(
        "age_quantity_forbidden",
        "error",
        "coherence",
        _AGE_ITEMS,
        "Une valeur d'âge n'est permise que pour la classe « période de la vie entre la "
        "naissance et la mort ».",
    ),
    Rule(
        "clinical_diagnosis_before_onset",
        "error",
        "coherence",
        ("age_diag_clinique", "age_premiers_signes"),
        "L'âge au diagnostic clinique est antérieur à l'âge aux premiers signes (ordre : "
        "période fœtale < néonatal < âge en mois ou ans < post-mortem ; « indéterminé » et "
        "« aucun signe » ne sont pas comparés).",
    ),
    Rule(
        "genetic_diagnosis_before_onset",
        "warning",
        "coherence",
        ("age_diag_genetique", "age_premiers_signes"),
        "L'âge au diagnostic génétique est antérieur à l'âge aux premiers signes : possible "
        "(diagnostic présymptomatique), à vérifier.",
    ),
    Rule(
        "age_inconsistent_with_dates",
        "warning",
        "coherence",
        (*_AGE_ITEMS, "date_naissance", "diagnostic_date", "date_deces"),
        "Un âge (premiers signes, diagnostic clinique ou génétique) ne concorde pas avec la date "
        "de naissance : postérieur à la date du diagnostic, au décès ou à la date du jour, ou "
        "« post-mortem » chez un patient indiqué vivant.",
    ),
    Rule(
        "complex_disease_code_system",
        "error",
        "coherence",
        ("maladie_complexe_non_rare", "diagnostic_code"),
        "Une maladie complexe non rare se code en CIM-10, et un code CIM-10 n'est permis que "
        "pour une maladie complexe non rare.",
    ),
    Rule(
        "context_other_without_detail",
        "warning",
        "coherence",
        ("activite_contexte", "activite_contexte_precision"),
        "Le contexte de l'activité est « autre » : précisez-le.",
    ),
    Rule(
        "pregnancy_end_before_start",
        "error",
        "coherence",
        ("grossesse_periode",),
        "La date de fin de grossesse est antérieure à sa date de début.",
    ),
    # -- the software itself ------------------------------------------------------------
    Rule(
        "check_failed",
        "error",
        "internal",
        (ANY_ITEM,),
        "Une vérification n'a pas pu être menée (anomalie du logiciel, consignée dans le journal).",
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
