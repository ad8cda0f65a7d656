"""Self-registration requests, decided by the hospital's account managers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from bamara.organisations.models import Hospital, Profession, Site, User

rpps_validator = RegexValidator(
    r"^\d{11}$", _("Le numéro RPPS compte exactement 11 chiffres."), code="rpps"
)


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    ACTIVATED = "activated", _("validée")
    REFUSED = "refused", _("refusée")


class RegistrationRequest(models.Model):
    """A person's request for an account at one hospital, and the manager's decision."""

    user = models.OneToOneField(User, models.CASCADE, related_name="registration_request")
    hospital = models.ForeignKey(
        Hospital, models.PROTECT, related_name="registration_requests",
        verbose_name=_("établissement"),
    )
    sites = models.ManyToManyField(
        Site, related_name="registration_requests", verbose_name=_("sites demandés")
    )
    profession = models.CharField(_("profession"), max_length=32, choices=Profession.choices)
    rpps = models.CharField(_("RPPS"), max_length=11, blank=True, validators=[rpps_validator])
    message = models.TextField(_("message au gestionnaire"), blank=True)
    status = models.CharField(
        _("statut"), max_length=16, choices=RegistrationStatus.choices,
        default=RegistrationStatus.PENDING, db_index=True,
    )
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    # Without proof that the requester reads the mailbox, anyone could ask for an account in
    # a colleague's name: the manager may activate only confirmed addresses.
    email_confirmed_at = models.DateTimeField(_("adresse e-mail confirmée le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("décidée par"),
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    refusal_reason = models.TextField(_("motif du refus"), blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("demande d'inscription")
        verbose_name_plural = _("demandes d'inscription")

    def __str__(self) -> str:
        return f"{self.user.email} → {self.hospital} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == RegistrationStatus.PENDING

    def set_sites(self, sites: list[Site]) -> None:
        # A many-to-many cannot carry the constraint in the database: check it here.
        if any(site.hospital_id != self.hospital_id for site in sites):
            raise ValidationError(_("Les sites demandés doivent appartenir à l'établissement choisi."))
        self.sites.set(sites)
