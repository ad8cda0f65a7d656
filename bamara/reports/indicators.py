"""Every activity indicator, defined once: its key, French label and definition, and the codes
it counts. Pages, PIRAMIG view, files and the command all read these definitions.

Codes are those of the ANS value sets used by the SDM-MR (JDV_ContexteActivite_CISIS,
OID 1.2.250.1.213.1.1.5.40, and JDV_StatutActuelDiagnostic_CISIS); codes are unique within
each value set, so the code alone identifies the concept.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# JDV_ContexteActivite_CISIS
CONSULTATION = "11429006"  # Consultation (SNOMED CT)
MULTIDISCIPLINARY = "ORG-028"  # Consultation pluridisciplinaire
DAY_HOSPITAL = "29"  # Hospitalisation de jour (HJ)
FULL_STAY = "ORG-045"  # Hospitalisation traditionnelle
OPINION_FILE = "MED-095"  # Avis d'expertise sur un dossier
OPINION_CONSULTATION = "ORG-029"  # Avis sur dossier en consultation
OPINION_BEDSIDE = "ORG-030"  # Avis en salle
RCP_ORGANISED = "ORG-198"  # RCP régionale ou locale - centre organisateur
RCP_ATTENDED = "ORG-199"  # RCP nationale ou européenne - centre participatif
TELECONSULTATION = "MED-096"  # Téléconsultation
OTHER = "GEN-092.05.04"  # Autre contexte

CONTEXT_LABELS: dict[str, str] = {
    CONSULTATION: _("Consultation"),
    MULTIDISCIPLINARY: _("Consultation pluridisciplinaire"),
    DAY_HOSPITAL: _("Hospitalisation de jour"),
    FULL_STAY: _("Hospitalisation complète"),
    OPINION_FILE: _("Avis d'expertise sur dossier"),
    OPINION_CONSULTATION: _("Avis sur dossier en consultation"),
    OPINION_BEDSIDE: _("Avis en salle (au lit du patient)"),
    RCP_ORGANISED: _("RCP organisée (centre organisateur)"),
    RCP_ATTENDED: _("RCP suivie (centre participant)"),
    TELECONSULTATION: _("Téléconsultation"),
    OTHER: _("Autre contexte"),
}
UNCODED = ""  # an activity without context (or with a code outside the value set)

# JDV_StatutActuelDiagnostic_CISIS, in the order used to pick a patient's status: the most
# advanced of the patient's diagnoses wins.
STATUS_ORDER: list[tuple[str, str]] = [
    ("255545003", _("Diagnostic confirmé (définitif)")),
    ("385651009", _("Diagnostic en cours")),
    ("42425007", _("Diagnostic indéterminé (équivoque)")),
    ("24800002", _("Porteur sain")),
    ("723511001", _("Diagnostic réfuté")),
]
NO_STATUS = "aucun"
STATUS_LABELS: dict[str, str] = dict(STATUS_ORDER) | {NO_STATUS: _("Statut non renseigné")}
REFUTED = "723511001"

SEXES = {"F": _("Femmes"), "M": _("Hommes"), "autre": _("Indéterminé ou inconnu")}
AGE_BANDS: list[tuple[int, int | None]] = [
    (0, 4), (5, 9), (10, 14), (15, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, None)
]


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    definition: str
    contexts: tuple[str, ...] = ()  # activity contexts counted, when the figure counts activities
    piramig: bool = True  # an item of the PIRAMIG activity report filled from the data
    ratio: bool = False


SCOPE_RULE = _(
    "Le périmètre est l'ensemble des sites maladies rares choisis (un site, les sites d'un "
    "établissement, d'une filière ou de toute l'instance) ; la période va du premier au dernier "
    "jour inclus. Un patient est un dossier maladies rares : suivi par deux sites du périmètre, "
    "il compte une fois ; suivi par deux établissements (deux dossiers), il compte dans chacun."
)

INDICATORS: list[Indicator] = [
    Indicator("file_active", _("File active"), _(
        "Nombre de patients distincts ayant au moins une activité datée de la période sur un site "
        "du périmètre, quel qu'en soit le contexte. Les patients décédés comptent s'ils ont une "
        "activité dans la période ; un fœtus compte s'il a son propre dossier (dossier fœtus), "
        "sinon l'activité le concernant compte pour sa mère.")),
    Indicator("new_patients", _("Nouveaux patients"), _(
        "Patients de la file active dont la date d'inclusion la plus ancienne sur les sites du "
        "périmètre tombe dans la période (date d'inclusion de la prise en charge, item de la "
        "prise en charge du SDM-MR).")),
    Indicator("deceased", _("dont patients décédés dans la période"), _(
        "Patients de la file active dont le statut vital est « décédé » avec une date de décès "
        "comprise dans la période.")),
    Indicator("foetuses", _("dont dossiers fœtus"), _(
        "Patients de la file active dont le dossier est un dossier fœtus.")),
    Indicator("activities", _("Activités (toutes)"), _(
        "Nombre d'activités datées de la période sur les sites du périmètre, tous contextes "
        "confondus.")),
    Indicator("activities_per_patient", _("Activités par patient"), _(
        "Nombre d'activités divisé par la file active."), ratio=True),
    Indicator("consultations", _("Consultations"), _(
        "Activités de contexte « Consultation » ou « Consultation pluridisciplinaire » "
        "(hors téléconsultations)."), (CONSULTATION, MULTIDISCIPLINARY)),
    Indicator("multidisciplinary", _("dont consultations pluridisciplinaires"), _(
        "Activités de contexte « Consultation pluridisciplinaire »."), (MULTIDISCIPLINARY,)),
    Indicator("teleconsultations", _("Téléconsultations"), _(
        "Activités de contexte « Téléconsultation »."), (TELECONSULTATION,)),
    Indicator("day_hospital", _("Hospitalisations de jour"), _(
        "Activités de contexte « Hospitalisation de jour (HJ) »."), (DAY_HOSPITAL,)),
    Indicator("full_stays", _("Hospitalisations complètes"), _(
        "Activités de contexte « Hospitalisation traditionnelle »."), (FULL_STAY,)),
    Indicator("opinions_file", _("Avis d'expertise sur dossier"), _(
        "Activités de contexte « Avis d'expertise sur un dossier » (patient non vu)."), (OPINION_FILE,)),
    Indicator("opinions_consultation", _("Avis sur dossier en consultation"), _(
        "Activités de contexte « Avis sur dossier en consultation »."), (OPINION_CONSULTATION,)),
    Indicator("opinions_bedside", _("Avis en salle"), _(
        "Activités de contexte « Avis en salle » (avis au lit du patient hospitalisé dans un "
        "autre service)."), (OPINION_BEDSIDE,)),
    Indicator("rcp_organised", _("RCP organisées"), _(
        "Réunions de concertation pluridisciplinaire organisées : nombre de couples distincts "
        "(site, jour) ayant au moins une activité de contexte « RCP régionale ou locale - centre "
        "organisateur »."), (RCP_ORGANISED,)),
    Indicator("rcp_organised_cases", _("Dossiers présentés en RCP organisées"), _(
        "Activités de contexte « RCP régionale ou locale - centre organisateur » (un dossier "
        "présenté = une activité)."), (RCP_ORGANISED,)),
    Indicator("rcp_attended", _("RCP suivies"), _(
        "Réunions de concertation auxquelles le site a participé : nombre de couples distincts "
        "(site, jour) ayant au moins une activité de contexte « RCP nationale ou européenne - "
        "centre participatif »."), (RCP_ATTENDED,)),
    Indicator("rcp_attended_cases", _("Dossiers présentés en RCP suivies"), _(
        "Activités de contexte « RCP nationale ou européenne - centre participatif »."), (RCP_ATTENDED,)),
    Indicator("other_contexts", _("Autres activités"), _(
        "Activités de contexte « Autre contexte » ou sans contexte codé."), (OTHER, UNCODED),
        piramig=False),
    Indicator("foetal_activities", _("Activités concernant un fœtus"), _(
        "Activités portant sur un fœtus : activités d'un dossier fœtus ou activités du dossier "
        "de la mère désignant un fœtus."), piramig=False),
]
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}

BREAKDOWN_DEFINITIONS = {
    "status": _("Statut du diagnostic : pour chaque patient de la file active, le statut le plus "
                "avancé de ses diagnostics (confirmé, puis en cours, indéterminé, porteur sain, "
                "réfuté) ; « non renseigné » sans diagnostic ou sans statut."),
    "pyramid": _("Pyramide des âges : patients de la file active par sexe et par âge en années "
                 "révolues au dernier jour de la période (âge inconnu sans date de naissance)."),
    "monthly": _("Tendance mensuelle : activités de chaque mois de la période."),
    "contexts": _("Répartition par contexte : activités de la période selon leur contexte."),
    "top_diagnoses": _("Diagnostics les plus fréquents : nombre de patients de la file active "
                       "ayant un diagnostic non réfuté de ce code ORPHA (un patient peut en "
                       "avoir plusieurs)."),
}
