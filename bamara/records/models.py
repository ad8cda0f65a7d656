"""The patient's rare-disease record (SDM-MR), as typed columns.

Which SDM-MR item lives in which column is declared in the SDM-MR definition
(bamara/sdm/definitions, ``storage:``) and checked by tests/sdm/test_storage_binding.py.
Coded values keep their code-system OID (CodedField), dates may be partial
(PartialDateField) and ages are SDM age classes (AgeClassField).
"""
# MODELS READY

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from bamara.organisations.models import Hospital, Site

from .fields import AgeClassField, CodedField, PartialDateField


class Source(models.TextChoices):
    WEB = "web", _("saisie web")
    EHR = "dpi", _("document CDA du DPI")
    IMPORT = "import", _("import")
    DEMO = "demo", _("données de démonstration")


class Tracked(models.Model):
    """Who or what wrote a row, and per-field provenance when fields come from several sources.

    ``source``/``source_ref`` describe the row as a whole (e.g. ``dpi`` and
    ``<document id>#v3``); ``field_sources`` maps a field name to the source reference that last
    wrote it when it differs from the row's (e.g. an item typed on the web into an EHR-fed row).
    """

    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.WEB)
    source_ref = models.CharField(_("référence de la source"), max_length=255, blank=True)
    field_sources = models.JSONField(_("provenance par champ"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True


class YesNoUnknown(models.TextChoices):
    YES = "oui", _("oui")
    NO = "non", _("non")
    UNKNOWN = "inconnu", _("inconnu")


class InsStatus(models.TextChoices):
    PROVISIONAL = "provisoire", _("identité provisoire")
    RETRIEVED = "recuperee", _("identité récupérée")
    VALIDATED = "validee", _("identité validée")
    QUALIFIED = "qualifiee", _("identité qualifiée")


class CaptureMode(models.TextChoices):
    AUTONOMOUS = "autonome", _("mode autonome (saisie web)")
    CONNECTED = "connecte", _("mode connecté (DPI)")
    MIGRATION = "reprise", _("reprise de données")


class Patient(Tracked):
    """One rare-disease record (dossier MR) of a person in one hospital."""

    # C00 record
    uuid = models.UUIDField(_("identifiant du dossier"), default=uuid.uuid4, unique=True)
    # Indexed by (hospital, birth_name), which leads with it.
    hospital = models.ForeignKey(Hospital, models.PROTECT, related_name="patients", db_index=False)
    sdm_version = models.CharField(_("version du SDM-MR"), max_length=16, default="2024.01")
    record_created_on = models.DateField(_("date de création du dossier"), null=True, blank=True)
    capture_mode = models.CharField(
        _("mode de recueil"), max_length=8, choices=CaptureMode.choices, default=CaptureMode.AUTONOMOUS
    )
    cda_set_id = models.CharField(_("setId du document CDA"), max_length=128, blank=True)
    cda_version = models.PositiveIntegerField(_("version du document CDA"), null=True, blank=True)

    # C02 identifiers
    ins = models.CharField(_("matricule INS"), max_length=15, blank=True)
    ins_oid = models.CharField(_("OID de l'INS"), max_length=32, blank=True)
    ins_status = models.CharField(
        _("statut de l'identité"), max_length=16, choices=InsStatus.choices, blank=True
    )
    ipp = models.CharField(_("IPP"), max_length=64, blank=True)
    ipp_oid = models.CharField(_("autorité d'affectation de l'IPP"), max_length=64, blank=True)
    national_id = models.CharField(
        _("identifiant national maladies rares"), max_length=20, blank=True
    )

    # C03 identity traits (INS) and administrative information
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    birth_given_names = models.CharField(_("prénoms de naissance"), max_length=255, blank=True)
    first_birth_given_name = models.CharField(_("premier prénom de naissance"), max_length=100, blank=True)
    used_name = models.CharField(_("nom utilisé"), max_length=100, blank=True)
    used_given_name = models.CharField(_("prénom utilisé"), max_length=100, blank=True)
    sex = CodedField(_("sexe"), max_length=8)
    birth_date = PartialDateField(_("date de naissance"), db_index=True)
    birth_commune = models.CharField(_("commune de naissance (INSEE)"), max_length=5, blank=True)
    birth_country = models.CharField(_("pays de naissance (ISO 3166)"), max_length=2, blank=True)
    multiple_birth = models.BooleanField(_("naissance multiple"), null=True, blank=True)
    multiple_birth_rank = models.PositiveSmallIntegerField(_("rang de naissance"), null=True, blank=True)
    address_line = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    residence_commune = models.CharField(
        _("commune de résidence (INSEE)"), max_length=5, blank=True
    )
    residence_country = models.CharField(_("pays de résidence (ISO 3166)"), max_length=2, blank=True)
    phone = models.CharField(_("téléphone"), max_length=32, blank=True)
    email = models.EmailField(_("messagerie"), blank=True)
    representative_name = models.CharField(_("représentant légal : nom"), max_length=100, blank=True)
    representative_given_name = models.CharField(
        _("représentant légal : prénom"), max_length=100, blank=True
    )
    representative_relation = CodedField(_("représentant légal : lien"), max_length=16)
    representative_phone = models.CharField(_("représentant légal : téléphone"), max_length=32, blank=True)
    mother = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="children",
        verbose_name=_("mère (dossier)"), db_index=False,
    )
    mother_birth_name = models.CharField(_("mère : nom de naissance"), max_length=100, blank=True)
    mother_used_name = models.CharField(_("mère : nom utilisé"), max_length=100, blank=True)
    mother_first_name = models.CharField(_("mère : premier prénom"), max_length=100, blank=True)
    gp_rpps = models.CharField(_("médecin traitant : RPPS"), max_length=11, blank=True)
    gp_name = models.CharField(_("médecin traitant : nom"), max_length=200, blank=True)
    gp_finess = models.CharField(_("médecin traitant : FINESS du lieu d'exercice"), max_length=9, blank=True)

    # C01 opposition and consent
    patient_informed = models.BooleanField(_("patient informé (note d'information)"), null=True, blank=True)
    patient_informed_on = models.DateField(_("date d'information"), null=True, blank=True)
    opposition = models.BooleanField(
        _("opposition à la réutilisation des données (BNDMR)"), default=False
    )
    opposition_on = models.DateField(_("date d'opposition"), null=True, blank=True)

    # C04 family
    is_index_case = models.BooleanField(_("cas index"), null=True, blank=True)
    consanguinity = models.CharField(
        _("union consanguine des parents"), max_length=8, choices=YesNoUnknown.choices, blank=True
    )
    first_case_relation = CodedField(_("premier cas : lien de parenté"), max_length=16)
    first_case_identifier = models.CharField(_("premier cas : IPP ou INS"), max_length=64, blank=True)
    first_case_identifier_oid = models.CharField(
        _("premier cas : autorité de l'identifiant"), max_length=64, blank=True
    )
    first_case_sex = CodedField(_("premier cas : sexe"), max_length=8)
    first_case_patient = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="relatives",
        verbose_name=_("premier cas (dossier)"), db_index=False,
    )

    # C05 vital status
    deceased = models.BooleanField(_("décédé"), null=True, blank=True)
    death_date = PartialDateField(_("date de décès"))
    death_related_to_rd = models.CharField(
        _("décès lié à la maladie rare"), max_length=8, choices=YesNoUnknown.choices, blank=True
    )
    death_cause_orpha = models.PositiveIntegerField(_("maladie rare cause du décès (ORPHA)"), null=True, blank=True)
    lost_to_follow_up = models.BooleanField(_("perdu de vue"), null=True, blank=True)
    clinical_status = CodedField(_("statut clinique"), max_length=16)

    # C12 ante/neonatal
    assisted_reproduction = models.BooleanField(_("assistance médicale à la procréation"), null=True, blank=True)
    gestational_age_at_birth_weeks = models.PositiveSmallIntegerField(
        _("âge gestationnel à la naissance (semaines)"), null=True, blank=True
    )
    antenatal_malformation = CodedField(_("malformation(s) anténatale(s)"), max_length=16)
    birth_weight_g = models.PositiveIntegerField(_("poids de naissance (g)"), null=True, blank=True)
    birth_length_cm = models.DecimalField(
        _("taille de naissance (cm)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    birth_head_circumference_cm = models.DecimalField(
        _("périmètre crânien de naissance (cm)"), max_digits=4, decimal_places=1, null=True, blank=True
    )

    # C13 research
    research_protocol = models.BooleanField(_("participe à un protocole de recherche"), null=True, blank=True)
    research_contact_agreement = models.BooleanField(
        _("accord pour être contacté pour la recherche"), null=True, blank=True
    )
    sample_for_research = models.BooleanField(_("échantillon donné pour la recherche"), null=True, blank=True)
    sample_for_molecular_diagnosis = models.BooleanField(
        _("échantillon donné pour le diagnostic moléculaire"), null=True, blank=True
    )
    biobanks = models.TextField(_("bio-banque(s)"), blank=True)

    # C14 care structure: author of the last document (connected mode)
    author_rpps = models.CharField(_("auteur : RPPS"), max_length=11, blank=True)
    author_name = models.CharField(_("auteur : nom"), max_length=200, blank=True)

    # X4 / X5 record kinds
    is_external_review = models.BooleanField(
        _("avis sur dossier d'un patient externe"), default=False
    )
    is_foetus = models.BooleanField(_("dossier fœtus"), default=False)
    foetus_local_id = models.CharField(_("identifiant local du fœtus"), max_length=64, blank=True)
    foetus_rank = models.PositiveSmallIntegerField(_("rang du fœtus"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hospital", "ipp"],
                condition=~models.Q(ipp=""),
                name="one_ipp_per_hospital",
            )
        ]
        indexes = [
            models.Index(fields=["hospital", "birth_name"]),
            # Search results are put in name order from this index alone (index-only scan)
            # rather than from one table page per candidate. On PostgreSQL it also carries the
            # figures' columns (reports/0005: one index led by the id rather than two).
            models.Index(fields=["id", "birth_name", "first_birth_given_name"], name="patient_search_order",
                         include=["sex_code", "birth_date", "deceased", "death_date", "is_foetus"]),
            # A birth-date search also looks for month- and year-precision dates over a range.
            models.Index(fields=["birth_date_precision", "birth_date"], name="patient_birth_precision"),
            # The dashboard's recently modified records of a site: newest first, from this index.
            models.Index(fields=["updated_at", "id"], name="patient_recent"),
            # Looked up by equality only: Meta indexes rather than db_index=True, which on
            # PostgreSQL adds a second, varchar_pattern_ops index per column (for LIKE 'x%'),
            # written on every insert and read by no query.
            *[models.Index(fields=[name], name=f"patient_{name}") for name in ("ipp", "national_id")],
            # Columns empty in most records (or in a migration's): only the rows with a value
            # are indexed, all that a look-up by value reads; an empty entry per record written
            # cost a committed import ~1.5 % of its server time (docs/imports.md, "Session 10").
            *[models.Index(fields=[name], name=f"patient_{name}", condition=~models.Q(**{name: ""}))
              for name in ("cda_set_id", "ins", "residence_commune", "foetus_local_id")],
            models.Index(fields=["deceased"], name="patient_deceased", condition=models.Q(deceased=True)),
            models.Index(fields=["opposition"], name="patient_opposition",
                         condition=models.Q(opposition=True)),
            *[models.Index(fields=[name], name=f"patient_{name}", condition=models.Q(**{f"{name}__isnull": False}))
              for name in ("mother", "first_case_patient")],
        ]
        verbose_name = _("dossier patient")

    def __str__(self) -> str:
        return f"{self.birth_name} {self.first_birth_given_name}".strip()


class RegistryConsent(Tracked):
    """Consent to forwarding data to a European Reference Network registry (GEN-320)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="registry_consents")
    registry = models.CharField(_("registre ERN"), max_length=128)
    consented_on = models.DateField(_("date du consentement"), null=True, blank=True)


class FirstCaseDisease(models.Model):
    """Rare disease(s) of the first diagnosed case of the family (1..*)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="first_case_diseases")
    orpha_code = models.PositiveIntegerField(_("maladie du premier cas (ORPHA)"))


class Pregnancy(Tracked):
    """A pregnancy of a patient (the mother), with its foetuses or newborns (2024.01)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="pregnancies")
    start = PartialDateField(_("date de début de grossesse"))
    end = PartialDateField(_("date de fin de grossesse"))
    foetus_count = models.PositiveSmallIntegerField(_("nombre de fœtus"), null=True, blank=True)
    assisted_reproduction = models.BooleanField(_("grossesse issue d'une AMP"), null=True, blank=True)


class TerminationType(models.TextChoices):
    MEDICAL = "IMG", _("interruption médicale de grossesse")
    SELECTIVE = "ISG", _("interruption sélective de grossesse")
    IN_UTERO = "INUTERO", _("mort fœtale in utero")
    PER_PARTUM = "PERPARTUM", _("mort fœtale per partum")


class Foetus(Tracked):
    """A foetus or newborn of a pregnancy, identified through the mother."""

    pregnancy = models.ForeignKey(Pregnancy, models.CASCADE, related_name="foetuses")
    mother = models.ForeignKey(Patient, models.CASCADE, related_name="foetuses")
    record = models.OneToOneField(
        Patient, models.SET_NULL, null=True, blank=True, related_name="foetus_entry",
        verbose_name=_("dossier propre du fœtus ou de l'enfant"),
    )
    local_id = models.CharField(_("identifiant local"), max_length=64, blank=True)
    given_name = models.CharField(_("prénom"), max_length=100, blank=True)
    birth_name = models.CharField(_("nom de naissance (nouveau-né)"), max_length=100, blank=True)
    birth_date = PartialDateField(_("date de naissance (nouveau-né)"))
    sex = CodedField(_("sexe"), max_length=8)
    multiple = models.BooleanField(_("grossesse multiple"), null=True, blank=True)
    rank = models.PositiveSmallIntegerField(_("rang"), null=True, blank=True)
    outcome = CodedField(_("issue de la grossesse"), max_length=16)
    outcome_gestational_age_weeks = models.PositiveSmallIntegerField(
        _("âge gestationnel à l'issue (semaines)"), null=True, blank=True
    )
    fetopathology = models.BooleanField(_("examen fœtopathologique réalisé"), null=True, blank=True)
    termination_type = models.CharField(
        _("type d'interruption / moment du décès"), max_length=10, choices=TerminationType.choices, blank=True
    )

    class Meta:
        verbose_name = _("fœtus ou nouveau-né")
        verbose_name_plural = _("fœtus ou nouveau-nés")


class CareEpisode(Tracked):
    """The follow-up of the patient by one rare-disease site (one per patient and site)."""

    uuid = models.UUIDField(_("identifiant de la prise en charge"), default=uuid.uuid4, unique=True)
    # Indexed by one_episode_per_site (patient, site) and careepisode_site_patient (site, patient).
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="care_episodes", db_index=False)
    site = models.ForeignKey(Site, models.PROTECT, related_name="care_episodes", db_index=False)
    encounter_type = CodedField(_("type de prise en charge"), max_length=8)
    inclusion_date = PartialDateField(_("date d'inclusion dans le site"), db_index=True)
    referent_rpps = models.CharField(_("médecin référent : RPPS"), max_length=11, blank=True)
    referent_name = models.CharField(_("médecin référent : nom"), max_length=200, blank=True)
    outside_labelling = models.BooleanField(
        _("prise en charge hors labellisation du site"), default=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "site"], name="one_episode_per_site")
        ]
        # A site's patients by index-only scan (lists, counts, the wall from the site side).
        indexes = [models.Index(fields=["site", "patient"], name="careepisode_site_patient")]
        verbose_name = _("prise en charge")


class Referral(models.Model):
    """Who referred the patient to the site (1..* per care episode)."""

    episode = models.ForeignKey(CareEpisode, models.CASCADE, related_name="referrals")
    referred_by = CodedField(_("patient adressé par"), max_length=32)


class Activity(Tracked):
    """One rare-disease care activity (consultation, stay, expert opinion, RCP...)."""

    uuid = models.UUIDField(_("identifiant de l'activité"), default=uuid.uuid4, unique=True)
    # Indexed by (patient, date), and by reports_activity_site_date_cover (site_id, date, with the
    # figures' columns; reports/0001), which lead with them.
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="activities", db_index=False)
    site = models.ForeignKey(Site, models.PROTECT, related_name="activities", db_index=False)
    date = models.DateField(_("date de l'activité"))
    context = CodedField(_("contexte de l'activité"), max_length=32)
    context_detail = models.CharField(_("précision du contexte"), max_length=255, blank=True)
    performer_rpps = models.CharField(_("intervenant : RPPS"), max_length=11, blank=True)
    performer_name = models.CharField(_("intervenant : nom"), max_length=200, blank=True)
    place_finess = models.CharField(_("lieu de réalisation (FINESS)"), max_length=9, blank=True)
    place_commune = models.CharField(_("lieu de réalisation : commune (INSEE)"), max_length=5, blank=True)
    place_country = models.CharField(_("lieu de réalisation : pays (ISO 3166)"), max_length=2, blank=True)
    residence_commune = models.CharField(
        _("commune de résidence à la date de l'activité (INSEE)"), max_length=5, blank=True
    )
    residence_country = models.CharField(
        _("pays de résidence à la date de l'activité (ISO 3166)"), max_length=2, blank=True
    )
    # Set for the activities of a pregnancy's foetuses only: indexed where set (Meta).
    foetus = models.ForeignKey(
        Foetus, models.SET_NULL, null=True, blank=True, related_name="activities",
        verbose_name=_("fœtus concerné"), db_index=False,
    )

    class Meta:
        indexes = [
            models.Index(fields=["patient", "date"]),
            models.Index(fields=["context_code"], name="activity_context"),  # see Patient.Meta
            models.Index(fields=["foetus"], name="activity_foetus", condition=models.Q(foetus__isnull=False)),
        ]
        verbose_name = _("activité")


class ActivityObjective(models.Model):
    activity = models.ForeignKey(Activity, models.CASCADE, related_name="objectives")
    objective = CodedField(_("objectif de l'activité"), max_length=32)


class ActivityProfession(models.Model):
    activity = models.ForeignKey(Activity, models.CASCADE, related_name="professions")
    profession = CodedField(_("profession de l'intervenant"), max_length=32)


class Diagnosis(Tracked):
    """One diagnosis of the record (1..*), with its own status, ages and confirmation."""

    uuid = models.UUIDField(_("identifiant du diagnostic"), default=uuid.uuid4, unique=True)
    # Indexed by reports_diagnosis_cover (patient_id, with the figures' columns; reports/0002).
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="diagnoses", db_index=False)
    date = PartialDateField(_("date du diagnostic"))
    disease = CodedField(_("maladie rare (ORPHA) ou maladie complexe (CIM-10)"), max_length=16)
    complex_non_rare = models.BooleanField(_("maladie complexe non rare"), default=False)
    status = CodedField(_("statut actuel du diagnostic"), max_length=16)
    status_sdm_version = models.CharField(_("version du SDM du statut"), max_length=16, blank=True)
    onset_age = AgeClassField(_("âge aux premiers signes"))
    clinical_diagnosis_age = AgeClassField(_("âge au diagnostic clinique"))
    genetic_diagnosis_age = AgeClassField(_("âge au diagnostic génétique"))
    appraisal_at_entry = CodedField(_("appréciation du diagnostic à l'entrée"), max_length=16)
    prenatal_diagnosis = models.CharField(_("diagnostic prénatal"), max_length=8, blank=True)
    sporadic_or_familial = CodedField(_("cas sporadique ou familial"), max_length=16)
    inheritance = models.CharField(_("mode de transmission"), max_length=8, blank=True)
    newborn_screening = models.CharField(_("dépistage néonatal"), max_length=8, blank=True)
    diagnosing_site_code = models.CharField(_("site ayant posé le diagnostic (code)"), max_length=16, blank=True)
    diagnosing_site_name = models.CharField(_("site ayant posé le diagnostic (nom)"), max_length=255, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    verification_status_2022 = CodedField(_("certitude (modèle 2022)"), max_length=16)
    confirmation_detail = models.TextField(_("précision du mode de confirmation"), blank=True)
    other_genetic_description = models.TextField(_("autres descriptions génétiques"), blank=True)
    apparently_healthy = models.BooleanField(_("sujet apparemment sain"), null=True, blank=True)
    impasse_type = models.CharField(_("type d'impasse diagnostique"), max_length=32, blank=True)
    # Set for the diagnoses of a pregnancy's foetuses only: indexed where set (Meta).
    foetus = models.ForeignKey(
        Foetus, models.SET_NULL, null=True, blank=True, related_name="diagnoses",
        verbose_name=_("fœtus concerné"), db_index=False,
    )

    class Meta:
        indexes = [  # see Patient.Meta
            models.Index(fields=["disease_code"], name="diagnosis_disease"),
            models.Index(fields=["status_code"], name="diagnosis_status"),
            models.Index(fields=["foetus"], name="diagnosis_foetus", condition=models.Q(foetus__isnull=False)),
        ]
        verbose_name = _("diagnostic")


class SignKind(models.TextChoices):
    DESCRIPTION = "description", _("description clinique")
    COMPLEMENTARY = "complementaire", _("signe complémentaire (2022)")
    UNUSUAL = "inhabituel", _("signe inhabituel (2022)")


class ClinicalSign(models.Model):
    """Clinical description of a diagnosis: ORPHA groups, HPO terms or CIM-10 codes."""

    diagnosis = models.ForeignKey(Diagnosis, models.CASCADE, related_name="signs")
    kind = models.CharField(_("nature"), max_length=16, choices=SignKind.choices, default=SignKind.DESCRIPTION)
    sign = CodedField(_("signe ou groupe"), max_length=16, db_index=True)

    class Meta:
        # The list's HPO filter: the diagnoses bearing some terms, by index-only scan.
        indexes = [models.Index(fields=["sign_code", "sign_system", "diagnosis"], name="clinicalsign_code_diagnosis")]


class Investigation(models.Model):
    diagnosis = models.ForeignKey(Diagnosis, models.CASCADE, related_name="investigations")
    investigation = CodedField(_("investigation réalisée"), max_length=32)


class GeneticTechnique(models.Model):
    diagnosis = models.ForeignKey(Diagnosis, models.CASCADE, related_name="techniques")
    technique = CodedField(_("technique du diagnostic génétique"), max_length=32)
    detail = models.CharField(_("précision (autre technique)"), max_length=255, blank=True)


class Gene(models.Model):
    diagnosis = models.ForeignKey(Diagnosis, models.CASCADE, related_name="genes")
    gene = CodedField(_("gène (HGNC)"), max_length=32)
    symbol = models.CharField(_("symbole"), max_length=32, blank=True)


class Treatment(Tracked):
    """A current rare-disease-specific treatment (C11, per patient)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="treatments")
    product = CodedField(_("médicament (liste EMA)"), max_length=32)
    atc = CodedField(_("classe ATC"), max_length=16)
    label = models.CharField(_("libellé"), max_length=255, blank=True)
    start = PartialDateField(_("date de début"))
    end = PartialDateField(_("date de fin"))


class FunctionalScore(Tracked):
    """ICF (CIF) functioning score (C15)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="functional_scores")
    date = models.DateField(_("date"), null=True, blank=True)
    icf = CodedField(_("code CIF avec qualificatif"), max_length=16)


class GenomicVariant(Tracked):
    """SDM-G: a reported variant (genomic cartouche)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="variants")
    diagnosis = models.ForeignKey(
        Diagnosis, models.SET_NULL, null=True, blank=True, related_name="variants"
    )
    hgvs = models.CharField(_("variant (HGVS)"), max_length=255)
    gene_symbol = models.CharField(_("gène"), max_length=32, blank=True)
    zygosity = models.CharField(_("zygotie"), max_length=24, blank=True)
    acmg_class = models.PositiveSmallIntegerField(_("classe ACMG"), null=True, blank=True)
    origin = models.CharField(_("origine"), max_length=16, blank=True)
    test_type = models.CharField(_("examen / pré-indication"), max_length=64, blank=True)


class DrugProgramme(Tracked):
    """SDM-T: follow-up of one drug for one patient (early access, post-registration)."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="drug_programmes")
    drug = models.CharField(_("médicament"), max_length=255)
    drug_code = CodedField(_("code du médicament"), max_length=32)
    prescription_context = models.CharField(_("contexte de prescription"), max_length=32)
    early_access_requested_on = models.DateField(_("date de demande d'accès précoce"), null=True, blank=True)
    access_modalities = models.TextField(_("modalités d'accès au traitement"), blank=True)


class DrugVisit(Tracked):
    """SDM-T: one follow-up visit under a drug programme."""

    programme = models.ForeignKey(DrugProgramme, models.CASCADE, related_name="visits")
    date = models.DateField(_("date de la visite"))
    patient_state = models.TextField(_("état du patient"), blank=True)
    weight_kg = models.DecimalField(_("poids (kg)"), max_digits=5, decimal_places=2, null=True, blank=True)
    height_cm = models.DecimalField(_("taille (cm)"), max_digits=5, decimal_places=1, null=True, blank=True)
    comorbidities = models.TextField(_("comorbidités"), blank=True)
    biology = models.TextField(_("paramètres biologiques d'intérêt"), blank=True)
    # Drug-specific criteria are agreed per product with the BNDMR: their shape varies by drug.
    custom_criteria = models.JSONField(_("critères personnalisés"), default=dict, blank=True)
    adverse_events = models.TextField(_("tolérance, effets indésirables"), blank=True)
    stopped = models.BooleanField(_("arrêt du traitement"), default=False)
    stop_reason = models.CharField(_("motif d'arrêt"), max_length=255, blank=True)


class NameKind(models.TextChoices):
    BIRTH = "naissance", _("nom de naissance")
    USED = "utilise", _("nom utilisé")
    GIVEN = "prenom", _("premier prénom de naissance")
    USED_GIVEN = "prenom_utilise", _("prénom utilisé")


class PatientName(models.Model):
    """Search keys of a patient's names, normalised and French-phonetic, one row per site that
    follows the patient, so that a search reads only the names of the user's sites.

    Kept in their own table (rebuilt by `bamara reindex_patients` after bulk loads) so that
    every write path, bulk ones included, stays independent of the search algorithm.
    """

    # Derived rows, deleted with their patient or site by the ORM (CASCADE): no foreign-key
    # constraint in the database, whose per-row checks were ~5 µs each, four per imported
    # patient (docs/imports.md, "Session 10").
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="name_keys", db_constraint=False)
    # Indexed by the two (site, ...) indexes below.
    site = models.ForeignKey(Site, models.CASCADE, related_name="+", null=True, db_index=False,
                             db_constraint=False)
    kind = models.CharField(max_length=16, choices=NameKind.choices)
    key = models.CharField(max_length=100)  # indexed by patientname_key (Meta)
    phonetic = models.CharField(max_length=32)

    class Meta:
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'KEY%' (ignored elsewhere).
            # The patient is in the index so that a search reads the keys alone (index-only
            # scans), not one heap page per matching name.
            models.Index(fields=["site", "key", "patient"], name="patientname_site_key_pat",
                         opclasses=["int8_ops", "varchar_pattern_ops", "int8_ops"]),
            models.Index(fields=["site", "phonetic", "patient"], name="patientname_site_phon_pat"),
            models.Index(fields=["phonetic"], name="patientname_phonetic"),  # equality only
            # Across sites, equality and prefix: one varchar_pattern_ops index serves both, not
            # the plain index db_index=True would add beside it on PostgreSQL.
            models.Index(fields=["key"], name="patientname_key", opclasses=["varchar_pattern_ops"]),
        ]
