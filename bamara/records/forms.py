"""Form fields for SDM-MR values typed on the web: partial dates, codes with their system."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bamara.sdm import oids

from .fields import PartialDate

_FR_DATE = re.compile(r"^\s*(?:(\d{1,2})/)?(?:(\d{1,2})/)?(\d{4})\s*$")


def parse_french_partial_date(text: str) -> PartialDate:
    """JJ/MM/AAAA, MM/AAAA or AAAA (as typed in France), or ISO AAAA-MM-JJ."""
    text = text.strip()
    match = _FR_DATE.match(text)
    if match:
        first, second, year = match.groups()
        if first and second:
            return PartialDate(int(year), int(second), int(first))
        if first:
            return PartialDate(int(year), int(first))
        return PartialDate(int(year))
    return PartialDate.parse(text)


class PartialDateFormField(forms.Field):
    default_error_messages = {
        "invalid": _("Saisissez une date au format JJ/MM/AAAA, MM/AAAA ou AAAA."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("JJ/MM/AAAA, ou MM/AAAA ou AAAA si le jour ou le mois est inconnu"))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return str(value) if isinstance(value, PartialDate) else value

    def to_python(self, value):
        value = (value or "").strip() if isinstance(value, str) else value
        if value in self.empty_values:
            return None
        if isinstance(value, PartialDate):
            return value
        try:
            return parse_french_partial_date(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


SEX_CHOICES = [("F", _("Féminin")), ("M", _("Masculin")), ("UN", _("Inconnu"))]


class IdentityForm(forms.Form):
    """The identity traits typed when a patient is created (autonomous mode)."""

    birth_name = forms.CharField(label=_("Nom de naissance"), max_length=100)
    first_birth_given_name = forms.CharField(label=_("Premier prénom de naissance"), max_length=100)
    birth_given_names = forms.CharField(
        label=_("Prénoms de naissance"), max_length=255, required=False,
        help_text=_("Tous les prénoms de l'acte de naissance, séparés par des espaces"),
    )
    used_name = forms.CharField(label=_("Nom utilisé"), max_length=100, required=False)
    sex = forms.ChoiceField(label=_("Sexe"), choices=SEX_CHOICES)
    birth_date = PartialDateFormField(label=_("Date de naissance"))
    ipp = forms.CharField(label=_("IPP"), max_length=64, required=False,
                          help_text=_("Identifiant du patient dans l'établissement"))
    ins = forms.RegexField(label=_("Matricule INS"), regex=r"^\d[0-9AB]\d{11}(\d{2})?$",
                           required=False, max_length=15,
                           error_messages={"invalid": _("Le matricule INS compte 13 ou 15 caractères.")})

    def clean_birth_name(self) -> str:
        return self.cleaned_data["birth_name"].strip().upper()

    def clean_first_birth_given_name(self) -> str:
        return self.cleaned_data["first_birth_given_name"].strip()

    def apply(self, patient) -> None:
        data = self.cleaned_data
        for name in ("birth_name", "first_birth_given_name", "birth_given_names", "used_name",
                     "ipp", "ins"):
            setattr(patient, name, data[name])
        patient.sex_code, patient.sex_system = data["sex"], oids.HL7_GENDER
        patient.birth_date_partial = data["birth_date"]
