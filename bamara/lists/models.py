"""Saved filters of the patient list, per user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedFilter(models.Model):
    """A named set of list filters (the query string of the list page), private to its user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("nom"), max_length=100)
    query = models.CharField(_("filtres"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="one_saved_filter_name_per_user")]
        verbose_name = _("filtre enregistré")
        verbose_name_plural = _("filtres enregistrés")
        # Granted to a user or group that may only download pseudonymised data (e.g. a data
        # manager working for a research study): the nominative variant is then refused.
        permissions = [("pseudonymised_only", _("téléchargements pseudonymisés uniquement"))]

    def __str__(self) -> str:
        return self.name
