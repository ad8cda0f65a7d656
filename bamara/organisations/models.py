"""Networks (filières), hospitals, rare-disease sites, users and their roles."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Filiere(models.Model):
    """One of the 23 French rare-disease health networks (filières de santé maladies rares)."""

    acronym = models.CharField(_("acronyme"), max_length=32, unique=True)
    name = models.CharField(_("nom"), max_length=255)
    scope = models.TextField(_("périmètre"), blank=True)
    website = models.URLField(_("site web"), blank=True)

    class Meta:
        ordering = ["acronym"]
        verbose_name = _("filière")

    def __str__(self) -> str:
        return self.acronym


class Hospital(models.Model):
    """A health establishment, identified by its FINESS numbers."""

    finess_et = models.CharField(_("FINESS géographique (ET)"), max_length=9, unique=True)
    finess_ej = models.CharField(_("FINESS juridique (EJ)"), max_length=9, blank=True, db_index=True)
    name = models.CharField(_("raison sociale"), max_length=255)
    short_name = models.CharField(_("nom court"), max_length=64, blank=True)
    category = models.CharField(_("catégorie d'établissement"), max_length=16, blank=True)
    commune_code = models.CharField(_("commune (code INSEE)"), max_length=5, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("établissement")

    def __str__(self) -> str:
        return self.short_name or self.name


class SiteKind(models.TextChoices):
    CRMR_COORDINATING = "CRMR_COO", _("CRMR – site coordonnateur")
    CRMR_CONSTITUTIVE = "CRMR_CST", _("CRMR – site constitutif")
    CCMR = "CCMR", _("Centre de compétence (CCMR)")
    CRC = "CRC", _("Centre de ressources et de compétences (CRC)")


class DeploymentMode(models.TextChoices):
    AUTONOMOUS = "autonome", _("mode autonome (saisie web)")
    CONNECTED = "connecte", _("mode connecté (DPI, CDA SDM-MR)")


class Site(models.Model):
    """A labelled rare-disease site: one care service of a hospital, in one filière."""

    code = models.CharField(_("code du site (annuaire BNDMR)"), max_length=16, unique=True)
    name = models.CharField(_("nom du centre"), max_length=255)
    centre_acronym = models.CharField(_("acronyme du centre"), max_length=64, blank=True)
    kind = models.CharField(_("type de site"), max_length=8, choices=SiteKind.choices)
    filiere = models.ForeignKey(Filiere, models.PROTECT, related_name="sites")
    hospital = models.ForeignKey(Hospital, models.PROTECT, related_name="sites")
    care_unit = models.CharField(_("service / unité de soins"), max_length=255, blank=True)
    coordinator = models.CharField(_("médecin coordonnateur"), max_length=255, blank=True)
    deployment_mode = models.CharField(
        _("mode de déploiement"),
        max_length=8,
        choices=DeploymentMode.choices,
        default=DeploymentMode.AUTONOMOUS,
    )
    convention_signed_on = models.DateField(_("convention signée le"), null=True, blank=True)
    active = models.BooleanField(_("actif"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("site maladies rares")
        verbose_name_plural = _("sites maladies rares")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Profession(models.TextChoices):
    PHYSICIAN = "medecin", _("Médecin")
    RESEARCH_ASSISTANT = "arc", _("Attaché(e) de recherche clinique")
    NURSE = "infirmier", _("Infirmier(ère)")
    GENETIC_COUNSELLOR = "conseiller_genetique", _("Conseiller(ère) en génétique")
    SECRETARY = "secretaire", _("Secrétaire médical(e)")
    DATA_MANAGER = "data_manager", _("Gestionnaire de données")
    OTHER = "autre", _("Autre")


class User(AbstractUser):
    """A person who logs in with an e-mail address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("adresse e-mail"), unique=True)
    rpps = models.CharField(_("RPPS"), max_length=11, blank=True)
    profession = models.CharField(
        _("profession"), max_length=32, choices=Profession.choices, blank=True
    )
    hospital = models.ForeignKey(
        Hospital, models.SET_NULL, null=True, blank=True, related_name="users"
    )
    is_national_team = models.BooleanField(
        _("équipe nationale"),
        default=False,
        help_text=_("Accès aux seuls agrégats, jamais aux données nominatives."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("utilisateur")

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class SiteRole(models.TextChoices):
    DATA_ENTRY = "saisie", _("Saisie (clinicien, ARC)")
    SITE_REFERENT = "referent", _("Référent du site")


class SiteMembership(models.Model):
    """A user's role at a site: the wall of nominative access."""

    user = models.ForeignKey(User, models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=16, choices=SiteRole.choices)
    active = models.BooleanField(_("active"), default=True)
    granted_by = models.ForeignKey(
        User, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(_("accordé le"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_membership_per_site")
        ]
        verbose_name = _("rattachement à un site")

    def __str__(self) -> str:
        return f"{self.user} @ {self.site.code} ({self.role})"


class HospitalManager(models.Model):
    """A hospital account manager: activates accounts and grants site roles in one hospital."""

    user = models.ForeignKey(User, models.CASCADE, related_name="managed_hospitals")
    hospital = models.ForeignKey(Hospital, models.CASCADE, related_name="managers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "hospital"], name="one_manager_row")
        ]
        verbose_name = _("gestionnaire de comptes")


class FiliereReferent(models.Model):
    """A filière referent: aggregate figures of the filière's sites only."""

    user = models.ForeignKey(User, models.CASCADE, related_name="filiere_roles")
    filiere = models.ForeignKey(Filiere, models.CASCADE, related_name="referents")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "filiere"], name="one_filiere_referent_row")
        ]
        verbose_name = _("référent de filière")


class SiteAccessGrant(models.Model):
    """A site referent lets a filière referent of the site's filière read the site's records.

    Rows are kept after revocation (who granted, who revoked, when): the wall only counts a
    grant that is not revoked, not past its end date, and whose user is still a referent of
    the site's filière (``bamara.organisations.access``).
    """

    site = models.ForeignKey(Site, models.CASCADE, related_name="access_grants")
    user = models.ForeignKey(User, models.CASCADE, related_name="access_grants")
    granted_by = models.ForeignKey(User, models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField(_("accordé le"), auto_now_add=True)
    ends_on = models.DateField(
        _("fin de l'accès"), null=True, blank=True,
        help_text=_("Dernier jour d'accès (vide : jusqu'à révocation)."),
    )
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["site", "user"], condition=models.Q(revoked_at__isnull=True),
                                    name="one_open_grant_per_site_and_user")
        ]
        verbose_name = _("accès d'un référent de filière aux dossiers d'un site")
        verbose_name_plural = _("accès des référents de filière aux dossiers des sites")

    def __str__(self) -> str:
        return f"{self.user} → {self.site.code}"

    def is_current(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.revoked_at is None and (self.ends_on is None or self.ends_on >= today)
