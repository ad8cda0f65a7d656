"""What the intake keeps: every received document, and the credentials of the hospital systems."""

from __future__ import annotations

import zlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from bamara.organisations.models import Hospital


class Channel(models.TextChoices):
    HTTP = "http", _("point d'accès HTTPS")
    MAIL = "mail", _("messagerie MSSanté")
    CLI = "cli", _("ligne de commande")


class Status(models.TextChoices):
    ACCEPTED = "accepted", _("accepté")
    WARNINGS = "warnings", _("accepté avec avertissements")
    REJECTED = "rejected", _("rejeté")
    IGNORED = "ignored", _("ignoré (doublon ou version antérieure)")


class HospitalSystemCredential(models.Model):
    """One hospital system (an EHR, an interface engine) allowed to send documents for one
    hospital. Only a SHA-256 of the token is kept: tokens are 256-bit random strings, so a
    slow password hash would add nothing but latency to every request."""

    hospital = models.ForeignKey(Hospital, models.CASCADE, related_name="intake_credentials")
    name = models.CharField(_("système"), max_length=100)
    token_prefix = models.CharField(_("préfixe du jeton"), max_length=12, unique=True)
    token_hash = models.CharField(_("empreinte SHA-256 du jeton"), max_length=64)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta:
        verbose_name = _("accès d'un système hospitalier")
        verbose_name_plural = _("accès des systèmes hospitaliers")

    def __str__(self) -> str:
        return f"{self.name} ({self.hospital})"


class ReceivedDocument(models.Model):
    """One document as received (one per CDA document, several per XDM zip), whatever its
    fate. The bytes are kept zlib-compressed (CDA XML shrinks about tenfold)."""

    hospital = models.ForeignKey(Hospital, models.PROTECT, related_name="received_documents")
    credential = models.ForeignKey(
        HospitalSystemCredential, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices)
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True, db_index=True)
    filename = models.CharField(_("nom du fichier"), max_length=255, blank=True)
    message_id = models.CharField(_("message (Message-ID ou zip)"), max_length=255, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("taille (octets)"))
    content = models.BinaryField(_("document (zlib)"), blank=True)
    content_truncated = models.BooleanField(_("document tronqué à la conservation"), default=False)
    document_id = models.CharField(_("identifiant du document"), max_length=255, blank=True)
    set_id = models.CharField(_("setId"), max_length=128, blank=True, db_index=True)
    version_number = models.PositiveIntegerField(_("versionNumber"), null=True, blank=True)
    sdm_version = models.CharField(_("version du SDM-MR"), max_length=16, blank=True)
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, db_index=True)
    acknowledgement = models.JSONField(_("accusé de réception"), default=dict)
    patient = models.ForeignKey(
        "records.Patient", models.SET_NULL, null=True, blank=True, related_name="received_documents"
    )
    duration_ms = models.FloatField(_("durée de traitement (ms)"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["hospital", "set_id", "version_number"])]
        ordering = ["-received_at", "-id"]
        verbose_name = _("document reçu")
        verbose_name_plural = _("documents reçus")

    def __str__(self) -> str:
        return f"{self.document_id or self.sha256[:12]} ({self.get_status_display()})"

    def raw(self) -> bytes:
        """The document as received (up to the kept size)."""
        return zlib.decompress(bytes(self.content)) if self.content else b""
